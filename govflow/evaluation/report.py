"""The evaluation report: Markdown for people and table rows for a Prefect table artifact.

Pure functions over an ``Evaluation`` and, when they ran, the red-team result and the slice
scan; nothing here reads or writes files. Numbers are shown with three decimals and
intervals as ``[low, high]``; a value that could not be measured shows as "n/a".
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from govflow.evaluation.metrics import Estimate, MetricResult
from govflow.evaluation.redteam import RedTeamResult
from govflow.evaluation.runs import Evaluation, SliceEvaluation
from govflow.evaluation.slicescan import SliceScan
from govflow.evaluation.thresholds import Check, CheckKind, VerdictStatus
from govflow.reports.markdown import md_text

__all__ = ["evaluation_markdown", "evaluation_table_rows"]

_EXAMPLES_PER_PROBE = 3
_STATUS_WORDS = {
    VerdictStatus.PASSED: "passed",
    VerdictStatus.FAILED: "FAILED",
    VerdictStatus.INSUFFICIENT_EVIDENCE: "INSUFFICIENT EVIDENCE",
}


def evaluation_markdown(
    evaluation: Evaluation,
    *,
    redteam: RedTeamResult | None = None,
    scan: SliceScan | None = None,
    scan_slice: str = "routine",
) -> str:
    """Return the whole report as Markdown: overall verdict, slices, red team, slice scan."""
    lines = [f"# Evaluation of {_cell(evaluation.model)} on {_cell(evaluation.project)}", ""]
    lines += [f"**Overall: {_STATUS_WORDS[evaluation.status]}**. {_summary(evaluation)}", ""]
    lines += _identity(evaluation)
    lines += ["", "## Slices", "", "| Slice | Kind | n | Adapter errors | Verdict |"]
    lines.append("| --- | --- | ---: | ---: | --- |")
    for item in evaluation.slices:
        lines.append(
            f"| {_cell(item.spec.name)} | {item.spec.kind.value} | {item.metrics.n} | "
            f"{item.metrics.n_errors} | {_STATUS_WORDS[item.verdict.status]} |"
        )
    for item in evaluation.slices:
        lines += ["", *_slice_section(item)]
    if redteam is not None:
        lines += ["", *_redteam_section(redteam)]
    if scan is not None:
        lines += ["", *_scan_section(scan, scan_slice)]
    return "\n".join(lines) + "\n"


def evaluation_table_rows(evaluation: Evaluation) -> list[dict[str, Any]]:
    """Return one row per slice and metric, for ``prefect.artifacts.create_table_artifact``."""
    rows = []
    for item in evaluation.slices:
        checks = _checks_by_metric(item.verdict.checks)
        for result in _shown_results(item):
            rows.append(
                {
                    "slice": item.spec.name,
                    "kind": item.spec.kind.value,
                    "metric": result.name,
                    "n": item.metrics.n,
                    "candidate": _number(result.candidate.value),
                    "candidate_low": _number(result.candidate.low),
                    "candidate_high": _number(result.candidate.high),
                    "production": _number(result.production.value if result.production else None),
                    "difference": _number(result.difference.value if result.difference else None),
                    "difference_low": _number(result.difference.low if result.difference else None),
                    "difference_high": _number(
                        result.difference.high if result.difference else None
                    ),
                    "checks": "; ".join(c.message for c in checks.get(result.name, [])),
                    "verdict": item.verdict.status.value,
                }
            )
    return rows


def _summary(evaluation: Evaluation) -> str:
    failed = [s.spec.name for s in evaluation.slices if s.verdict.status == VerdictStatus.FAILED]
    short = [
        s.spec.name
        for s in evaluation.slices
        if s.verdict.status == VerdictStatus.INSUFFICIENT_EVIDENCE
    ]
    parts = []
    if failed:
        parts.append(f"Failed: {', '.join(failed)}.")
    if short:
        parts.append(
            f"Too few examples (fails closed unless a person waives it at the gate): "
            f"{', '.join(short)}."
        )
    if not parts:
        parts.append(f"All {len(evaluation.slices)} slices met their thresholds.")
    return " ".join(parts)


def _identity(evaluation: Evaluation) -> list[str]:
    first = evaluation.slices[0].metrics if evaluation.slices else None
    production = (
        _cell(evaluation.production_model)
        if evaluation.production_model
        else "none: non-inferiority checks do not apply"
    )
    rows = [
        "| | |",
        "| --- | --- |",
        f"| Suite version | `{evaluation.suite_hash[:16]}` |",
        f"| Candidate | {_cell(evaluation.model)} |",
        f"| Production | {production} |",
    ]
    if evaluation.data_versions:
        data = ", ".join(f"{k}: `{v}`" for k, v in sorted(evaluation.data_versions.items()))
        rows.append(f"| Data read | {_cell(data)} |")
    if first is not None:
        paired = ", paired against production" if first.has_production else ""
        rows.append(
            f"| Intervals | {first.level:.0%} percentile bootstrap, "
            f"{first.resamples:,} resamples{paired} |"
        )
    return rows


def _slice_section(item: SliceEvaluation) -> list[str]:
    spec, metrics, verdict = item.spec, item.metrics, item.verdict
    lines = [f"### {_cell(spec.name)} ({spec.kind.value}): {_STATUS_WORDS[verdict.status]}", ""]
    detail = f"n = {metrics.n} (min_samples {spec.min_samples}), adapter errors {metrics.n_errors}"
    if item.unreadable_answers:
        detail += f", of which {item.unreadable_answers} unreadable answers"
    lines += [detail + ".", ""]
    checks = _checks_by_metric(verdict.checks)
    lines.append("| Metric | Candidate | Production | Difference | Checks |")
    lines.append("| --- | --- | --- | --- | --- |")
    for result in _shown_results(item):
        marks = "; ".join(_mark(c) for c in checks.get(result.name, [])) or "none"
        lines.append(
            f"| {_cell(result.name)} | {_interval(result.candidate)} | "
            f"{_interval(result.production)} | {_interval(result.difference, signed=True)} | "
            f"{marks} |"
        )
    if verdict.reasons:
        lines += ["", "Reasons:", ""]
        lines += [f"- {reason}" for reason in verdict.reasons]
    return lines


def _shown_results(item: SliceEvaluation) -> list[MetricResult]:
    shown = []
    for metric in item.spec.metrics:
        shown.extend(item.metrics.for_metric(metric))
    return shown


def _checks_by_metric(checks: Iterable[Check]) -> dict[str, list[Check]]:
    grouped: dict[str, list[Check]] = {}
    for check in checks:
        grouped.setdefault(check.metric, []).append(check)
    return grouped


def _mark(check: Check) -> str:
    outcome = {True: "met", False: "MISSED", None: "n/a"}[check.passed]
    if check.kind == CheckKind.NON_INFERIORITY:
        # The limit is -max_drop or +max_drop by the metric's direction; show the setting.
        return f"max_drop {abs(check.limit):g}: {outcome}"
    return f"{check.kind.value} {check.limit:g}: {outcome}"


def _redteam_section(result: RedTeamResult) -> list[str]:
    lines = ["## Red team", "", "| Probe | Probes | Failures | Unassessed | Hit rate |"]
    lines.append("| --- | ---: | ---: | ---: | ---: |")
    for rate in result.rates:
        lines.append(
            f"| {_cell(rate.probe)} | {rate.probes} | {rate.failed} | {rate.unassessed} | "
            f"{rate.hit_rate:.1%} |"
        )
    for probe, findings in result.by_probe().items():
        if not findings:
            continue
        lines += ["", f"Examples from {_cell(probe)} ({len(findings)} findings):", ""]
        for finding in findings[:_EXAMPLES_PER_PROBE]:
            lines.append(f"- {_quote(finding.item.text)}: {finding.reason}")
    return lines


def _scan_section(scan: SliceScan, scan_slice: str) -> list[str]:
    lines = [
        f"## Slice scan ({_cell(scan_slice)})",
        "",
        f"Overall accuracy {_value(scan.overall_accuracy)} on {scan.n} scored rows "
        f"({scan.excluded_errors} adapter errors left out). Flagged: "
        f"{', '.join(s.name for s in scan.flagged) or 'none'}.",
        "",
        "| Slice | n | Accuracy | Gap below overall | p | Adjusted p (BH) | Severity |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for s in scan.tested:
        lines.append(
            # Scan slices are named after data values (sources, origins): keep them as text.
            f"| {md_text(s.name)} | {s.n} | {_value(s.accuracy)} | {_percent(s.relative_gap)} | "
            f"{s.p_value:.3g} | {s.adjusted_p:.3g} | {s.severity.value} |"
        )
    if scan.skipped:
        skipped = ", ".join(f"{_cell(name)} ({n})" for name, n in scan.skipped)
        lines += ["", f"Not tested (too few rows, or every row): {skipped}."]
    return lines


def _interval(estimate: Estimate | None, *, signed: bool = False) -> str:
    if estimate is None:
        return "n/a"
    value = _value(estimate.value, signed=signed)
    if math.isnan(estimate.low):
        return value
    low, high = _value(estimate.low, signed=signed), _value(estimate.high, signed=signed)
    return f"{value} [{low}, {high}]"


def _value(value: float, *, signed: bool = False) -> str:
    if math.isnan(value):
        return "n/a"
    return f"{value:+.3f}" if signed else f"{value:.3f}"


def _percent(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:+.1%}"


def _number(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _quote(text: str, limit: int = 120) -> str:
    short = " ".join(text.split())
    if len(short) > limit:
        short = short[: limit - 1] + "…"
    return "`" + short.replace("`", "'") + "`"
