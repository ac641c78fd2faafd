"""Pre-processing as a stage: what the next version keeps and what the lineage records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from govflow.preprocess.pipeline import preprocess_frame

__all__ = ["PreprocessedBatch", "StepCounts", "preprocess_batch", "step_counts"]

# Columns the pre-processing step adds that describe rows rather than belong to them.
_POSITION_COLUMNS = ("duplicate_of", "near_duplicate_of")


@dataclass(frozen=True)
class PreprocessedBatch:
    """The rows that go on (exact duplicates removed), and the lineage of what was done."""

    frame: pd.DataFrame
    rows_in: int
    exact_duplicates_removed: int
    steps: list[dict[str, Any]]


def preprocess_batch(
    frame: pd.DataFrame, *, text_column: str, near_dup_threshold: float
) -> PreprocessedBatch:
    """Normalize, redact, drop exact duplicates (counted) and mark near-duplicates (kept)."""
    result = preprocess_frame(
        frame.reset_index(drop=True), text_column, near_dup_threshold=near_dup_threshold
    )
    out = result.frame
    keep = ~out["is_duplicate"].astype(bool).to_numpy()
    # Positions only mean something inside this batch: store the content hash they point to.
    hashes = out["content_hash"].astype(object).to_numpy()
    for column in _POSITION_COLUMNS:
        positions = out[column].to_numpy()
        out[column] = pd.array([hashes[p] if p >= 0 else None for p in positions], dtype="string")
    removed = int((~keep).sum())
    steps = [
        *result.steps,
        {"step": "drop_exact_duplicates", "removed": removed, "kept": int(keep.sum())},
    ]
    return PreprocessedBatch(
        frame=out[keep].reset_index(drop=True),
        rows_in=len(frame),
        exact_duplicates_removed=removed,
        steps=steps,
    )


@dataclass(frozen=True)
class StepCounts:
    """What the pre-processing lineage steps counted, for reports and flow results."""

    near_duplicates_marked: int
    redactions: dict[str, int]


def step_counts(steps: list[dict[str, Any]]) -> StepCounts:
    """Read the near-duplicate and redaction counts back from a batch's lineage steps."""
    by_name = {step["step"]: step for step in steps}
    redaction = by_name.get("redact_pii", {})
    return StepCounts(
        near_duplicates_marked=int(by_name.get("near_duplicates", {}).get("marked", 0)),
        redactions={k: int(redaction.get(k, 0)) for k in ("emails", "phones", "cards")},
    )
