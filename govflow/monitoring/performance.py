"""Model performance in production: expected accuracy before labels exist, realized after.

Expected accuracy. A calibration map is fitted on the model's evaluation rows, pairs of
(confidence, was the prediction right); it turns each production confidence into a
probability of being right, and their mean is the expected accuracy (what the batch would
score if the model is as calibrated in production as on its evaluation). Methods:

- ``isotonic`` (default): ``sklearn.isotonic.IsotonicRegression(y_min=0, y_max=1,
  out_of_bounds="clip")``: monotone, no shape assumed; wants a few hundred evaluation rows.
- ``platt``: ``sklearn.linear_model.LogisticRegression`` (lbfgs, its default L2 with C=1,
  which keeps the fit finite when an evaluation has no wrong prediction near some
  confidence) on the confidence as the only feature: sigmoid(a * confidence + b).

A fitted ``Calibration`` is plain data: isotonic keeps sklearn's thresholds and applies them
by linear interpolation with clipping, exactly as ``IsotonicRegression.predict`` does;
Platt keeps ``a`` and ``b``. So it can be stored as JSON and applied without scikit-learn;
the tests hold both equal to scikit-learn's own predictions. Rows without a confidence
(error rows, models that give none) are left out of the fit and of the mean, and counted.

Realized accuracy. Of the rows with a ground-truth label, the share whose predicted label
equals it (an error row with a label counts as wrong), with a Wilson score interval
(``scipy.stats.binomtest(k, n).proportion_ci(level, method="wilson")``, no continuity
correction), the interval that behaves at small n and near 0 or 1.

Verdicts: expected accuracy below ``expected_min`` is ``below``. Realized accuracy on
fewer labeled rows than ``min_labels`` is ``unknown``; otherwise ``below`` when the point
estimate is under ``realized_min``, and ``is_certain`` says whether the whole interval is.
"""

from __future__ import annotations

import enum
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict

from govflow.errors import InputError
from govflow.monitoring.config import AccuracySettings

__all__ = [
    "MIN_CALIBRATION_ROWS",
    "AccuracyStatus",
    "Calibration",
    "ExpectedAccuracy",
    "RealizedAccuracy",
    "expected_accuracy",
    "fit_calibration",
    "realized_accuracy",
]

MIN_CALIBRATION_ROWS = 10


class AccuracyStatus(enum.StrEnum):
    """Whether an accuracy meets its floor, or cannot be judged."""

    OK = "ok"
    BELOW = "below"
    UNKNOWN = "unknown"


