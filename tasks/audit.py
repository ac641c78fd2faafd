"""Audit tasks: draw a labeled version's audit sample, record the finding and its alert."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from govflow.ledger.engine import Ledger
from govflow.runtime import flow_actor

__all__ = ["AuditPlan", "plan_audit", "record_audit"]


@dataclass(frozen=True)
class AuditPlan:
    version_id: str
    model_version_id: str | None
    request: Any  # ReviewRequest
    recorded: dict[str, str]  # item key -> recorded label


@task(name="plan-audit", cache_policy=NO_CACHE, persist_result=False)
def plan_audit(
    *,
    project: str,
    version_id: str | None,
    label_set: list[str],
    text_column: str,
    label_column: str,
    per_label: int,
    seed: int,
    deadline_hours: float,
) -> AuditPlan:
    """Pick the version (default: the production model's training version) and its sample."""
    from govflow.domain import PersonStatus, Role
    from govflow.errors import InputError
    from govflow.ledger.datasets import get_version, read_version_records
    from govflow.ledger.model_versions import alias_of
    from govflow.ledger.people import list_people
    from govflow.monitoring.audit import audit_request, audit_sample
    from govflow.records import records_to_frame

    with Ledger.open().reader() as session:
        production = alias_of(session=session, project=project)
        if version_id is None:
            if production is None or production.training_version_id is None:
                raise InputError(
                    f"project {project} has no production model whose training version to "
                    "audit: name the version to audit"
                )
            version_id = production.training_version_id
        version = get_version(session=session, version_id=version_id)
        frame = records_to_frame(read_version_records(session=session, version_id=version.id))
        specialists = [
            p.id
            for p in list_people(session=session, role=Role.SPECIALIST)
            if p.status == PersonStatus.ACTIVE
        ]
    for column in (text_column, label_column):
        if column not in frame.columns:
            raise InputError(f"version {version.id} has no column {column!r} to audit")
    positions = audit_sample(frame[label_column], per_label=per_label, seed=seed)
    request = audit_request(
        frame,
        positions,
        version_id=version.id,
        label_set=label_set,
        text_column=text_column,
        label_column=label_column,
        specialists=specialists,
        deadline_hours=deadline_hours,
    )
    recorded = {f"row-{p}": str(frame.iloc[p][label_column]) for p in positions}
    return AuditPlan(
        version_id=version.id,
        model_version_id=production.id if production else None,
        request=request,
        recorded=recorded,
    )


@task(name="record-audit", cache_policy=NO_CACHE, persist_result=False)
def record_audit(
    plan: AuditPlan, finding: Any, *, project: str, gate_id: str, seed: int, owner: str
) -> dict[str, Any] | None:
    """Record the audit; above tolerance, raise the alert and open its intervention."""
    from govflow.domain import AlertKind
    from govflow.ledger.monitoring import open_intervention, record_alert, record_label_audit

    _, actor = flow_actor()
    details = finding.model_dump(mode="json")
    with Ledger.open().session() as session:
        record_label_audit(
            session=session,
            version_id=plan.version_id,
            finding=details,
            gate_id=gate_id,
            actor=actor,
        )
        if not finding.is_above_tolerance:
            return None
        summary = (
            f"label error rate {finding.error_rate:.1%} above {finding.tolerance:.1%} "
            f"({finding.n_wrong} of {finding.n_judged} audited labels wrong, "
            f"{finding.confidence_level:.0%} interval {finding.ci_low:.1%}-{finding.ci_high:.1%})"
        )
        alert, is_new = record_alert(
            session=session,
            origin=f"audit:{plan.version_id}:{seed}",
            project=project,
            kind=AlertKind.LABEL_ERRORS,
            summary=summary,
            details=details,
            actor=actor,
            model_version_id=plan.model_version_id,
        )
        intervention, _ = open_intervention(
            session=session,
            alert_id=alert.id,
            slice={
                "version_id": plan.version_id,
                "wrong": details["wrong"],
                "description": f"labeled version {plan.version_id}: {summary}",
            },
            slice_version_id=plan.version_id,
            owner=owner,
            actor=actor,
        )
        return {
            "id": alert.id,
            "summary": summary,
            "is_new": is_new,
            "intervention_id": intervention.id,
        }
