"""Per-slice classification metrics with seeded bootstrap intervals, vectorized over resamples.

Inputs are integer label codes (``0 .. K-1``: positions in the suite's label set) and one
``Predictions`` per model: label codes, confidences (NaN = missing) and an adapter-error mask.

Definitions (each tested against scikit-learn on the same resamples):

- A row with an adapter error is left out of every label metric and counted in
  ``error_rate`` (errors / rows): an unparseable answer is an error, never a wrong label.
- ``accuracy``: correct / scored rows (``sklearn.metrics.accuracy_score``).
- ``per_class_recall``: for each class of the label set, true positives / rows of the class;
  0 for a class without rows (``recall_score(labels=..., average=None, zero_division=0)``).
- ``macro_f1``: the mean over the whole label set of 2 TP / (rows of the class + predictions
  of it); a class neither present nor predicted scores 0 (``f1_score(labels=...,
  average="macro", zero_division=0)``). A slice that lacks a class therefore loses 1/K of
  macro-F1: set its thresholds knowing which classes the slice holds.
- ``ece``: expected calibration error over scored rows with a confidence, in ``bins``
  (15 by default) equal-width bins over [0, 1]; each bin is (lower, upper] and 0 falls in the
  first: the bins of ``sklearn.calibration.calibration_curve(strategy="uniform")``. ECE is
  the row-weighted mean over bins of |accuracy - mean confidence|, that is
  sum(|correct_b - confidence sum_b|) / rows.
- A metric that cannot be measured (no scored rows; for ECE no confidences) is NaN.

Intervals are percentile bootstrap intervals at ``level`` over ``resamples`` resamples of the
slice's rows drawn with replacement. Resample ``b`` is the ``b``-th call of
``rng.integers(0, n, size=n)`` on ``numpy.random.default_rng(seed)``; ``bootstrap_indices``
yields exactly these, so a reference can recompute on the same resamples. Resamples in which a
metric is NaN are left out of its interval. Against production the difference (candidate
minus production) is bootstrapped on the same indices: a paired bootstrap.

Speed: the resamples become a matrix of row multiplicities W (resamples x rows, built with
``np.bincount``) and one product W @ F with a per-row feature matrix F (true-positive,
true-class, predicted-class and error indicators, a has-confidence indicator and, in the
row's calibration bin, correct minus confidence) gives every count of every resample, for
both models at once, on one BLAS thread (see ``_single_threaded_blas``).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from govflow.errors import InputError

__all__ = [
    "DEFAULT_BINS",
    "DEFAULT_LEVEL",
    "DEFAULT_RESAMPLES",
    "Estimate",
    "Metric",
    "MetricResult",
    "Predictions",
    "ReliabilityBin",
    "Seed",
    "SliceMetrics",
    "bootstrap_indices",
    "calibration_bin",
    "compute_slice_metrics",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Seed = int | Sequence[int]

DEFAULT_BINS = 15
DEFAULT_RESAMPLES = 1000
DEFAULT_LEVEL = 0.95
# Resamples x rows per matrix product: bounds W at about 16 MB whatever the slice size.
_CHUNK_CELLS = 2_000_000


class Metric(enum.StrEnum):
    """A metric a suite can ask for on a slice."""

    ACCURACY = "accuracy"
    MACRO_F1 = "macro_f1"
    PER_CLASS_RECALL = "per_class_recall"
    ECE = "ece"
    ERROR_RATE = "error_rate"

    @property
    def lower_is_better(self) -> bool:
        """Whether a smaller value is the better one (calibration error, error rate)."""
        return self in (Metric.ECE, Metric.ERROR_RATE)


@dataclass(frozen=True)
class Predictions:
    """One model's answers on a slice: label codes, confidences and adapter errors.

    ``labels`` is ignored on rows with an error; ``confidence`` is NaN where missing.
    """

    labels: IntArray
    confidence: FloatArray
    error: BoolArray

    @classmethod
    def of(
        cls,
        labels: npt.ArrayLike,
        *,
        confidence: npt.ArrayLike | None = None,
        error: npt.ArrayLike | None = None,
    ) -> Predictions:
        """Build predictions from array-likes; missing confidences and errors mean none."""
        codes = np.asarray(labels)
        if codes.ndim != 1 or not (codes.size == 0 or np.issubdtype(codes.dtype, np.integer)):
            raise InputError("prediction labels must be a 1-D array of integer label codes")
        n = codes.shape[0]
        conf = (
            np.full(n, np.nan) if confidence is None else np.asarray(confidence, dtype=np.float64)
        )
        err = np.zeros(n, dtype=bool) if error is None else np.asarray(error, dtype=bool)
        if conf.shape != (n,) or err.shape != (n,):
            raise InputError(
                f"predictions: {n} labels but {conf.size} confidences and {err.size} error flags"
            )
        return cls(codes.astype(np.int64), conf, err)

    def __len__(self) -> int:
        return int(self.labels.shape[0])


@dataclass(frozen=True)
class Estimate:
    """A point estimate and its bootstrap interval (NaN where not measurable)."""

    value: float
    low: float
    high: float


@dataclass(frozen=True)
class MetricResult:
    """One metric on one slice: the candidate's, production's and their paired difference.

    ``label`` names the class for per-class recall. ``difference`` is always candidate minus
    production; for metrics where lower is better a positive difference is a worsening.
    """

    metric: Metric
    label: str | None
    candidate: Estimate
    production: Estimate | None
    difference: Estimate | None

    @property
    def name(self) -> str:
        """Return ``accuracy``, or ``recall[billing]`` for a class's recall."""
        return f"recall[{self.label}]" if self.label is not None else self.metric.value


