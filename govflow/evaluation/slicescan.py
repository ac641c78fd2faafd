"""Slice scan: look for groups of examples on which the candidate is clearly worse than overall.

Candidate slices: each true class (``label=billing``), each quartile bucket of text length
(``length Q1 (<= 42 chars)``), and each value of ``source`` and ``origin`` (organic or
synthetic) when the frame has those columns. Rows with an adapter error are left out, as in
accuracy. A slice under ``min_examples`` rows is skipped (and listed with its size), and so is
a slice holding every row, which has nothing to be compared with.

Each tested slice is compared with the rest of the rows by a two-sided Fisher exact test on
the 2x2 table (slice or rest, correct or wrong; ``scipy.stats.fisher_exact``); the p-values
of all tested slices are adjusted together by Benjamini-Hochberg
(``scipy.stats.false_discovery_control``). A slice is flagged when its accuracy is more than
``minor_gap`` relatively below overall, (overall - slice) / overall, and its adjusted p-value
is below ``alpha``; ``major`` when the relative gap is above ``major_gap``.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from govflow.errors import InputError

__all__ = ["ScannedSlice", "Severity", "SliceScan", "scan_slices"]

_REQUIRED = ("text", "label", "predicted")
_GROUP_COLUMNS = ("source", "origin")


class Severity(enum.StrEnum):
    """How far below overall a flagged slice is; ``none`` when not flagged."""

    NONE = "none"
    MINOR = "minor"
    MAJOR = "major"


@dataclass(frozen=True)
class ScannedSlice:
    """One tested slice: size, accuracy, relative gap, p-values and severity."""

    name: str
    feature: str
    n: int
    correct: int
    accuracy: float
    relative_gap: float
    p_value: float
    adjusted_p: float
    severity: Severity

    @property
    def flagged(self) -> bool:
        return self.severity != Severity.NONE


@dataclass(frozen=True)
class SliceScan:
    """Every tested slice, the skipped ones with their sizes, and the overall accuracy."""

    n: int
    excluded_errors: int
    overall_accuracy: float
    tested: tuple[ScannedSlice, ...]
    skipped: tuple[tuple[str, int], ...]

    @property
    def flagged(self) -> tuple[ScannedSlice, ...]:
        """The flagged slices, major first, then by relative gap."""
        found = [s for s in self.tested if s.flagged]
        return tuple(sorted(found, key=lambda s: (s.severity != Severity.MAJOR, -s.relative_gap)))


def scan_slices(
    frame: pd.DataFrame,
    *,
    min_examples: int = 20,
    minor_gap: float = 0.05,
    major_gap: float = 0.10,
    alpha: float = 0.05,
) -> SliceScan:
    """Scan ``frame`` (``text``, true ``label``, ``predicted``; optional ``error``,
    ``source``, ``origin``) for slices where accuracy is significantly below overall."""
    from scipy.stats import false_discovery_control, fisher_exact

    missing = [c for c in _REQUIRED if c not in frame.columns]
    if missing:
        raise InputError(
            f"slice scan needs columns {', '.join(_REQUIRED)}; missing: {', '.join(missing)}"
        )
    errors = frame["predicted"].isna().to_numpy()
    if "error" in frame.columns:
        message = frame["error"].astype("object")
        errors = errors | (message.notna().to_numpy() & (message.astype("str") != "").to_numpy())
    scored = frame.loc[~errors]
    correct = (scored["predicted"].astype("object") == scored["label"].astype("object")).to_numpy()
    n, hits = int(correct.size), int(correct.sum())
    overall = hits / n if n else math.nan

    tested: list[tuple[str, str, int, int, float]] = []
    skipped: list[tuple[str, int]] = []
    for name, feature, mask in _candidates(scored):
        size = int(mask.sum())
        if size < min_examples or size == n:
            skipped.append((name, size))
            continue
        right = int(correct[mask].sum())
        rest_right = hits - right
        table = [[right, size - right], [rest_right, (n - size) - rest_right]]
        p_value = float(fisher_exact(table, alternative="two-sided").pvalue)
        tested.append((name, feature, size, right, p_value))

    adjusted = (
        false_discovery_control([t[4] for t in tested], method="bh") if tested else np.array([])
    )
    results = []
    for (name, feature, size, right, p_value), adjusted_p in zip(tested, adjusted, strict=True):
        accuracy = right / size
        gap = (overall - accuracy) / overall if overall > 0 else math.nan
        severity = Severity.NONE
        if gap > minor_gap and adjusted_p < alpha:
            severity = Severity.MAJOR if gap > major_gap else Severity.MINOR
        results.append(
            ScannedSlice(
                name, feature, size, right, accuracy, gap, p_value, float(adjusted_p), severity
            )
        )
    return SliceScan(
        n=n,
        excluded_errors=int(errors.sum()),
        overall_accuracy=overall,
        tested=tuple(results),
        skipped=tuple(skipped),
    )


def _candidates(scored: pd.DataFrame) -> Iterator[tuple[str, str, np.ndarray]]:
    """Yield (name, feature, row mask) for every candidate slice."""
    labels = scored["label"].astype("object")
    for value in sorted(labels.dropna().unique(), key=str):
        yield f"label={value}", "label", (labels == value).to_numpy()
    lengths = scored["text"].astype("object").fillna("").map(len).to_numpy()
    if lengths.size:
        yield from _length_buckets(lengths)
    for column in _GROUP_COLUMNS:
        if column in scored.columns:
            values = scored[column].astype("object")
            for value in sorted(values.dropna().unique(), key=str):
                yield f"{column}={value}", column, (values == value).to_numpy()


def _length_buckets(lengths: np.ndarray) -> Iterator[tuple[str, str, np.ndarray]]:
    # Lengths are whole characters, so (low, high] holds floor(low) + 1 .. floor(high).
    q1, q2, q3 = (math.floor(q) for q in np.quantile(lengths, [0.25, 0.5, 0.75]))
    bounds = [(None, q1), (q1, q2), (q2, q3), (q3, None)]
    for number, (low, high) in enumerate(bounds, start=1):
        if low is None:
            mask, span = lengths <= high, f"<= {high}"
        elif high is None:
            mask, span = lengths > low, f"> {low}"
        else:
            mask, span = (lengths > low) & (lengths <= high), f"{low + 1}-{high}"
        yield f"length Q{number} ({span} chars)", "length", mask
