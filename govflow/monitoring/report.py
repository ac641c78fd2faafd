"""A production batch's monitoring results as Markdown and as table rows.

``batch_markdown`` is the per-batch report (a Prefect Markdown artifact, or a file): the
verdict, the alerts, drift per column with its test, statistic and threshold, the text
checks, PSI, expected and realized accuracy, and how many outputs went to people and why.
``drift_rows`` and ``summary_row`` are the same figures as plain rows for table artifacts
and for the drift history that ``plots.drift_history_figure`` draws.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from govflow.monitoring.batch import BatchMonitoring
from govflow.monitoring.drift import ColumnDrift
from govflow.monitoring.performance import ExpectedAccuracy, RealizedAccuracy

__all__ = ["batch_markdown", "drift_rows", "reason_counts", "summary_row"]


def drift_rows(result: BatchMonitoring, *, batch: str | None = None) -> list[dict[str, Any]]:
    """Return one row per monitored column: its test, statistic, p-value, threshold, verdict."""
    rows = []
    for column in result.drift.columns:
        row: dict[str, Any] = {} if batch is None else {"batch": batch}
        row |= {
            "column": column.column,
            "kind": str(column.kind),
            "test": str(column.test),
            "statistic": column.statistic,
            "p_value": column.p_value,
            "score": column.score,
            "threshold": column.threshold,
            "is_p_value": column.is_p_value,
            "drifted": column.drifted,
        }
        rows.append(row)
    return rows


def summary_row(result: BatchMonitoring, *, batch: str | None = None) -> dict[str, Any]:
    """Return the batch's headline figures as one row."""
    expected = result.expected_accuracy
    realized = result.realized_accuracy
    row: dict[str, Any] = {} if batch is None else {"batch": batch}
    return row | {
        "rows": result.n_rows,
        "drifted": result.drift.drifted,
        "drifted_columns": result.drift.n_drifted,
        "monitored_columns": len(result.drift.columns),
        "label_psi": result.label_psi.psi,
        "confidence_psi": result.confidence_psi.psi,
        "expected_accuracy": None if expected is None else expected.value,
        "realized_accuracy": realized.accuracy,
        "labeled_rows": realized.n_labeled,
        "to_people": result.n_to_people,
    }


def reason_counts(result: BatchMonitoring) -> dict[str, int]:
    """Count the rows sent to people by condition: confidence, missing output, sample."""
    counts: Counter[str] = Counter()
    for reason in result.to_people.values():
        for part in reason.replace(" and ", "; ").split("; "):
            if part.startswith("confidence "):
                counts["confidence below threshold"] += 1
            elif part == "random sample":
                counts["random sample"] += 1
            else:
                counts[part.split(" for ")[0]] += 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def batch_markdown(result: BatchMonitoring, *, title: str | None = None) -> str:
    """Return the batch's monitoring report as Markdown."""
    drift = result.drift
    verdict = (
        f"**drifted**: {drift.n_drifted} of {len(drift.columns)} columns drifted "
        f"(drift share {drift.drift_share:.0%})"
        if drift.drifted
        else f"no drift: {drift.n_drifted} of {len(drift.columns)} columns drifted "
        f"(drift share {drift.drift_share:.0%})"
    )
    lines = [
        f"# {title or f'Monitoring: {result.project}'}",
        "",
        f"{result.n_rows:,} production rows against {result.n_reference:,} reference rows. "
        f"Verdict: {verdict}.",
        "",
        "## Alerts",
        "",
        *([f"- {alert}" for alert in result.alerts()] or ["None."]),
        "",
        "## Drift per column",
        "",
        "| column | kind | test | statistic | p-value | threshold | drifted |",
        "|---|---|---|---|---|---|---|",
        *(_drift_line(column) for column in drift.columns),
    ]
    for text in result.text:
        oov, domain, length = text.oov, text.domain, text.length
        unknown = ", ".join(f"`{t.token}` x{t.count}" for t in oov.top_unknown[:5]) or "none"
        telling = ", ".join(f"`{t.token}`" for t in domain.current_tokens[:5]) or "none"
        lines += [
            "",
            f"## Text: {text.column}",
            "",
            f"- Length: {length.test} {_score(length)} against {_number(length.threshold)}"
            f" ({'drifted' if length.drifted else 'no drift'}).",
            f"- Out of vocabulary: {oov.rate:.1%} of {oov.n_tokens:,} words (limit "
            f"{oov.threshold:.1%}){'; drifted' if oov.drifted else ''}. Most frequent: {unknown}.",
            f"- Domain classifier: ROC AUC {domain.roc_auc:.3f} (drift above "
            f"{domain.threshold:.2f}; {domain.folds}-fold, {domain.n_reference:,} reference and "
            f"{domain.n_current:,} current texts). Words of the current batch: {telling}.",
        ]
    lines += [
        "",
        "## Output stability (PSI)",
        "",
        "| distribution | PSI | band | expected by chance |",
        "|---|---|---|---|",
    ]
    for psi in (result.label_psi, result.confidence_psi):
        lines.append(f"| {psi.name} | {psi.psi:.4f} | {psi.band} | {psi.noise_floor:.4f} |")
    lines += [
        "",
        "## Accuracy",
        "",
        _expected_line(result.expected_accuracy),
        _realized_line(result.realized_accuracy),
        "",
        "## Sent to people",
        "",
        f"{result.n_to_people:,} of {result.n_rows:,} outputs "
        f"({result.n_to_people / result.n_rows:.1%})"
        + (
            ": " + ", ".join(f"{why} {n:,}" for why, n in reason_counts(result).items()) + "."
            if result.n_to_people
            else "."
        ),
        "",
    ]
    return "\n".join(lines)


def _drift_line(column: ColumnDrift) -> str:
    p_value = "" if column.p_value is None else _number(column.p_value)
    test = str(column.test) + ("" if column.is_default_test else " (config)")
    return (
        f"| {column.column} | {column.kind} | {test} | {_number(column.statistic)} | "
        f"{p_value} | {_number(column.threshold)} | {'yes' if column.drifted else 'no'} |"
    )


def _score(column: ColumnDrift) -> str:
    if column.p_value is not None:
        return f"p = {_number(column.p_value)}"
    return _number(column.statistic)


def _expected_line(expected: ExpectedAccuracy | None) -> str:
    if expected is None:
        return "- Expected accuracy: not computed (no calibration from an evaluation)."
    return (
        f"- Expected accuracy: {expected.value:.1%} ({expected.method} calibration, "
        f"{expected.n_rows:,} rows with a confidence), minimum {expected.minimum:.1%}: "
        f"{expected.status}."
    )


def _realized_line(realized: RealizedAccuracy) -> str:
    if realized.accuracy is None:
        return "- Realized accuracy: no labeled rows yet."
    assert realized.ci_low is not None and realized.ci_high is not None
    return (
        f"- Realized accuracy: {realized.accuracy:.1%} ({realized.n_correct:,} of "
        f"{realized.n_labeled:,} labeled rows; {realized.confidence_level:.0%} Wilson interval "
        f"{realized.ci_low:.1%} to {realized.ci_high:.1%}), minimum {realized.minimum:.1%}: "
        f"{realized.status}."
    )


def _number(value: float) -> str:
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.4g}"
