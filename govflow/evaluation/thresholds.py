"""Per-slice verdicts: a suite's thresholds applied to a slice's metrics.

A slice is ``passed`` when every applicable check holds, ``failed`` when one does not, and
``insufficient_evidence`` when it has fewer examples than its ``min_samples``: that fails
closed, and only a person can waive it at the gate (the verdict says so and still lists
every check that failed on the few examples there were, so the person sees them).

Checks (see ``govflow.evaluation.suites`` for the file side):

- ``floor`` / ``ceiling`` on the point estimate; per-class recall checks every class.
- ``non_inferiority`` (``max_drop``) on the paired bootstrap interval of candidate minus
  production: the lower bound must be >= -max_drop where higher is better, the upper bound
  <= +max_drop where lower is better. Without a production model the check is reported
  as not applicable, never as passed.
- ``max_error_rate`` (the suite's) on every slice's adapter error rate.

A metric that could not be measured (NaN: no scored rows, no confidences) fails its check.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable
from dataclasses import dataclass, replace

from govflow.evaluation.metrics import Metric, MetricResult, SliceMetrics
from govflow.evaluation.suites import SliceKind, SliceSpec, Threshold

__all__ = [
    "Check",
    "CheckKind",
    "SliceVerdict",
    "VerdictStatus",
    "judge_slice",
    "overall_status",
]


class VerdictStatus(enum.StrEnum):
    """The outcome of a slice, or of a whole evaluation."""

    PASSED = "passed"
    FAILED = "failed"
    INSUFFICIENT_EVIDENCE = "insufficient_evidence"


class CheckKind(enum.StrEnum):
    """Which rule a check applies."""

    FLOOR = "floor"
    CEILING = "ceiling"
    NON_INFERIORITY = "non_inferiority"
    MAX_ERROR_RATE = "max_error_rate"


@dataclass(frozen=True)
class Check:
    """One rule on one metric: the limit, what was observed and whether it held.

    ``passed`` is None when the check does not apply (no production model to compare);
    ``observed`` is the point estimate, or the interval bound for non-inferiority.
    """

    metric: str
    kind: CheckKind
    limit: float
    observed: float
    passed: bool | None
    message: str


@dataclass(frozen=True)
class SliceVerdict:
    """A slice's status, the checks behind it and, when not passed, the reasons."""

    slice: str
    kind: SliceKind
    status: VerdictStatus
    n: int
    min_samples: int
    checks: tuple[Check, ...]
    reasons: tuple[str, ...]

    @property
    def waivable(self) -> bool:
        """Whether a person may waive this verdict at the gate (insufficient evidence only)."""
        return self.status == VerdictStatus.INSUFFICIENT_EVIDENCE


def judge_slice(spec: SliceSpec, metrics: SliceMetrics, *, max_error_rate: float) -> SliceVerdict:
    """Apply ``spec``'s thresholds and the suite's ``max_error_rate`` to a slice's metrics."""
    checks: list[Check] = []
    absent = {
        label for label, count in zip(metrics.labels, metrics.support, strict=True) if not count
    }
    for metric, threshold in spec.thresholds.items():
        for result in metrics.for_metric(metric):
            found = _checks(result, threshold)
            if result.label in absent:
                # Recall of a class the slice lacks is 0 by definition; say why it fails.
                found = [
                    replace(c, message=f"{c.message} (the slice has no examples of it)")
                    if c.passed is False
                    else c
                    for c in found
                ]
            checks.extend(found)
    error_rate = metrics.get(Metric.ERROR_RATE).candidate.value
    checks.append(_limit_check("error_rate", CheckKind.MAX_ERROR_RATE, error_rate, max_error_rate))
    failed = tuple(c.message for c in checks if c.passed is False)
    if metrics.n < spec.min_samples:
        status = VerdictStatus.INSUFFICIENT_EVIDENCE
        shortfall = (
            f"{metrics.n} examples, fewer than min_samples {spec.min_samples}: insufficient "
            "evidence (fails closed unless a person waives it at the gate)"
        )
        reasons = (shortfall, *failed)
    else:
        status = VerdictStatus.FAILED if failed else VerdictStatus.PASSED
        reasons = failed
    return SliceVerdict(
        slice=spec.name,
        kind=spec.kind,
        status=status,
        n=metrics.n,
        min_samples=spec.min_samples,
        checks=tuple(checks),
        reasons=reasons,
    )


def overall_status(verdicts: Iterable[SliceVerdict]) -> VerdictStatus:
    """Failed if any slice failed, else insufficient evidence if any lacks it, else passed."""
    statuses = {v.status for v in verdicts}
    if not statuses or VerdictStatus.FAILED in statuses:
        return VerdictStatus.FAILED
    if VerdictStatus.INSUFFICIENT_EVIDENCE in statuses:
        return VerdictStatus.INSUFFICIENT_EVIDENCE
    return VerdictStatus.PASSED


def _checks(result: MetricResult, threshold: Threshold) -> list[Check]:
    checks = []
    value = result.candidate.value
    if threshold.floor is not None:
        checks.append(_limit_check(result.name, CheckKind.FLOOR, value, threshold.floor))
    if threshold.ceiling is not None:
        checks.append(_limit_check(result.name, CheckKind.CEILING, value, threshold.ceiling))
    if threshold.max_drop is not None:
        checks.append(_non_inferiority(result, threshold.max_drop))
    return checks


def _limit_check(name: str, kind: CheckKind, value: float, limit: float) -> Check:
    word = kind.value
    if math.isnan(value):
        message = f"{name} could not be measured ({_why_nan(name)}): fails its {word}"
        return Check(name, kind, limit, value, False, message)
    value_text, limit_text = _pair(value, limit)
    if kind == CheckKind.FLOOR:
        passed = value >= limit
        relation = "meets" if passed else "below"
    else:
        passed = value <= limit
        relation = "within" if passed else "above"
    message = f"{name} {value_text} {relation} {word} {limit_text}"
    return Check(name, kind, limit, value, passed, message)


def _non_inferiority(result: MetricResult, max_drop: float) -> Check:
    name = result.name
    if result.difference is None:
        message = f"{name} non-inferiority not applicable: no production model to compare"
        return Check(name, CheckKind.NON_INFERIORITY, max_drop, math.nan, None, message)
    if result.metric.lower_is_better:
        bound, limit, side, worse = result.difference.high, max_drop, "upper", "above"
    else:
        bound, limit, side, worse = result.difference.low, -max_drop, "lower", "below"
    if math.isnan(bound):
        message = (
            f"{name} difference from production could not be measured "
            f"({_why_nan(name)}): fails its max_drop"
        )
        return Check(name, CheckKind.NON_INFERIORITY, limit, bound, False, message)
    passed = bound <= limit if result.metric.lower_is_better else bound >= limit
    bound_text, limit_text = _pair(bound, limit)
    relation = "within" if passed else worse
    message = f"{name} difference {side} bound {bound_text} {relation} {limit_text}"
    return Check(name, CheckKind.NON_INFERIORITY, limit, bound, passed, message)


def _why_nan(name: str) -> str:
    if name == Metric.ECE.value:
        return "no scored rows with a confidence"
    if name == Metric.ERROR_RATE.value:
        return "no rows"
    return "no scored rows"


def _pair(value: float, limit: float) -> tuple[str, str]:
    """Format two numbers with the fewest decimals (at least 3) that tell them apart."""
    for decimals in range(3, 10):
        a, b = _decimal(value, decimals), _decimal(limit, decimals)
        if a != b or value == limit:
            return a, b
    return repr(value), repr(limit)


def _decimal(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
