"""Slice metrics and their bootstrap intervals against scikit-learn on the same resamples."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import accuracy_score, f1_score, recall_score

from govflow.errors import InputError
from govflow.evaluation.metrics import (
    Estimate,
    Metric,
    Predictions,
    bootstrap_indices,
    calibration_bin,
    compute_slice_metrics,
)

LABELS = ["billing", "bug", "account", "feature_request", "other"]
K = len(LABELS)
CODES = list(range(K))


def simulate(seed: int, n: int, *, accuracy: float = 0.8, p_error: float = 0.03):
    """Return truth and a model's answers: skewed classes, errors, some missing confidences."""
    rng = np.random.default_rng(seed)
    truth = rng.choice(K, size=n, p=[0.35, 0.25, 0.2, 0.15, 0.05])
    right = rng.random(n) < accuracy
    labels = np.where(right, truth, rng.integers(0, K, n))
    confidence = np.clip(np.where(right, 0.75, 0.55) + rng.normal(0, 0.15, n), 0.0, 1.0)
    confidence[rng.random(n) < 0.05] = np.nan
    error = rng.random(n) < p_error
    labels[error] = -1  # an adapter error carries no usable label
    return truth, Predictions.of(labels, confidence=confidence, error=error)


def sklearn_values(truth, preds: Predictions, idx) -> dict[str, float]:
    """Return every metric of one resample, computed by scikit-learn (ECE from its bins)."""
    scored = ~preds.error[idx]
    t, p = truth[idx][scored], preds.labels[idx][scored]
    values = {
        "accuracy": accuracy_score(t, p),
        "macro_f1": f1_score(t, p, labels=CODES, average="macro", zero_division=0),
        "error_rate": float(preds.error[idx].mean()),
        "ece": reference_ece(t == p, preds.confidence[idx][scored]),
    }
    recalls = recall_score(t, p, labels=CODES, average=None, zero_division=0)
    values.update({f"recall[{label}]": recalls[i] for i, label in enumerate(LABELS)})
    return values


def reference_ece(correct, confidence, bins: int = 15) -> float:
    """ECE from sklearn's calibration_curve (non-empty bins) and its bin counts."""
    has = ~np.isnan(confidence)
    correct, confidence = correct[has].astype(int), confidence[has]
    if confidence.size == 0:
        return math.nan
    prob_true, prob_pred = calibration_curve(
        correct, confidence, n_bins=bins, strategy="uniform", pos_label=1
    )
    edges = np.linspace(0.0, 1.0, bins + 1)
    counts = np.bincount(np.searchsorted(edges[1:-1], confidence), minlength=bins)
    weights = counts[counts > 0] / confidence.size
    return float(np.sum(weights * np.abs(prob_true - prob_pred)))


def percentile_interval(values: list[float]) -> tuple[float, float]:
    finite = np.asarray([v for v in values if not math.isnan(v)])
    low, high = np.percentile(finite, [2.5, 97.5])
    return float(low), float(high)


def test_point_estimates_match_sklearn_with_error_rows_excluded():
    truth, preds = simulate(1, 3000)
    metrics = compute_slice_metrics(truth, preds, labels=LABELS, resamples=10, seed=1)
    expected = sklearn_values(truth, preds, np.arange(truth.size))
    for result in metrics.results:
        assert result.candidate.value == pytest.approx(expected[result.name], abs=1e-12)
    assert metrics.n == 3000
    assert metrics.n_errors == int(preds.error.sum())
    assert metrics.n_scored == 3000 - metrics.n_errors
    assert metrics.n_with_confidence == int((~preds.error & ~np.isnan(preds.confidence)).sum())
    assert metrics.support == tuple(int(c) for c in np.bincount(truth, minlength=K))
    assert metrics.get("error_rate").candidate.value == metrics.n_errors / 3000


def test_intervals_match_sklearn_loop_on_the_same_resamples_with_paired_differences():
    truth, candidate = simulate(2, 1500)
    _, production = simulate(3, 1500, accuracy=0.75)
    resamples, seed = 300, [7, 11]
    metrics = compute_slice_metrics(
        truth, candidate, labels=LABELS, production=production, resamples=resamples, seed=seed
    )
    cand, prod = [], []
    for idx in bootstrap_indices(truth.size, resamples=resamples, seed=seed):
        cand.append(sklearn_values(truth, candidate, idx))
        prod.append(sklearn_values(truth, production, idx))
    assert len(metrics.results) == 4 + K
    for result in metrics.results:
        c = [v[result.name] for v in cand]
        p = [v[result.name] for v in prod]
        d = [a - b for a, b in zip(c, p, strict=True)]
        for estimate, values in [
            (result.candidate, c),
            (result.production, p),
            (result.difference, d),
        ]:
            assert estimate is not None
            low, high = percentile_interval(values)
            assert estimate.low == pytest.approx(low, abs=1e-9), result.name
            assert estimate.high == pytest.approx(high, abs=1e-9), result.name
        assert result.difference.value == pytest.approx(
            result.candidate.value - result.production.value, abs=1e-15
        )


