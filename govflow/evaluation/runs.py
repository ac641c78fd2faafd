"""One evaluation: a candidate (and production) on every slice of a suite version, judged.

Per slice the caller gives the true labels and each model's answers as a DataFrame
row-aligned with them, with the columns a model adapter returns: ``label`` (the answer,
missing when none), optional ``confidence`` (NaN = missing) and optional ``error`` (missing
or empty when the adapter succeeded, else its message). An answer outside the suite's label
set, or a missing answer without an error, counts as an adapter error: an answer that cannot
be read is never a wrong label. A true label outside the label set is an ``InputError``.

Each slice bootstraps with its own seed, ``[suite seed, crc32(slice name)]``, so adding or
reordering slices changes no other slice's intervals. When production answers are given
they must cover every slice, so that no non-inferiority check goes unmade by omission.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from govflow.errors import InputError
from govflow.evaluation.metrics import Predictions, SliceMetrics, compute_slice_metrics
from govflow.evaluation.suites import SliceSpec, SuiteVersion
from govflow.evaluation.thresholds import SliceVerdict, VerdictStatus, judge_slice, overall_status

__all__ = ["Evaluation", "SliceEvaluation", "encode_answers", "encode_truth", "evaluate_suite"]


@dataclass(frozen=True)
class SliceEvaluation:
    """One slice: its spec, metrics, verdict and how many answers were unreadable."""

    spec: SliceSpec
    metrics: SliceMetrics
    verdict: SliceVerdict
    unreadable_answers: int
    production_unreadable_answers: int | None


@dataclass(frozen=True)
class Evaluation:
    """A whole evaluation: the suite version, the models, every slice and the overall status."""

    project: str
    suite_hash: str
    model: str
    production_model: str | None
    data_versions: Mapping[str, str]
    slices: tuple[SliceEvaluation, ...]
    status: VerdictStatus = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", overall_status(s.verdict for s in self.slices))

    def slice(self, name: str) -> SliceEvaluation:
        """Return the evaluation of the slice called ``name``."""
        for item in self.slices:
            if item.spec.name == name:
                return item
        raise KeyError(name)


def evaluate_suite(
    version: SuiteVersion,
    *,
    truth: Mapping[str, Sequence[str]],
    candidate: Mapping[str, pd.DataFrame],
    production: Mapping[str, pd.DataFrame] | None = None,
    model: str,
    production_model: str | None = None,
    data_versions: Mapping[str, str] | None = None,
) -> Evaluation:
    """Compute, for every slice of ``version``, the metrics and the verdict."""
    suite = version.suite
    names = [s.name for s in suite.slices]
    _same_slices("true labels", truth, names)
    _same_slices("candidate answers", candidate, names)
    if production is not None:
        _same_slices("production answers", production, names)
        if production_model is None:
            raise InputError("production answers were given without production_model")
    results = []
    for spec in suite.slices:
        codes = encode_truth(truth[spec.name], suite.labels, where=f"slice {spec.name}")
        cand, unreadable = encode_answers(
            candidate[spec.name], suite.labels, rows=codes.size, where=f"slice {spec.name}"
        )
        prod, prod_unreadable = None, None
        if production is not None:
            prod, prod_unreadable = encode_answers(
                production[spec.name],
                suite.labels,
                rows=codes.size,
                where=f"slice {spec.name} (production)",
            )
        measured = compute_slice_metrics(
            codes,
            cand,
            labels=suite.labels,
            production=prod,
            resamples=suite.bootstrap.resamples,
            level=suite.bootstrap.level,
            bins=suite.calibration_bins,
            seed=[suite.bootstrap.seed, zlib.crc32(spec.name.encode("utf-8"))],
        )
        verdict = judge_slice(spec, measured, max_error_rate=suite.max_error_rate)
        results.append(SliceEvaluation(spec, measured, verdict, unreadable, prod_unreadable))
    return Evaluation(
        project=suite.project,
        suite_hash=version.content_hash,
        model=model,
        production_model=production_model,
        data_versions=dict(data_versions or {}),
        slices=tuple(results),
    )


def encode_truth(values: Sequence[str], labels: Sequence[str], *, where: str) -> np.ndarray:
    """Return label codes for true labels; any label outside ``labels`` is an ``InputError``."""
    codes = pd.Index(labels).get_indexer(pd.Series(values, dtype="object"))
    if (codes < 0).any():
        position = int(np.flatnonzero(codes < 0)[0])
        raise InputError(
            f"{where}: true label {list(values)[position]!r} (row {position}) is not one of "
            f"the suite's labels ({', '.join(labels)})"
        )
    return codes.astype(np.int64)


def encode_answers(
    frame: pd.DataFrame, labels: Sequence[str], *, rows: int, where: str
) -> tuple[Predictions, int]:
    """Return an adapter's answers as ``Predictions`` and how many were unreadable.

    Unreadable answers (outside the label set, or missing without an error) become errors.
    """
    if "label" not in frame.columns:
        raise InputError(f"{where}: answers need a 'label' column (have {list(frame.columns)})")
    if len(frame) != rows:
        raise InputError(f"{where}: {len(frame)} answers for {rows} examples")
    codes = pd.Index(labels).get_indexer(frame["label"].astype("object"))
    if "error" in frame.columns:
        message = frame["error"].astype("object")
        reported = message.notna().to_numpy() & (message.astype("str") != "").to_numpy()
    else:
        reported = np.zeros(rows, dtype=bool)
    unreadable = ~reported & (codes < 0)
    if "confidence" in frame.columns:
        try:
            confidence = pd.to_numeric(frame["confidence"]).to_numpy(dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InputError(f"{where}: confidences must be numbers: {exc}") from None
    else:
        confidence = None
    predictions = Predictions.of(codes, confidence=confidence, error=reported | unreadable)
    return predictions, int(unreadable.sum())


def _same_slices(what: str, given: Mapping[str, object], names: list[str]) -> None:
    missing = [n for n in names if n not in given]
    extra = sorted(set(given) - set(names))
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing for {', '.join(missing)}")
        if extra:
            parts.append(f"given for slices the suite does not have: {', '.join(extra)}")
        raise InputError(f"{what}: {'; '.join(parts)}")
