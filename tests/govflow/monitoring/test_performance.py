"""Expected accuracy from calibrated confidences, realized accuracy with its interval."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from statsmodels.stats.proportion import proportion_confint

from govflow.errors import InputError
from govflow.monitoring.config import AccuracySettings
from govflow.monitoring.performance import (
    AccuracyStatus,
    Calibration,
    expected_accuracy,
    fit_calibration,
    realized_accuracy,
)

SETTINGS = AccuracySettings(expected_min=0.8, realized_min=0.8, min_labels=30)


def evaluation(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Return confidences and correctness of an overconfident model (right with p = c**2)."""
    rng = np.random.default_rng(seed)
    confidence = rng.uniform(0.3, 1.0, n)
    correct = rng.random(n) < confidence**2
    return confidence, correct


def test_isotonic_calibration_applies_like_scikit_learn_including_out_of_range() -> None:
    confidence, correct = evaluation()
    calibration = fit_calibration(confidence, correct, method="isotonic")
    reference = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(
        confidence, correct.astype(float)
    )
    grid = np.linspace(0.0, 1.0, 1001)  # below and above the fitted range too
    assert np.allclose(calibration.apply(grid), reference.predict(grid), rtol=0, atol=1e-12)
    assert calibration.n_rows == 400
    assert calibration.evaluation_accuracy == pytest.approx(correct.mean())


def test_platt_calibration_applies_like_scikit_learn_logistic_regression() -> None:
    confidence, correct = evaluation(seed=1)
    calibration = fit_calibration(confidence, correct, method="platt")
    reference = LogisticRegression().fit(confidence.reshape(-1, 1), correct)
    grid = np.linspace(0.0, 1.0, 101)
    expected = reference.predict_proba(grid.reshape(-1, 1))[:, 1]
    assert np.allclose(calibration.apply(grid), expected, rtol=0, atol=1e-12)


def test_calibration_round_trips_through_json() -> None:
    confidence, correct = evaluation(seed=2)
    calibration = fit_calibration(confidence, correct)
    again = Calibration.model_validate_json(calibration.model_dump_json())
    grid = np.linspace(0, 1, 50)
    assert np.array_equal(again.apply(grid), calibration.apply(grid))


def test_expected_accuracy_is_the_mean_calibrated_confidence_of_rows_with_one() -> None:
    confidence, correct = evaluation()
    calibration = fit_calibration(confidence, correct)
    batch = np.array([0.95, 0.9, np.nan, 0.4, 0.35])
    result = expected_accuracy(calibration, batch, minimum=0.8)
    expected = calibration.apply(np.array([0.95, 0.9, 0.4, 0.35])).mean()
    assert result.value == pytest.approx(expected, rel=1e-12)
    assert (result.n_rows, result.n_without_confidence) == (4, 1)
    assert result.status is AccuracyStatus.BELOW
    assert result.method == "isotonic"


def test_expected_accuracy_tracks_realized_accuracy_of_a_calibrated_model() -> None:
    confidence, correct = evaluation(n=4000, seed=3)
    calibration = fit_calibration(confidence, correct)
    batch, batch_correct = evaluation(n=4000, seed=4)
    result = expected_accuracy(calibration, batch, minimum=0.5)
    assert result.value == pytest.approx(batch_correct.mean(), abs=0.02)
    # Raw confidences overstate it: the model is right with probability c**2, not c.
    assert batch.mean() - batch_correct.mean() > 0.1


def test_realized_accuracy_has_the_wilson_interval_of_statsmodels() -> None:
    labels = ["billing"] * 40 + ["bug"] * 10
    predicted = pd.Series(["billing"] * 36 + ["bug"] * 4 + ["bug"] * 10)
    truth = pd.Series(labels)
    result = realized_accuracy(predicted, truth, settings=SETTINGS)
    low, high = proportion_confint(46, 50, alpha=0.05, method="wilson")
    assert (result.n_labeled, result.n_correct, result.accuracy) == (50, 46, 0.92)
    assert result.ci_low == pytest.approx(low, abs=1e-12)
    assert result.ci_high == pytest.approx(high, abs=1e-12)
    assert result.status is AccuracyStatus.OK
    assert round(low, 4) == 0.8116 and result.is_certain is True


def test_realized_accuracy_counts_only_labeled_rows_and_error_rows_as_wrong() -> None:
    predicted = pd.Series(["a", None, "b", "a", "c"], dtype=object)
    truth = pd.Series(["a", "b", None, "b", None], dtype=object)
    result = realized_accuracy(predicted, truth, settings=SETTINGS)
    assert (result.n_labeled, result.n_correct) == (3, 1)
    assert result.status is AccuracyStatus.UNKNOWN  # 3 labels, 30 needed


def test_realized_accuracy_below_the_floor_is_certain_when_the_whole_interval_is() -> None:
    truth = pd.Series(["a"] * 200)
    predicted = pd.Series(["a"] * 120 + ["b"] * 80)
    result = realized_accuracy(predicted, truth, settings=SETTINGS)
    assert (result.accuracy, result.status, result.is_certain) == (0.6, AccuracyStatus.BELOW, True)
    barely = realized_accuracy(
        pd.Series(["a"] * 31 + ["b"] * 9), pd.Series(["a"] * 40), settings=SETTINGS
    )
    assert (barely.status, barely.is_certain) == (AccuracyStatus.BELOW, False)


def test_realized_accuracy_without_labels_is_unknown() -> None:
    result = realized_accuracy(
        pd.Series(["a", "b"]), pd.Series([None, None], dtype=object), settings=SETTINGS
    )
    assert (result.n_labeled, result.accuracy, result.status) == (0, None, AccuracyStatus.UNKNOWN)


@pytest.mark.parametrize(
    ("confidence", "correct", "method", "message"),
    [
        (
            [0.5] * 5,
            [True] * 5,
            "isotonic",
            "calibration needs at least 10 evaluation rows with a confidence, got 5",
        ),
        ([0.5] * 12, [1] * 12, "isotonic", "calibration needs correctness as booleans, got int64"),
        (
            [0.5] * 12,
            [True] * 11,
            "isotonic",
            "calibration needs one correctness per confidence, got 12 and 11",
        ),
        ([1.5] * 12, [True] * 12, "isotonic", "calibration confidences must lie within [0, 1]"),
        (
            [0.5] * 12,
            [True] * 12,
            "platt",
            "Platt calibration needs both right and wrong predictions in the evaluation (all 12 "
            "were right) (use isotonic calibration)",
        ),
    ],
)
def test_fit_calibration_refuses_unusable_evaluations(
    confidence: list[float], correct: list[object], method: str, message: str
) -> None:
    with pytest.raises(InputError) as caught:
        fit_calibration(confidence, correct, method=method)  # type: ignore[arg-type]
    assert str(caught.value) == message


def test_expected_accuracy_refuses_a_batch_without_confidences() -> None:
    calibration = fit_calibration(*evaluation())
    with pytest.raises(InputError) as caught:
        expected_accuracy(calibration, [np.nan, np.nan], minimum=0.8)
    assert str(caught.value) == (
        "the batch has no confidences (2 rows): expected accuracy needs them"
    )
