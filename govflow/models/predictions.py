"""What every model returns for a batch, the interface every adapter implements, and the
error-rate check an evaluation applies.

A row either has a label (and a confidence in [0, 1], NaN when the model gives none) or an
error message saying why it has none. An unparseable answer, a timeout or a label outside
the label set is an error row, never a wrong label: evaluations count them apart.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict

from govflow.errors import ErrorRateExceeded

__all__ = [
    "AdapterInfo",
    "ModelAdapter",
    "Predictions",
    "RowResult",
    "check_error_rate",
]

ObjectArray = npt.NDArray[np.object_]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class RowResult:
    """One row's outcome while an adapter assembles its ``Predictions``."""

    label: str | None
    confidence: float = math.nan
    error: str | None = None

    @classmethod
    def failed(cls, error: str) -> RowResult:
        """Return an error row: no label, confidence missing."""
        return cls(label=None, confidence=math.nan, error=error)


@dataclass(frozen=True, eq=False)
class Predictions:
    """Per-row labels (None on error rows), confidences (NaN = missing) and errors."""

    labels: ObjectArray
    confidence: FloatArray
    errors: ObjectArray

    def __post_init__(self) -> None:
        n = len(self.labels)
        if len(self.confidence) != n or len(self.errors) != n:
            raise ValueError(
                f"labels, confidence and errors differ in length: "
                f"{n}, {len(self.confidence)}, {len(self.errors)}"
            )
        for i, (label, conf, error) in enumerate(
            zip(self.labels, self.confidence, self.errors, strict=True)
        ):
            if error is None and not isinstance(label, str):
                raise ValueError(f"row {i} has neither a label nor an error")
            if error is not None and (label is not None or not math.isnan(conf)):
                raise ValueError(f"row {i} is an error row but carries a label or confidence")
            if not math.isnan(conf) and not 0.0 <= conf <= 1.0:
                raise ValueError(f"row {i} has confidence {conf} outside [0, 1]")

    @classmethod
    def from_rows(cls, rows: Iterable[RowResult]) -> Predictions:
        """Assemble predictions from per-row results, in order."""
        rows = list(rows)
        labels = np.empty(len(rows), dtype=object)
        errors = np.empty(len(rows), dtype=object)
        labels[:] = [row.label for row in rows]
        errors[:] = [row.error for row in rows]
        confidence = np.array([row.confidence for row in rows], dtype=np.float64)
        return cls(labels=labels, confidence=confidence, errors=errors)

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def is_error(self) -> npt.NDArray[np.bool_]:
        """True for rows without a label."""
        return np.array([error is not None for error in self.errors], dtype=bool)

    @property
    def n_errors(self) -> int:
        """Return the number of error rows."""
        return int(self.is_error.sum())

    @property
    def error_rate(self) -> float:
        """Return the share of error rows; 0.0 for an empty batch."""
        return self.n_errors / len(self) if len(self) else 0.0

    def error_reasons(self) -> dict[str, int]:
        """Count error rows by message, most frequent first (ties by message)."""
        counts = Counter(error for error in self.errors if error is not None)
        return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))

    def to_frame(self) -> pd.DataFrame:
        """Return one row per input: ``label`` and ``error`` (str or missing), ``confidence``."""
        return pd.DataFrame(
            {
                "label": pd.array(list(self.labels), dtype="string"),
                "confidence": self.confidence,
                "error": pd.array(list(self.errors), dtype="string"),
            }
        )


def check_error_rate(predictions: Predictions, limit: float) -> None:
    """Raise ``ErrorRateExceeded`` when more than ``limit`` of the rows are error rows."""
    if not 0.0 <= limit <= 1.0:
        raise ValueError(f"limit must be within [0, 1], got {limit}")
    if predictions.error_rate > limit:
        raise ErrorRateExceeded(
            n_errors=predictions.n_errors,
            n_rows=len(predictions),
            limit=limit,
            reasons=predictions.error_reasons(),
        )


class AdapterInfo(BaseModel):
    """What produced a prediction, for lineage: adapter kind, its code version, parameters."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    adapter: str
    adapter_version: str
    params: dict[str, Any]


@runtime_checkable
class ModelAdapter(Protocol):
    """Maps a batch of texts to one label and confidence per row."""

    @property
    def label_set(self) -> tuple[str, ...]:
        """The labels this model may answer with."""
        ...

    def describe(self) -> AdapterInfo:
        """Return the adapter kind, version and parameters for lineage."""
        ...

    def predict(self, texts: Sequence[str]) -> Predictions:
        """Return one row per text, in order; failures become error rows."""
        ...
