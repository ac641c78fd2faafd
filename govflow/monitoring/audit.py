"""Dataset audits: a stratified, seeded sample of a labeled version, judged by specialists.

``audit_sample`` draws up to ``per_label`` rows of each recorded label (seeded, so the same
version and seed always give the same sample); ``audit_request`` puts them to specialists
(tier 2) at a label-audit gate, each with its recorded label shown; ``label_error_rate``
counts an item as wrong when the specialist's label differs from the recorded one, over the
items they judged (``unjudged`` items, and items nobody answered by the deadline, are not
counted), with a Wilson interval (``scipy.stats.binomtest(...).proportion_ci``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from govflow.domain.review import GateResult, Outcome, ReviewItem, ReviewKind, ReviewRequest
from govflow.errors import InputError

__all__ = ["AuditFinding", "audit_request", "audit_sample", "label_error_rate"]

UNJUDGED = "unjudged"


def audit_sample(labels: pd.Series, *, per_label: int, seed: int) -> list[int]:
    """Return up to ``per_label`` row positions per label (labeled rows only), ascending."""
    if per_label < 1:
        raise InputError(f"per_label must be at least 1, got {per_label}")
    values = labels.astype("object")
    if values.isna().all():
        raise InputError("the version has no labeled rows to audit")
    rng = np.random.default_rng(seed)
    chosen: list[int] = []
    for label in sorted(values.dropna().unique(), key=str):
        positions = np.flatnonzero((values == label).to_numpy())
        take = min(per_label, positions.size)
        chosen.extend(int(p) for p in rng.choice(positions, size=take, replace=False))
    return sorted(chosen)


def audit_request(
    frame: pd.DataFrame,
    positions: Sequence[int],
    *,
    version_id: str,
    label_set: Sequence[str],
    text_column: str,
    label_column: str,
    specialists: Sequence[str],
    deadline_hours: float,
) -> ReviewRequest:
    """Return the label-audit gate for the sampled rows (tier 2: specialists and leads)."""
    items = [
        ReviewItem(
            key=f"row-{position}",
            payload={
                "text": str(frame.iloc[position][text_column]),
                "recorded_label": str(frame.iloc[position][label_column]),
            },
            reasons=["audit sample"],
            suggestion=str(frame.iloc[position][label_column]),
        )
        for position in positions
    ]
    return ReviewRequest(
        name=f"label-audit-{version_id}",
        kind=ReviewKind.LABEL_AUDIT,
        tier=2,
        labels=tuple(label_set),
        items=items,
        assignees=list(specialists),
        deadline=timedelta(hours=deadline_hours),
        dataset_version_id=version_id,
    )


class AuditFinding(BaseModel):
    """The label error rate of an audited version, with its interval, against the tolerance."""

    model_config = ConfigDict(frozen=True)

    n_sampled: int
    n_judged: int
    n_wrong: int
    error_rate: float | None
    ci_low: float | None
    ci_high: float | None
    confidence_level: float
    tolerance: float
    is_above_tolerance: bool
    wrong: list[dict[str, str]]  # item, recorded label, specialist's label


def label_error_rate(
    gate: GateResult,
    recorded: dict[str, str],
    *,
    tolerance: float,
    confidence_level: float = 0.95,
) -> AuditFinding:
    """Count the specialists' disagreements with the recorded labels (see the module doc).

    Above tolerance means the error rate's point estimate exceeds ``tolerance``.
    """
    from scipy.stats import binomtest

    judged = [d for d in gate.decisions if d.outcome is Outcome.DECIDED and d.choice != UNJUDGED]
    wrong = [d for d in judged if d.choice != recorded[d.item_key]]
    n, k = len(judged), len(wrong)
    if n:
        interval = binomtest(k, n).proportion_ci(confidence_level, method="wilson")
        rate, low, high = k / n, float(interval.low), float(interval.high)
    else:
        rate = low = high = None
    return AuditFinding(
        n_sampled=len(gate.decisions),
        n_judged=n,
        n_wrong=k,
        error_rate=rate,
        ci_low=low,
        ci_high=high,
        confidence_level=confidence_level,
        tolerance=tolerance,
        is_above_tolerance=rate is not None and rate > tolerance,
        wrong=[
            {"item": d.item_key, "recorded": recorded[d.item_key], "specialist": d.choice}
            for d in wrong
        ],
    )
