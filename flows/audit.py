"""Audit: specialists re-label a stratified sample of a labeled version; too many errors open an
intervention.

In:  ``AuditParams``: the project, the labeled version (default: the production model's
     training version), the sample size per label and its seed, the tolerance, who owns an
     intervention.
Out: an audit event (``dataset.audited``) with the label error rate and its Wilson interval;
     above the tolerance, a ``label_errors`` alert, its open intervention (slice: the
     version and the items found wrong) and a ``govflow.label-errors.detected`` event.
People: the active specialists (tier 2 label-audit gate, deadline ``review_deadline_hours``)
     give each sampled item's correct label, or ``unjudged``. Items nobody answered are not
     counted; with none judged, there is no rate and no alert.
"""

from __future__ import annotations

from prefect import flow, get_run_logger
from pydantic import BaseModel, Field

from flows.results import AuditResult
from tasks.audit import plan_audit, record_audit
from tasks.monitoring import intervene_deployment_resources


class AuditParams(BaseModel):
    project: str
    monitor_config: str = Field(description="The monitor config (its label set).")
    owner: str = Field(min_length=1, description="Who owns an intervention the audit opens.")
    version_id: str | None = Field(
        default=None, description="The labeled version (default: production's training data)."
    )
    per_label: int = Field(default=10, ge=1, description="Sampled rows per label.")
    seed: int = 0
    tolerance: float = Field(default=0.05, ge=0, le=1, description="Acceptable error rate.")
    confidence_level: float = Field(default=0.95, gt=0, lt=1)
    text_column: str = "text"
    label_column: str = "label"
    review_deadline_hours: float = Field(default=48, gt=0)


@flow(name="audit", persist_result=True)
def audit(params: AuditParams) -> AuditResult:
    """Sample, have specialists re-label, estimate the label error rate, alert above tolerance."""
    from prefect.events import emit_event

    from govflow.monitoring.audit import label_error_rate
    from govflow.monitoring.config import load_monitor_config
    from govflow.review.gate import request_review

    logger = get_run_logger()
    config = load_monitor_config(params.monitor_config)
    plan = plan_audit(
        project=params.project,
        version_id=params.version_id,
        label_set=config.label_set,
        text_column=params.text_column,
        label_column=params.label_column,
        per_label=params.per_label,
        seed=params.seed,
        deadline_hours=params.review_deadline_hours,
    )
    gate = request_review(plan.request)
    finding = label_error_rate(
        gate,
        plan.recorded,
        tolerance=params.tolerance,
        confidence_level=params.confidence_level,
    )
    alert = record_audit(
        plan,
        finding,
        project=params.project,
        gate_id=gate.gate_id,
        seed=params.seed,
        owner=params.owner,
    )
    if alert is not None:
        logger.warning("alert label_errors: %s", alert["summary"])
        if alert["is_new"]:
            emit_event(
                event="govflow.label-errors.detected",
                resource={
                    "prefect.resource.id": f"govflow.intervention.{alert['intervention_id']}",
                    "govflow.project": params.project,
                },
                related=intervene_deployment_resources(),
                payload={
                    "alert_id": alert["id"],
                    "summary": alert["summary"],
                    "intervention_id": alert["intervention_id"],
                    "monitor_config": params.monitor_config,
                },
            )
    return AuditResult(
        project=params.project,
        version_id=plan.version_id,
        finding=finding.model_dump(mode="json"),
        alert=alert["summary"] if alert else None,
        intervention_id=alert["intervention_id"] if alert else None,
    )
