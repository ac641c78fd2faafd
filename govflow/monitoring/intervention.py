"""What an intervention needs from the evaluation suite: the production slice as edge cases.

The production slice is the affected batch's rows whose label is known (late ground truth,
or a reviewer's approval or correction), added to the suite's edge cases with the origin
``production:<version>``; for an intervention an audit opened, the items the specialists
found mislabeled, with their labels (origin ``audit:<version>``). The extended suite is
recorded as a new suite version, the one the production model is then re-evaluated on and
signed off against.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from govflow.errors import InputError
from govflow.evaluation.suites import EdgeCase
from govflow.ledger.engine import Ledger
from govflow.monitoring.config import RecordColumns

__all__ = ["add_production_slice", "audit_cases", "production_cases"]


def production_cases(
    frame: pd.DataFrame,
    *,
    record: RecordColumns,
    label_set: Sequence[str],
    origin: str,
) -> list[EdgeCase]:
    """Return the rows with a known label in ``label_set`` as edge cases, one per text.

    A text seen with two different labels is left out: the suite cannot expect both.
    """
    if record.label not in frame.columns:
        return []
    labels: dict[str, set[str]] = {}
    for text, label in zip(frame[record.text], frame[record.label], strict=True):
        if isinstance(text, str) and text.strip() and isinstance(label, str) and label in label_set:
            labels.setdefault(text, set()).add(label)
    return [
        EdgeCase(text=text, label=next(iter(found)), origin=origin, note="production slice")
        for text, found in labels.items()
        if len(found) == 1
    ]


def audit_cases(
    frame: pd.DataFrame,
    wrong: Sequence[dict[str, str]],
    *,
    text_column: str,
    label_set: Sequence[str],
    origin: str,
) -> list[EdgeCase]:
    """Return the items an audit found mislabeled, with the specialists' labels, as edge cases."""
    cases = []
    for found in wrong:
        label = found["specialist"]
        text = frame.iloc[int(found["item"].removeprefix("row-"))][text_column]
        if label in label_set and isinstance(text, str) and text.strip():
            cases.append(EdgeCase(text=text, label=label, origin=origin, note="label audit"))
    return cases


def add_production_slice(
    *, ledger: Ledger, suite_path: Path, cases: Sequence[EdgeCase], reason: str, actor: str
) -> tuple[str, str]:
    """Record the suite version that holds ``cases``; return its id and content hash."""
    from govflow.evaluation.execute import resolve_suite_version
    from govflow.ledger.evaluations import register_suite_version

    if not cases:
        raise InputError(
            "the affected slice has no row with a known label: nothing to add to the suite",
            hint="wait for reviewers' corrections or late ground truth, then run intervene again",
        )
    current, _ = resolve_suite_version(ledger=ledger, path=suite_path, authors=[], actor=actor)
    extended = current.with_edge_cases(cases)
    with ledger.session() as session:
        recorded, _ = register_suite_version(
            session=session,
            project=current.suite.project,
            content=extended.content(),
            content_hash_=extended.content_hash,
            parent_hash=None if extended is current else current.content_hash,
            reason=reason,
            authors=[],
            actor=actor,
        )
        return recorded.id, recorded.content_hash