@dataclass(frozen=True)
class ReliabilityBin:
    """One calibration bin (lower, upper]: rows, mean confidence and accuracy (NaN if empty)."""

    lower: float
    upper: float
    count: int
    mean_confidence: float
    accuracy: float


@dataclass(frozen=True)
class SliceMetrics:
    """Every metric of one slice for the candidate (and production), with intervals."""

    labels: tuple[str, ...]
    n: int
    n_errors: int
    n_scored: int
    n_with_confidence: int
    support: tuple[int, ...]
    resamples: int
    level: float
    results: tuple[MetricResult, ...]
    reliability: tuple[ReliabilityBin, ...]
    production_reliability: tuple[ReliabilityBin, ...] | None

    @property
    def has_production(self) -> bool:
        return self.production_reliability is not None

    def get(self, metric: Metric | str, label: str | None = None) -> MetricResult:
        """Return the result for ``metric`` (and ``label`` for per-class recall)."""
        metric = Metric(metric)
        for result in self.results:
            if result.metric == metric and result.label == label:
                return result
        raise KeyError(f"{metric.value}[{label}]" if label else metric.value)

    def for_metric(self, metric: Metric | str) -> tuple[MetricResult, ...]:
        """Return every result of ``metric`` (one per class for per-class recall)."""
        metric = Metric(metric)
        return tuple(r for r in self.results if r.metric == metric)


def bootstrap_indices(n: int, *, resamples: int, seed: Seed) -> Iterator[IntArray]:
    """Yield the row indices of each resample: ``resamples`` arrays of ``n`` draws."""
    rng = np.random.default_rng(seed)
    for _ in range(resamples):
        yield rng.integers(0, n, size=n)