class Calibration(BaseModel):
    """A fitted map from confidence to probability of being right, as plain data."""

    model_config = ConfigDict(frozen=True)

    method: Literal["isotonic", "platt"]
    x: list[float] = []
    y: list[float] = []
    a: float | None = None
    b: float | None = None
    n_rows: int
    evaluation_accuracy: float

    def apply(self, confidence: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Return the calibrated probability of being right for each confidence."""
        values = np.asarray(confidence, dtype=np.float64)
        if self.method == "isotonic":
            return np.interp(values, self.x, self.y)
        assert self.a is not None and self.b is not None
        return 1.0 / (1.0 + np.exp(-(self.a * values + self.b)))


class ExpectedAccuracy(BaseModel):
    """The mean calibrated confidence of a batch, against its floor."""

    model_config = ConfigDict(frozen=True)

    value: float
    minimum: float
    status: AccuracyStatus
    n_rows: int
    n_without_confidence: int
    method: str


class RealizedAccuracy(BaseModel):
    """Accuracy on the labeled rows with its interval, against its floor."""

    model_config = ConfigDict(frozen=True)

    n_labeled: int
    n_correct: int
    accuracy: float | None
    ci_low: float | None
    ci_high: float | None
    confidence_level: float
    minimum: float
    status: AccuracyStatus
    is_certain: bool


def fit_calibration(
    confidence: npt.ArrayLike,
    correct: npt.ArrayLike,
    *,
    method: Literal["isotonic", "platt"] = "isotonic",
) -> Calibration:
    """Fit a calibration map on evaluation rows: confidences and whether each was right."""
    conf = np.asarray(confidence, dtype=np.float64)
    right = np.asarray(correct)
    if conf.shape != right.shape:
        raise InputError(
            f"calibration needs one correctness per confidence, got {conf.size} and {right.size}"
        )
    if right.dtype != np.bool_:
        raise InputError(f"calibration needs correctness as booleans, got {right.dtype}")
    usable = ~np.isnan(conf)
    conf, right = conf[usable], right[usable]
    if conf.size < MIN_CALIBRATION_ROWS:
        raise InputError(
            f"calibration needs at least {MIN_CALIBRATION_ROWS} evaluation rows with a "
            f"confidence, got {conf.size}"
        )
    if ((conf < 0) | (conf > 1)).any():
        raise InputError("calibration confidences must lie within [0, 1]")
    accuracy = float(right.mean())
    if method == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
        model.fit(conf, right.astype(np.float64))
        return Calibration(
            method="isotonic",
            x=model.X_thresholds_.tolist(),
            y=model.y_thresholds_.tolist(),
            n_rows=conf.size,
            evaluation_accuracy=accuracy,
        )
    if right.all() or not right.any():
        raise InputError(
            "Platt calibration needs both right and wrong predictions in the evaluation "
            f"(all {conf.size} were {'right' if right.all() else 'wrong'})",
            hint="use isotonic calibration",
        )
    from sklearn.linear_model import LogisticRegression

    platt = LogisticRegression().fit(conf.reshape(-1, 1), right)
    return Calibration(
        method="platt",
        a=float(platt.coef_[0, 0]),
        b=float(platt.intercept_[0]),
        n_rows=conf.size,
        evaluation_accuracy=accuracy,
    )


def expected_accuracy(
    calibration: Calibration, confidence: npt.ArrayLike, *, minimum: float
) -> ExpectedAccuracy:
    """Return the batch's expected accuracy: the mean calibrated confidence."""
    conf = np.asarray(confidence, dtype=np.float64)
    usable = ~np.isnan(conf)
    if not usable.any():
        raise InputError(
            f"the batch has no confidences ({conf.size} rows): expected accuracy needs them"
        )
    value = float(calibration.apply(conf[usable]).mean())
    return ExpectedAccuracy(
        value=value,
        minimum=minimum,
        status=AccuracyStatus.BELOW if value < minimum else AccuracyStatus.OK,
        n_rows=int(usable.sum()),
        n_without_confidence=int((~usable).sum()),
        method=calibration.method,
    )


def realized_accuracy(
    predicted: pd.Series, truth: pd.Series, *, settings: AccuracySettings
) -> RealizedAccuracy:
    """Return accuracy on the rows with a ground-truth label, with a Wilson interval."""
    if len(predicted) != len(truth):
        raise InputError(f"{len(predicted)} predictions but {len(truth)} ground-truth labels")
    labeled = truth.notna().to_numpy()
    n = int(labeled.sum())
    hits = predicted[labeled].to_numpy(dtype=object) == truth[labeled].to_numpy(dtype=object)
    k = int(np.sum(hits))
    if n == 0:
        return RealizedAccuracy(
            n_labeled=0,
            n_correct=0,
            accuracy=None,
            ci_low=None,
            ci_high=None,
            confidence_level=settings.confidence_level,
            minimum=settings.realized_min,
            status=AccuracyStatus.UNKNOWN,
            is_certain=False,
        )
    from scipy.stats import binomtest

    interval = binomtest(k, n).proportion_ci(settings.confidence_level, method="wilson")
    accuracy = k / n
    if n < settings.min_labels:
        status = AccuracyStatus.UNKNOWN
    else:
        status = AccuracyStatus.BELOW if accuracy < settings.realized_min else AccuracyStatus.OK
    certain = status is not AccuracyStatus.UNKNOWN and (
        interval.high < settings.realized_min
        if status is AccuracyStatus.BELOW
        else interval.low >= settings.realized_min
    )
    return RealizedAccuracy(
        n_labeled=n,
        n_correct=k,
        accuracy=accuracy,
        ci_low=float(interval.low),
        ci_high=float(interval.high),
        confidence_level=settings.confidence_level,
        minimum=settings.realized_min,
        status=status,
        is_certain=bool(certain),
    )
