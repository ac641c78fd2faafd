"""Evaluation suites, runs, red-team findings and sign-offs in the ledger.

A suite version is keyed by the hash of its content and numbered per project; a new version
with added edge cases (accepted red-team findings) links to its parent. An evaluation run
is keyed by what was evaluated (model, suite version, production model, data versions), so
evaluating again records nothing new. Each signer's decision on a run is recorded once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govflow.domain import EvaluationSource, EvaluationStatus, FindingStatus, SignOffDecision
from govflow.errors import NotFound
from govflow.hashing import content_hash
from govflow.ledger.audit import append_event
from govflow.ledger.bulk import lock_key
from govflow.ledger.models import (
    EvaluationRun,
    EvaluationSuiteVersion,
    RedTeamFinding,
    SignOff,
)

__all__ = [
    "evaluation_run_id_for",
    "get_evaluation_run",
    "latest_suite_version",
    "read_findings",
    "read_signoffs",
    "record_evaluation_run",
    "record_findings",
    "record_signoff",
    "register_suite_version",
    "runs_of_model",
    "set_findings_status",
]


def register_suite_version(
    *,
    session: Session,
    project: str,
    content: dict[str, Any],
    content_hash_: str,
    parent_hash: str | None,
    reason: str,
    authors: list[str],
    actor: str,
) -> tuple[EvaluationSuiteVersion, bool]:
    """Record a suite version by its content hash (once); return it and whether it is new."""
    version_id = "es-" + content_hash_[:24]
    lock_key(session=session, key=f"suite:{project}")
    existing = session.get(EvaluationSuiteVersion, version_id)
    if existing is not None:
        return existing, False
    parent = (
        session.scalar(
            select(EvaluationSuiteVersion).where(EvaluationSuiteVersion.content_hash == parent_hash)
        )
        if parent_hash
        else None
    )
    number = (
        session.scalar(
            select(func.max(EvaluationSuiteVersion.version)).where(
                EvaluationSuiteVersion.project == project
            )
        )
        or 0
    ) + 1
    version = EvaluationSuiteVersion(
        id=version_id,
        project=project,
        version=number,
        content_hash=content_hash_,
        content=content,
        parent_id=parent.id if parent else None,
        reason=reason,
        authors=authors,
        created_by=actor,
    )
    session.add(version)
    session.flush([version])
    append_event(
        session=session,
        actor=actor,
        action="evaluation.suite_versioned",
        subject=version_id,
        details={
            "project": project,
            "version": number,
            "content_hash": content_hash_,
            "parent_id": version.parent_id,
            "reason": reason,
        },
    )
    return version, True


def latest_suite_version(*, session: Session, project: str) -> EvaluationSuiteVersion | None:
    """Return the newest suite version of a project, if any."""
    return session.scalars(
        select(EvaluationSuiteVersion)
        .where(EvaluationSuiteVersion.project == project)
        .order_by(EvaluationSuiteVersion.version.desc())
        .limit(1)
    ).first()


def evaluation_run_id_for(
    *,
    model_version_id: str,
    suite_version_id: str,
    production_model_version_id: str | None,
    data_versions: dict[str, str],
    source: EvaluationSource,
) -> str:
    """Return the deterministic id of the evaluation of exactly these inputs."""
    key = [
        model_version_id,
        suite_version_id,
        production_model_version_id,
        data_versions,
        source.value,
    ]
    return "ev-" + content_hash(key)[:24]


def record_evaluation_run(
    *,
    session: Session,
    project: str,
    model_version_id: str,
    suite_version_id: str,
    production_model_version_id: str | None,
    data_versions: dict[str, str],
    source: EvaluationSource,
    status: EvaluationStatus,
    results: dict[str, Any],
    flow_run_id: str | None,
    actor: str,
) -> tuple[EvaluationRun, bool]:
    """Record an evaluation (once per exact inputs); return it and whether it is new."""
    run_id = evaluation_run_id_for(
        model_version_id=model_version_id,
        suite_version_id=suite_version_id,
        production_model_version_id=production_model_version_id,
        data_versions=data_versions,
        source=source,
    )
    lock_key(session=session, key=run_id)
    existing = session.get(EvaluationRun, run_id)
    if existing is not None:
        return existing, False
    run = EvaluationRun(
        id=run_id,
        project=project,
        model_version_id=model_version_id,
        suite_version_id=suite_version_id,
        production_model_version_id=production_model_version_id,
        data_versions=data_versions,
        source=source,
        status=status,
        results=results,
        flow_run_id=flow_run_id,
        created_by=actor,
    )
    session.add(run)
    session.flush([run])
    append_event(
        session=session,
        actor=actor,
        action="evaluation.recorded",
        subject=run_id,
        details={
            "project": project,
            "model_version_id": model_version_id,
            "suite_version_id": suite_version_id,
            "production_model_version_id": production_model_version_id,
            "data_versions": data_versions,
            "source": source.value,
            "status": status.value,
        },
    )
    return run, True


def get_evaluation_run(*, session: Session, run_id: str) -> EvaluationRun:
    """Return an evaluation run by id."""
    found = session.get(EvaluationRun, run_id)
    if found is None:
        raise NotFound("evaluation run", run_id)
    return found


def runs_of_model(*, session: Session, model_version_id: str) -> list[EvaluationRun]:
    """Return a model version's evaluation runs, oldest first."""
    return list(
        session.scalars(
            select(EvaluationRun)
            .where(EvaluationRun.model_version_id == model_version_id)
            .order_by(EvaluationRun.created_at)
        )
    )