def calibration_bin(confidence: FloatArray, bins: int = DEFAULT_BINS) -> IntArray:
    """Return each confidence's bin: (lower, upper], 0 in the first, as sklearn's bins."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    return np.searchsorted(edges[1:-1], confidence).astype(np.int64)


def compute_slice_metrics(
    truth: npt.ArrayLike,
    candidate: Predictions,
    *,
    labels: Sequence[str],
    production: Predictions | None = None,
    resamples: int = DEFAULT_RESAMPLES,
    level: float = DEFAULT_LEVEL,
    bins: int = DEFAULT_BINS,
    seed: Seed = 0,
) -> SliceMetrics:
    """Compute every metric of one slice with bootstrap intervals (and paired differences)."""
    k = len(labels)
    if k < 2:
        raise InputError(f"a label set needs at least 2 labels, got {k}")
    if resamples < 1 or not 0.0 < level < 1.0 or bins < 1:
        raise InputError(
            f"bootstrap needs resamples >= 1, 0 < level < 1 and bins >= 1 "
            f"(got {resamples}, {level}, {bins})"
        )
    codes = np.asarray(truth)
    if codes.ndim != 1 or not (codes.size == 0 or np.issubdtype(codes.dtype, np.integer)):
        raise InputError("true labels must be a 1-D array of integer label codes")
    codes = codes.astype(np.int64)
    n = int(codes.shape[0])
    if codes.size and (codes.min() < 0 or codes.max() >= k):
        raise InputError(f"true label codes must lie in 0..{k - 1}")
    # Not ``if production``: Predictions has a length, and an empty slice's is 0.
    models = [("candidate", candidate)]
    if production is not None:
        models.append(("production", production))
    for name, preds in models:
        _check_predictions(name, preds, n, k)

    layout = _Layout(k, bins)
    features = np.hstack([_features(codes, preds, layout) for _, preds in models])
    point = features.sum(axis=0, keepdims=True)
    if n:
        counts = _bootstrap_counts(features, n, resamples, seed)
    else:
        counts = np.full((resamples, features.shape[1]), np.nan)
    width = layout.width
    blocks = [slice(i * width, (i + 1) * width) for i in range(len(models))]
    point_values = [_values(point[:, block], layout, n) for block in blocks]
    boot_values = [_values(counts[:, block], layout, n) for block in blocks]
    results = tuple(
        _result(metric, label, column, point_values, boot_values, level)
        for metric, column, label in _result_keys(labels)
    )
    candidate_point = point[0, :width]
    return SliceMetrics(
        labels=tuple(labels),
        n=n,
        n_errors=int(candidate.error.sum()),
        n_scored=int(candidate_point[layout.true].sum()),
        n_with_confidence=int(candidate_point[layout.with_confidence]),
        support=tuple(int(v) for v in np.bincount(codes, minlength=k)),
        resamples=resamples,
        level=level,
        results=results,
        reliability=_reliability(codes, candidate, bins),
        production_reliability=(
            None if production is None else _reliability(codes, production, bins)
        ),
    )


def _check_predictions(name: str, preds: Predictions, n: int, k: int) -> None:
    if len(preds) != n:
        raise InputError(f"{name} predictions have {len(preds)} rows, the slice has {n}")
    scored = ~preds.error
    codes = preds.labels[scored]
    if codes.size and (codes.min() < 0 or codes.max() >= k):
        raise InputError(
            f"{name} predictions hold a label code outside 0..{k - 1} on a row without an "
            "adapter error",
            hint="mark rows whose answer is not in the label set as errors",
        )
    conf = preds.confidence[scored]
    bad = ~np.isnan(conf) & ((conf < 0.0) | (conf > 1.0))
    if bad.any():
        raise InputError(
            f"{name} confidences must lie in [0, 1] (or be missing); "
            f"{int(bad.sum())} do not, e.g. {float(conf[bad][0])!r}"
        )


@dataclass(frozen=True)
class _Layout:
    """Column blocks of the per-row feature matrix of one model.

    ECE needs, per bin, only correct - confidence summed (one signed column per bin) and the
    number of rows with a confidence (one column): |sum| / rows is the bin's share of ECE.
    """

    k: int
    bins: int

    @property
    def tp(self) -> slice:
        return slice(0, self.k)

    @property
    def true(self) -> slice:
        return slice(self.k, 2 * self.k)

    @property
    def pred(self) -> slice:
        return slice(2 * self.k, 3 * self.k)

    @property
    def err(self) -> int:
        return 3 * self.k

    @property
    def with_confidence(self) -> int:
        return 3 * self.k + 1

    @property
    def gap(self) -> slice:
        return slice(3 * self.k + 2, 3 * self.k + 2 + self.bins)

    @property
    def width(self) -> int:
        return 3 * self.k + 2 + self.bins


def _features(truth: IntArray, preds: Predictions, layout: _Layout) -> FloatArray:
    n = truth.shape[0]
    f = np.zeros((n, layout.width))
    rows = np.arange(n)
    scored = ~preds.error
    r, t, p = rows[scored], truth[scored], preds.labels[scored]
    hit = t == p
    f[r, layout.true.start + t] = 1.0
    f[r, layout.pred.start + p] = 1.0
    f[r[hit], layout.tp.start + t[hit]] = 1.0
    f[rows[preds.error], layout.err] = 1.0
    conf = preds.confidence[scored]
    has = ~np.isnan(conf)
    f[r[has], layout.with_confidence] = 1.0
    bins = calibration_bin(conf[has], layout.bins)
    f[r[has], layout.gap.start + bins] = hit[has] - conf[has]
    return f


def _bootstrap_counts(features: FloatArray, n: int, resamples: int, seed: Seed) -> FloatArray:
    """Return the feature sums of every resample, (resamples x features)."""
    out = np.empty((resamples, features.shape[1]))
    chunk = max(1, min(resamples, _CHUNK_CELLS // n))
    indices = np.empty((chunk, n), dtype=np.int64)
    rng = np.random.default_rng(seed)
    with _single_threaded_blas():
        for start in range(0, resamples, chunk):
            m = min(chunk, resamples - start)
            for j in range(m):
                # integers(low, high) is low + integers(0, high - low) on the same stream,
                # so these are bootstrap_indices' draws already offset to row j of W.
                indices[j] = rng.integers(j * n, (j + 1) * n, size=n)
            weights = np.bincount(indices[:m].ravel(), minlength=m * n)
            out[start : start + m] = weights.reshape(m, n).astype(np.float64) @ features
    return out


@contextmanager
def _single_threaded_blas() -> Iterator[None]:
    """Run the matrix products on one BLAS thread.

    On a machine whose few cores other processes share, OpenBLAS's worker threads spin
    against them: the products of a 55,000-row slice took 9.3 s on two threads and 1.3 s on
    one, measured side by side on this project's 2-core machine under load. threadpoolctl
    (installed with scikit-learn) sets the limit; where it is absent BLAS keeps its default.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _values(counts: FloatArray, layout: _Layout, n: int) -> dict[str, FloatArray]:
    """Return every metric of every row of counts (NaN where not measurable)."""
    tp, true, pred = counts[:, layout.tp], counts[:, layout.true], counts[:, layout.pred]
    scored = true.sum(axis=1)
    unscored = scored == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        accuracy = tp.sum(axis=1) / scored
        recall = np.where(true > 0, tp / true, 0.0)
        denominator = true + pred
        f1 = np.where(denominator > 0, 2.0 * tp / denominator, 0.0)
        macro_f1 = f1.mean(axis=1)
        with_confidence = counts[:, layout.with_confidence]
        gaps = np.abs(counts[:, layout.gap]).sum(axis=1)
        ece = np.where(with_confidence > 0, gaps / with_confidence, np.nan)
        error_rate = counts[:, layout.err] / n if n else np.full(counts.shape[0], np.nan)
    accuracy[unscored] = np.nan
    macro_f1[unscored] = np.nan
    recall[unscored] = np.nan
    values = {
        Metric.ACCURACY.value: accuracy,
        Metric.MACRO_F1.value: macro_f1,
        Metric.ECE.value: ece,
        Metric.ERROR_RATE.value: error_rate,
    }
    for code in range(layout.k):
        values[f"recall:{code}"] = recall[:, code]
    return values