def test_macro_f1_scores_an_absent_class_zero_like_sklearn_with_labels():
    # Classes 3 and 4 are neither in the truth nor predicted; sklearn with labels= gives
    # them F1 0 and recall 0 (zero_division=0), so macro-F1 averages over all five.
    truth = np.array([0, 0, 1, 1, 2])
    preds = Predictions.of([0, 1, 1, 1, 2])
    metrics = compute_slice_metrics(truth, preds, labels=LABELS, resamples=5)
    by_hand = (2 / 3 + 4 / 5 + 1.0 + 0.0 + 0.0) / 5
    sk = f1_score(truth, [0, 1, 1, 1, 2], labels=CODES, average="macro", zero_division=0)
    assert metrics.get("macro_f1").candidate.value == pytest.approx(by_hand, abs=1e-15)
    assert sk == pytest.approx(by_hand, abs=1e-15)
    assert metrics.get("per_class_recall", "feature_request").candidate.value == 0.0
    assert metrics.get("per_class_recall", "other").candidate.value == 0.0
    assert metrics.support == (2, 2, 1, 0, 0)


def test_intervals_match_sklearn_when_resamples_lose_a_rare_class():
    # One row of class 4 among 15: about a third of the resamples do not contain it.
    truth = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 0, 1, 4])
    preds = Predictions.of([0, 0, 1, 1, 1, 2, 2, 2, 0, 3, 3, 4, 0, 1, 4])
    metrics = compute_slice_metrics(truth, preds, labels=LABELS, resamples=400, seed=5)
    reference = [
        sklearn_values(truth, preds, i) for i in bootstrap_indices(15, resamples=400, seed=5)
    ]
    missing = sum(1 for i in bootstrap_indices(15, resamples=400, seed=5) if 14 not in i)
    assert 50 < missing < 350
    for result in metrics.results:
        if result.metric == Metric.ECE:
            continue  # no confidences here
        low, high = percentile_interval([v[result.name] for v in reference])
        assert (result.candidate.low, result.candidate.high) == pytest.approx((low, high), abs=1e-9)


def test_ece_and_reliability_bins_match_sklearn_calibration_curve_at_bin_edges():
    rng = np.random.default_rng(9)
    edges = np.linspace(0.0, 1.0, 16)
    confidence = np.concatenate([edges, edges, rng.random(400)])  # every edge twice
    truth = rng.integers(0, K, confidence.size)
    labels = np.where(rng.random(confidence.size) < confidence, truth, (truth + 1) % K)
    metrics = compute_slice_metrics(
        truth, Predictions.of(labels, confidence=confidence), labels=LABELS, resamples=10
    )
    correct = (labels == truth).astype(int)
    prob_true, prob_pred = calibration_curve(correct, confidence, n_bins=15, strategy="uniform")
    nonempty = [b for b in metrics.reliability if b.count]
    assert [b.accuracy for b in nonempty] == pytest.approx(list(prob_true), abs=1e-12)
    assert [b.mean_confidence for b in nonempty] == pytest.approx(list(prob_pred), abs=1e-12)
    # (lower, upper] bins: 0 and 1/15 both fall in the first bin, 1.0 in the last.
    assert calibration_bin(np.array([0.0, 1 / 15, 1 / 15 + 1e-12, 1.0])).tolist() == [0, 0, 1, 14]
    assert sum(b.count for b in metrics.reliability) == confidence.size
    assert metrics.get("ece").candidate.value == pytest.approx(
        reference_ece(correct.astype(bool), confidence), abs=1e-12
    )


def test_missing_confidences_are_left_out_of_ece_only():
    truth = np.array([0, 1, 2, 3])
    preds = Predictions.of([0, 1, 0, 3], confidence=[0.9, np.nan, 0.6, np.nan])
    metrics = compute_slice_metrics(truth, preds, labels=LABELS, resamples=5)
    assert metrics.n_with_confidence == 2
    # Bin of 0.9: correct, |1 - 0.9|; bin of 0.6: wrong, |0 - 0.6|; over 2 rows.
    assert metrics.get("ece").candidate.value == pytest.approx((0.1 + 0.6) / 2, abs=1e-15)
    assert metrics.get("accuracy").candidate.value == 0.75


def test_ece_is_nan_without_any_confidence():
    preds = Predictions.of([0, 1, 1])
    metrics = compute_slice_metrics(np.array([0, 1, 2]), preds, labels=LABELS, resamples=20)
    ece = metrics.get("ece").candidate
    assert math.isnan(ece.value) and math.isnan(ece.low) and math.isnan(ece.high)


