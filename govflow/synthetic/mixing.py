"""Build a mixed training frame from organic rows and accepted synthetic rows, under caps.

``mix`` is the only way to a ``mixed`` version. Two caps from the plan:

- global: synthetic rows at most ``global_share`` of all rows (default 20%);
- per class: synthetic rows of a class at most ``class_share`` of that class (default 50%).

A cap that would be exceeded raises ``CapExceeded`` with one line per cap, e.g.
``billing: 60 synthetic of 110 rows = 54.5% above the cap 50%``, unless a lead's waiver
that has not expired covers the mix; the waiver is then recorded with the mixed version.
Synthetic rows are all in the train split: they never reach a test or evaluation slice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from govflow.errors import CapExceeded
from govflow.synthetic.plan import Caps

__all__ = ["CapWaiver", "check_caps", "mix"]


@dataclass(frozen=True)
class CapWaiver:
    """A lead's decision to exceed a cap for one mix, until ``expires_at``."""

    reviewer_id: str
    reason: str
    expires_at: datetime
    review_task_id: str | None = None

    def is_valid(self, now: datetime) -> bool:
        return now < self.expires_at


def _share(part: int, whole: int) -> str:
    return f"{part} synthetic of {whole} rows = {100.0 * part / whole:.1f}%"


def check_caps(organic_labels: pd.Series, synthetic_labels: pd.Series, caps: Caps) -> list[str]:
    """Return one line per cap the mix would exceed (empty when within every cap)."""
    violations = []
    total = len(organic_labels) + len(synthetic_labels)
    if total and len(synthetic_labels) / total > caps.global_share + 1e-12:
        violations.append(
            f"all classes: {_share(len(synthetic_labels), total)} above the cap "
            f"{100 * caps.global_share:g}%"
        )
    organic_counts = organic_labels.value_counts()
    for label, count in sorted(synthetic_labels.value_counts().items()):
        whole = int(count) + int(organic_counts.get(label, 0))
        if count / whole > caps.class_share + 1e-12:
            violations.append(
                f"{label}: {_share(int(count), whole)} above the cap {100 * caps.class_share:g}%"
            )
    return violations


def mix(
    organic: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    caps: Caps,
    waiver: CapWaiver | None = None,
    now: datetime,
) -> pd.DataFrame:
    """Return organic then synthetic rows with an ``origin`` column, or raise ``CapExceeded``."""
    violations = check_caps(organic["label"], synthetic["label"], caps)
    if violations and (waiver is None or not waiver.is_valid(now)):
        raise CapExceeded(violations)
    left = organic.assign(origin="organic")
    right = synthetic.assign(origin="synthetic", split="train")
    return pd.concat([left, right], ignore_index=True)