def record_findings(
    *, session: Session, evaluation_run_id: str, findings: list[dict[str, Any]], actor: str
) -> int:
    """Record red-team findings of a run (once each); return how many were new."""
    lock_key(session=session, key=f"findings:{evaluation_run_id}")
    known = set(
        session.scalars(
            select(RedTeamFinding.id).where(RedTeamFinding.evaluation_run_id == evaluation_run_id)
        )
    )
    new = [f for f in findings if f["id"] not in known]
    session.add_all(
        RedTeamFinding(evaluation_run_id=evaluation_run_id, status=FindingStatus.OPEN, **f)
        for f in new
    )
    session.flush()
    if new:
        append_event(
            session=session,
            actor=actor,
            action="evaluation.findings_recorded",
            subject=evaluation_run_id,
            details={"findings": len(new)},
        )
    return len(new)


def read_findings(*, session: Session, evaluation_run_id: str) -> list[RedTeamFinding]:
    """Return a run's findings by probe and id."""
    return list(
        session.scalars(
            select(RedTeamFinding)
            .where(RedTeamFinding.evaluation_run_id == evaluation_run_id)
            .order_by(RedTeamFinding.probe, RedTeamFinding.id)
        )
    )


def set_findings_status(
    *,
    session: Session,
    evaluation_run_id: str,
    probe: str,
    status: FindingStatus,
    review_task_id: str,
    actor: str,
) -> int:
    """Settle the open findings of one probe as specialists decided; return how many."""
    open_ones = [
        f
        for f in read_findings(session=session, evaluation_run_id=evaluation_run_id)
        if f.probe == probe and f.status is FindingStatus.OPEN
    ]
    for finding in open_ones:
        finding.status = status
        finding.review_task_id = review_task_id
    session.flush()
    if open_ones:
        append_event(
            session=session,
            actor=actor,
            action="evaluation.findings_judged",
            subject=evaluation_run_id,
            details={"probe": probe, "status": status.value, "findings": len(open_ones)},
        )
    return len(open_ones)


def record_signoff(
    *,
    session: Session,
    evaluation_run_id: str,
    signer_id: str,
    decision: SignOffDecision,
    waived: list[str],
    note: str | None,
    review_task_id: str,
) -> SignOff:
    """Record one signer's decision on a run (the first one stays)."""
    lock_key(session=session, key=f"signoff:{evaluation_run_id}:{signer_id}")
    existing = session.get(SignOff, (evaluation_run_id, signer_id))
    if existing is not None:
        return existing
    signoff = SignOff(
        evaluation_run_id=evaluation_run_id,
        signer_id=signer_id,
        decision=decision,
        waived=waived,
        note=note,
        review_task_id=review_task_id,
    )
    session.add(signoff)
    session.flush([signoff])
    append_event(
        session=session,
        actor=signer_id,
        action="evaluation.signed"
        if decision is SignOffDecision.APPROVE
        else "evaluation.rejected",
        subject=evaluation_run_id,
        details={"waived": waived, "review_task_id": review_task_id},
    )
    return signoff


def read_signoffs(*, session: Session, evaluation_run_id: str) -> list[SignOff]:
    """Return a run's sign-offs in the order they were given."""
    return list(
        session.scalars(
            select(SignOff)
            .where(SignOff.evaluation_run_id == evaluation_run_id)
            .order_by(SignOff.decided_at, SignOff.signer_id)
        )
    )