def test_error_rows_count_in_error_rate_and_never_as_wrong_labels():
    truth = np.array([0, 1, 2, 3, 4, 0])
    # Rows 4 and 5 are errors; their label codes (99, -1) are not even in the label set.
    preds = Predictions.of([0, 1, 2, 0, 99, -1], error=[0, 0, 0, 0, 1, 1])
    metrics = compute_slice_metrics(truth, preds, labels=LABELS, resamples=5)
    assert metrics.get("accuracy").candidate.value == 0.75
    assert metrics.get("error_rate").candidate.value == pytest.approx(2 / 6, abs=1e-15)
    assert metrics.n_scored == 4
    assert metrics.get("per_class_recall", "other").candidate.value == 0.0


def test_label_metrics_are_nan_when_every_row_is_an_error():
    preds = Predictions.of([-1, -1], error=[True, True])
    metrics = compute_slice_metrics(np.array([0, 1]), preds, labels=LABELS, resamples=20)
    assert math.isnan(metrics.get("accuracy").candidate.value)
    assert math.isnan(metrics.get("macro_f1").candidate.low)
    assert metrics.get("error_rate").candidate == Estimate(1.0, 1.0, 1.0)


def test_empty_slice_gives_nan_estimates():
    preds = Predictions.of(np.array([], dtype=np.int64))
    metrics = compute_slice_metrics(np.array([], dtype=np.int64), preds, labels=LABELS)
    assert metrics.n == 0
    assert all(math.isnan(r.candidate.value) for r in metrics.results)


def test_identical_production_gives_a_zero_difference_interval():
    truth, preds = simulate(4, 500)
    metrics = compute_slice_metrics(truth, preds, labels=LABELS, production=preds, resamples=50)
    for result in metrics.results:
        if not math.isnan(result.candidate.value):
            assert result.difference is not None
            assert (result.difference.value, result.difference.low, result.difference.high) == (
                0.0,
                0.0,
                0.0,
            )


def test_same_seed_repeats_intervals_and_another_seed_changes_them():
    truth, preds = simulate(5, 800)
    first = compute_slice_metrics(truth, preds, labels=LABELS, resamples=100, seed=3)
    again = compute_slice_metrics(truth, preds, labels=LABELS, resamples=100, seed=3)
    other = compute_slice_metrics(truth, preds, labels=LABELS, resamples=100, seed=4)
    assert first == again
    assert first.get("accuracy").candidate != other.get("accuracy").candidate
    assert first.get("accuracy").candidate.value == other.get("accuracy").candidate.value


def test_bootstrap_indices_are_successive_draws_of_the_seeded_generator():
    rng = np.random.default_rng(12)
    expected = [rng.integers(0, 40, size=40) for _ in range(3)]
    drawn = list(bootstrap_indices(40, resamples=3, seed=12))
    assert all(np.array_equal(a, b) for a, b in zip(drawn, expected, strict=True))


def test_chunking_does_not_change_the_resamples(monkeypatch: pytest.MonkeyPatch):
    import govflow.evaluation.metrics as metrics_module

    truth, preds = simulate(6, 300)
    whole = compute_slice_metrics(truth, preds, labels=LABELS, resamples=64, seed=2)
    monkeypatch.setattr(metrics_module, "_CHUNK_CELLS", 300 * 7)  # 7 resamples per product
    chunked = compute_slice_metrics(truth, preds, labels=LABELS, resamples=64, seed=2)
    for a, b in zip(whole.results, chunked.results, strict=True):
        assert (a.candidate.low, a.candidate.high) == pytest.approx(
            (b.candidate.low, b.candidate.high), abs=1e-12
        )


@pytest.mark.parametrize(
    ("truth", "preds", "message"),
    [
        (
            [0, 1],
            Predictions.of([0, 5]),
            "candidate predictions hold a label code outside 0..4 on a row without an "
            "adapter error (mark rows whose answer is not in the label set as errors)",
        ),
        (
            [0, 1],
            Predictions.of([0, 1], confidence=[0.5, 1.5]),
            "candidate confidences must lie in [0, 1] (or be missing); 1 do not, e.g. 1.5",
        ),
        ([0, 1, 2], Predictions.of([0, 1]), "candidate predictions have 2 rows, the slice has 3"),
        ([0, 7], Predictions.of([0, 1]), "true label codes must lie in 0..4"),
    ],
)
def test_bad_input_is_one_clear_input_error(truth, preds, message):
    with pytest.raises(InputError) as caught:
        compute_slice_metrics(np.asarray(truth), preds, labels=LABELS, resamples=5)
    assert str(caught.value) == message


def test_predictions_with_mismatched_lengths_are_refused():
    with pytest.raises(InputError, match="3 labels but 2 confidences and 3 error flags"):
        Predictions.of([0, 1, 2], confidence=[0.5, 0.5])


def test_empty_slice_with_production_still_reports_production():
    empty = Predictions.of(np.array([], dtype=np.int64))
    metrics = compute_slice_metrics(
        np.array([], dtype=np.int64), empty, labels=LABELS, production=empty
    )
    assert metrics.has_production
    assert all(r.production is not None and r.difference is not None for r in metrics.results)