def _result_keys(labels: Sequence[str]) -> Iterator[tuple[Metric, str, str | None]]:
    yield Metric.ACCURACY, Metric.ACCURACY.value, None
    yield Metric.MACRO_F1, Metric.MACRO_F1.value, None
    for code, label in enumerate(labels):
        yield Metric.PER_CLASS_RECALL, f"recall:{code}", label
    yield Metric.ECE, Metric.ECE.value, None
    yield Metric.ERROR_RATE, Metric.ERROR_RATE.value, None


def _result(
    metric: Metric,
    label: str | None,
    column: str,
    point: list[dict[str, FloatArray]],
    boot: list[dict[str, FloatArray]],
    level: float,
) -> MetricResult:
    candidate = _estimate(point[0][column][0], boot[0][column], level)
    if len(point) == 1:
        return MetricResult(metric, label, candidate, None, None)
    production = _estimate(point[1][column][0], boot[1][column], level)
    difference = _estimate(
        point[0][column][0] - point[1][column][0], boot[0][column] - boot[1][column], level
    )
    return MetricResult(metric, label, candidate, production, difference)


def _estimate(value: float, resampled: FloatArray, level: float) -> Estimate:
    finite = resampled[~np.isnan(resampled)]
    if finite.size == 0:
        return Estimate(float(value), math.nan, math.nan)
    tail = 100.0 * (1.0 - level) / 2.0
    low, high = np.percentile(finite, [tail, 100.0 - tail])
    return Estimate(float(value), float(low), float(high))


def _reliability(truth: IntArray, preds: Predictions, bins: int) -> tuple[ReliabilityBin, ...]:
    has = ~preds.error & ~np.isnan(preds.confidence)
    conf = preds.confidence[has]
    correct = (preds.labels[has] == truth[has]).astype(np.float64)
    which = calibration_bin(conf, bins)
    counts = np.bincount(which, minlength=bins)
    conf_sums = np.bincount(which, weights=conf, minlength=bins)
    correct_sums = np.bincount(which, weights=correct, minlength=bins)
    return tuple(
        ReliabilityBin(
            lower=b / bins,
            upper=(b + 1) / bins,
            count=int(counts[b]),
            mean_confidence=float(conf_sums[b] / counts[b]) if counts[b] else math.nan,
            accuracy=float(correct_sums[b] / counts[b]) if counts[b] else math.nan,
        )
        for b in range(bins)
    )
