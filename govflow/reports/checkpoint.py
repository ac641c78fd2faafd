"""Human-readable summaries of checkpoints, for Prefect artifacts and the terminal."""

from __future__ import annotations

from typing import Any

from govflow.sources.acquire import Acquisition
from govflow.validation.batch import BatchDecision
from govflow.validation.checkpoint import ValidationOutcome

__all__ = ["checkpoint_markdown", "expectation_rows"]


def expectation_rows(outcome: ValidationOutcome) -> list[dict[str, Any]]:
    """One row per expectation: what it checks, its severity and how many rows failed it."""
    return [
        {
            "expectation": result.expectation,
            "column": result.column or "",
            "severity": result.severity.value,
            "success": result.success,
            "unexpected_rows": result.unexpected_count
            if result.unexpected_count is not None
            else "",
            "error": result.error or "",
        }
        for result in outcome.results
    ]


def checkpoint_markdown(
    dataset: str,
    stage: str,
    outcome: ValidationOutcome,
    decision: BatchDecision,
    acquisition: Acquisition | None = None,
) -> str:
    """Summarize a checkpoint: counts that add up, why it stopped, who decided, Data Docs."""
    lines = [f"# {dataset}: {stage} checkpoint", ""]
    if acquisition is not None:
        lines += [
            f"- rows read from {acquisition.source.kind} `{acquisition.source.uri}`: "
            f"**{acquisition.rows_in}**",
            f"- quarantined at acquisition (schema): **{len(acquisition.quarantined)}** "
            + (
                "(" + ", ".join(f"{k}: {v}" for k, v in acquisition.reason_counts().items()) + ")"
                if acquisition.quarantined
                else ""
            ),
        ]
    lines += [
        f"- validated with `{outcome.suite_name}` ({outcome.expectations_evaluated} "
        f"expectations): **{outcome.rows_in}** rows",
        f"- quarantined by the suite: **{outcome.rows_quarantined}** "
        f"({outcome.quarantine_rate:.2%}; threshold {outcome.quarantine_threshold:.1%})",
        f"- passed to the next stage: **{decision.rows_passed}**",
        f"- batch: **{decision.action.value}**",
    ]
    if outcome.batch_failure_reasons:
        lines += ["", "Stopped for a person because:"]
        lines += [f"- {reason}" for reason in outcome.batch_failure_reasons]
    if decision.decided_by:
        lines.append(f"\nDecided by {', '.join(decision.decided_by)} at gate `{decision.gate_id}`")
    if decision.waived:
        lines.append(f"Waived for this batch: {', '.join(decision.waived)}")
    if outcome.data_docs_path:
        lines.append(f"\nData Docs: `{outcome.data_docs_path}`")
    return "\n".join(lines)
