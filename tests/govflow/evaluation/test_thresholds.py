"""Slice verdicts: floors, ceilings, non-inferiority, error-rate caps and insufficient evidence."""

from __future__ import annotations

import math

import numpy as np

from govflow.evaluation.metrics import (
    Estimate,
    Metric,
    MetricResult,
    Predictions,
    SliceMetrics,
    compute_slice_metrics,
)
from govflow.evaluation.suites import SliceSpec
from govflow.evaluation.thresholds import (
    CheckKind,
    SliceVerdict,
    VerdictStatus,
    judge_slice,
    overall_status,
)

LABELS = ("billing", "other")
NAN = math.nan


def spec(thresholds: dict, min_samples: int = 30, metrics: list[str] | None = None) -> SliceSpec:
    return SliceSpec.model_validate(
        {
            "name": "routine",
            "kind": "routine",
            "min_samples": min_samples,
            "metrics": metrics or ["accuracy", "macro_f1", "per_class_recall", "ece", "error_rate"],
            "thresholds": thresholds,
        }
    )


def metrics(
    n: int = 100,
    *,
    production: bool = True,
    **values: tuple[float, float, float],
) -> SliceMetrics:
    """Slice metrics with given (candidate value, difference low, difference high) per name.

    Names not given are 0.9 with a difference interval of (-0.01, 0.01); error_rate is 0.
    """
    results = []
    names = [("accuracy", None), ("macro_f1", None)]
    names += [(f"recall[{label}]", label) for label in LABELS]
    names += [("ece", None), ("error_rate", None)]
    for name, label in names:
        metric = Metric.PER_CLASS_RECALL if label else Metric(name)
        default = (0.0, 0.0, 0.0) if name == "error_rate" else (0.9, -0.01, 0.01)
        value, low, high = values.get(name.replace("[", "_").rstrip("]"), default)
        difference = Estimate(value - 0.9, low, high) if production else None
        results.append(
            MetricResult(
                metric,
                label,
                Estimate(value, value - 0.02, value + 0.02),
                Estimate(0.9, 0.88, 0.92) if production else None,
                difference,
            )
        )
    return SliceMetrics(
        labels=LABELS,
        n=n,
        n_errors=0,
        n_scored=n,
        n_with_confidence=n,
        support=(n // 2, n - n // 2),
        resamples=1000,
        level=0.95,
        results=tuple(results),
        reliability=(),
        production_reliability=() if production else None,
    )


def test_all_checks_met_passes_with_every_check_listed():
    verdict = judge_slice(
        spec({"accuracy": {"floor": 0.85, "max_drop": 0.02}, "ece": {"ceiling": 0.95}}),
        metrics(),
        max_error_rate=0.02,
    )

    assert verdict.status == VerdictStatus.PASSED
    assert verdict.reasons == ()
    assert not verdict.waivable
    assert [c.message for c in verdict.checks] == [
        "accuracy 0.9 meets floor 0.85",
        "accuracy difference lower bound -0.01 within -0.02",
        "ece 0.9 within ceiling 0.95",
        "error_rate 0 within max_error_rate 0.02",
    ]


def test_floor_missed_fails_with_value_and_floor():
    verdict = judge_slice(
        spec({"accuracy": {"floor": 0.85}}), metrics(accuracy=(0.81, 0, 0)), max_error_rate=0.02
    )

    assert verdict.status == VerdictStatus.FAILED
    assert verdict.reasons == ("accuracy 0.81 below floor 0.85",)


def test_non_inferiority_fails_on_the_lower_bound_of_the_paired_difference():
    verdict = judge_slice(
        spec({"macro_f1": {"max_drop": 0.02}}),
        metrics(macro_f1=(0.89, -0.043, 0.021)),
        max_error_rate=0.02,
    )

    assert verdict.status == VerdictStatus.FAILED
    assert verdict.reasons == ("macro_f1 difference lower bound -0.043 below -0.02",)
    check = verdict.checks[0]
    assert (check.kind, check.limit, check.observed) == (CheckKind.NON_INFERIORITY, -0.02, -0.043)


def test_lower_is_better_non_inferiority_uses_the_upper_bound():
    failing = judge_slice(
        spec({"ece": {"max_drop": 0.03}}), metrics(ece=(0.1, -0.2, 0.041)), max_error_rate=0.02
    )
    # A large improvement (very negative lower bound) is no reason to fail.
    passing = judge_slice(
        spec({"ece": {"max_drop": 0.03}}), metrics(ece=(0.1, -0.2, 0.029)), max_error_rate=0.02
    )

    assert failing.reasons == ("ece difference upper bound 0.041 above 0.03",)
    assert passing.status == VerdictStatus.PASSED
    assert passing.checks[0].message == "ece difference upper bound 0.029 within 0.03"


def test_without_production_non_inferiority_is_not_applicable_and_says_so():
    verdict = judge_slice(
        spec({"accuracy": {"floor": 0.8, "max_drop": 0.02}}),
        metrics(production=False),
        max_error_rate=0.02,
    )

    assert verdict.status == VerdictStatus.PASSED
    check = verdict.checks[1]
    assert check.passed is None
    assert check.message == (
        "accuracy non-inferiority not applicable: no production model to compare"
    )


def test_too_few_examples_is_insufficient_evidence_that_fails_closed_and_is_waivable():
    verdict = judge_slice(
        spec({"accuracy": {"floor": 0.95}}, min_samples=30),
        metrics(n=12),
        max_error_rate=0.02,
    )

    assert verdict.status == VerdictStatus.INSUFFICIENT_EVIDENCE
    assert verdict.waivable
    assert verdict.reasons == (
        "12 examples, fewer than min_samples 30: insufficient evidence (fails closed unless "
        "a person waives it at the gate)",
        "accuracy 0.9 below floor 0.95",
    )
    assert overall_status([verdict]) == VerdictStatus.INSUFFICIENT_EVIDENCE


def test_error_rate_above_the_suite_cap_fails_any_slice():
    verdict = judge_slice(
        spec({}, metrics=["accuracy"]), metrics(error_rate=(0.05, 0, 0)), max_error_rate=0.02
    )

    assert verdict.status == VerdictStatus.FAILED
    assert verdict.reasons == ("error_rate 0.05 above max_error_rate 0.02",)


def test_per_class_recall_floor_checks_every_class():
    verdict = judge_slice(
        spec({"per_class_recall": {"floor": 0.5}}),
        metrics(recall_other=(0.4, 0, 0)),
        max_error_rate=0.02,
    )

    assert [c.metric for c in verdict.checks] == ["recall[billing]", "recall[other]", "error_rate"]
    assert verdict.reasons == ("recall[other] 0.4 below floor 0.5",)


def test_a_metric_that_could_not_be_measured_fails_its_check():
    verdict = judge_slice(
        spec({"ece": {"ceiling": 0.1, "max_drop": 0.02}}),
        metrics(ece=(NAN, NAN, NAN)),
        max_error_rate=0.02,
    )

    assert verdict.reasons == (
        "ece could not be measured (no scored rows with a confidence): fails its ceiling",
        "ece difference from production could not be measured (no scored rows with a "
        "confidence): fails its max_drop",
    )


def test_numbers_get_enough_decimals_to_tell_value_and_limit_apart():
    verdict = judge_slice(
        spec({"accuracy": {"floor": 0.85}}), metrics(accuracy=(0.84999, 0, 0)), max_error_rate=0.02
    )

    assert verdict.reasons == ("accuracy 0.84999 below floor 0.85",)


def test_overall_status_is_failed_over_insufficient_over_passed():
    def verdict(status: VerdictStatus) -> SliceVerdict:
        return SliceVerdict("s", spec({}).kind, status, 1, 1, (), ())

    passed, failed = verdict(VerdictStatus.PASSED), verdict(VerdictStatus.FAILED)
    short = verdict(VerdictStatus.INSUFFICIENT_EVIDENCE)

    assert overall_status([passed, passed]) == VerdictStatus.PASSED
    assert overall_status([passed, short]) == VerdictStatus.INSUFFICIENT_EVIDENCE
    assert overall_status([short, failed, passed]) == VerdictStatus.FAILED
    assert overall_status([]) == VerdictStatus.FAILED


def test_candidate_much_worse_than_production_fails_non_inferiority_on_real_metrics():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 2, 2000)
    production = np.where(rng.random(2000) < 0.9, truth, 1 - truth)
    candidate = np.where(rng.random(2000) < 0.8, truth, 1 - truth)
    measured = compute_slice_metrics(
        truth,
        Predictions.of(candidate),
        labels=LABELS,
        production=Predictions.of(production),
        resamples=300,
        seed=1,
    )

    verdict = judge_slice(
        spec({"accuracy": {"floor": 0.7, "max_drop": 0.02}}), measured, max_error_rate=0.02
    )

    difference = measured.get("accuracy").difference
    assert difference is not None and difference.high < -0.02
    assert verdict.status == VerdictStatus.FAILED
    assert [c.passed for c in verdict.checks] == [True, False, True]
    assert verdict.reasons[0].startswith("accuracy difference lower bound -0.1")


def test_recall_floor_on_a_class_the_slice_lacks_says_why_it_fails():
    truth = np.array([0] * 40)  # no example of "other"
    measured = compute_slice_metrics(
        truth, Predictions.of(truth.copy()), labels=LABELS, resamples=100
    )

    verdict = judge_slice(spec({"per_class_recall": {"floor": 0.5}}), measured, max_error_rate=0.02)

    assert verdict.reasons == ("recall[other] 0 below floor 0.5 (the slice has no examples of it)",)
