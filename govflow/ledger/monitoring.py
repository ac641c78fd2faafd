"""Production monitoring in the ledger: monitoring runs, alerts, interventions, output reviews.

A monitoring run is keyed by the production version, its reference and the monitor config,
so judging the same batch again finds the existing run. An alert is keyed by where it came
from (a monitoring run, an audit) and its kind; each alert opens exactly one intervention,
keyed by the alert. An intervention closes only when its three requirements are recorded:
the re-annotation round over the affected slice, the evaluation suite version that gained
the production slice, and a re-evaluation on that suite version that signers approved (at
least one approval, no rejection). Every write is an audit event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govflow.domain import (
    AlertKind,
    InterventionStatus,
    OutputVerdict,
    SignOffDecision,
    Stage,
)
from govflow.errors import GovflowError, InputError, NotFound
from govflow.hashing import sha256_text
from govflow.ledger.audit import append_event
from govflow.ledger.bulk import lock_key
from govflow.ledger.models import (
    AnnotationRound,
    DatasetVersion,
    EvaluationRun,
    EvaluationSuiteVersion,
    Intervention,
    ModelVersion,
    MonitoringAlert,
    MonitoringRun,
    OutputReview,
    SignOff,
    utcnow,
)

__all__ = [
    "InterventionOpen",
    "OutputReviewRecord",
    "alerts_of_run",
    "close_intervention",
    "get_intervention",
    "latest_runs",
    "list_interventions",
    "monitoring_run_id_for",
    "open_intervention",
    "read_output_reviews",
    "recent_runs",
    "record_alert",
    "record_label_audit",
    "record_monitoring_run",
    "record_output_reviews",
    "record_reannotation_round",
    "record_reevaluation",
    "record_suite_version",
    "what_is_left",
]


class InterventionOpen(GovflowError):
    """An intervention may not close yet: ``left`` says what is still missing."""

    exit_code = 1

    def __init__(self, intervention_id: str, left: list[str]) -> None:
        super().__init__(
            f"intervention {intervention_id} cannot close: still missing {'; '.join(left)}"
        )
        self.intervention_id = intervention_id
        self.left = left


def monitoring_run_id_for(
    *, production_version_id: str, reference: dict[str, Any], config_hash: str
) -> str:
    """Return the id of the run judging this batch against this reference with this config."""
    from govflow.hashing import canonical_json

    key = f"{production_version_id}\n{canonical_json(reference)}\n{config_hash}"
    return "mr-" + sha256_text(key)[:24]


def _production_version(session: Session, version_id: str) -> DatasetVersion:
    version = session.get(DatasetVersion, version_id)
    if version is None:
        raise NotFound("dataset version", version_id)
    if version.stage is not Stage.PRODUCTION:
        raise InputError(
            f"dataset version {version_id} is a {version.stage.value} version, "
            "not a production batch"
        )
    return version


def _model(session: Session, model_version_id: str) -> ModelVersion:
    model = session.get(ModelVersion, model_version_id)
    if model is None:
        raise NotFound("model version", model_version_id, hint="run `govflow models list`")
    return model


def record_monitoring_run(
    *,
    session: Session,
    project: str,
    model_version_id: str,
    production_version_id: str,
    reference: dict[str, Any],
    config_hash: str,
    results: dict[str, Any],
    is_drifted: bool,
    n_rows: int,
    n_to_people: int,
    flow_run_id: str | None,
    actor: str,
) -> tuple[MonitoringRun, bool]:
    """Record one batch's monitoring results; the same batch, reference and config finds it."""
    run_id = monitoring_run_id_for(
        production_version_id=production_version_id, reference=reference, config_hash=config_hash
    )
    lock_key(session=session, key=run_id)
    existing = session.get(MonitoringRun, run_id)
    if existing is not None:
        return existing, False
    _model(session, model_version_id)
    _production_version(session, production_version_id)
    run = MonitoringRun(
        id=run_id,
        project=project,
        model_version_id=model_version_id,
        production_version_id=production_version_id,
        reference=reference,
        config_hash=config_hash,
        is_drifted=is_drifted,
        n_rows=n_rows,
        n_to_people=n_to_people,
        results=results,
        flow_run_id=flow_run_id,
        created_by=actor,
    )
    session.add(run)
    session.flush([run])
    append_event(
        session=session,
        actor=actor,
        action="monitoring.run_recorded",
        subject=run_id,
        details={
            "project": project,
            "model_version_id": model_version_id,
            "production_version_id": production_version_id,
            "is_drifted": is_drifted,
            "n_rows": n_rows,
            "n_to_people": n_to_people,
            "flow_run_id": flow_run_id,
        },
    )
    return run, True


def record_alert(
    *,
    session: Session,
    origin: str,
    project: str,
    kind: AlertKind,
    summary: str,
    details: dict[str, Any],
    actor: str,
    model_version_id: str | None = None,
    monitoring_run_id: str | None = None,
) -> tuple[MonitoringAlert, bool]:
    """Record an alert of ``kind`` raised by ``origin`` (a run or audit id), once."""
    kind = AlertKind(kind)
    alert_id = "al-" + sha256_text(f"{origin}\n{kind.value}")[:24]
    lock_key(session=session, key=alert_id)
    existing = session.get(MonitoringAlert, alert_id)
    if existing is not None:
        return existing, False
    if monitoring_run_id is not None and session.get(MonitoringRun, monitoring_run_id) is None:
        raise NotFound("monitoring run", monitoring_run_id)
    if model_version_id is not None:
        _model(session, model_version_id)
    alert = MonitoringAlert(
        id=alert_id,
        project=project,
        kind=kind,
        model_version_id=model_version_id,
        monitoring_run_id=monitoring_run_id,
        summary=summary,
        details=details,
        created_by=actor,
    )
    session.add(alert)
    session.flush([alert])
    append_event(
        session=session,
        actor=actor,
        action="monitoring.alert_raised",
        subject=alert_id,
        details={"project": project, "kind": kind.value, "origin": origin, "summary": summary},
    )
    return alert, True


def alerts_of_run(*, session: Session, monitoring_run_id: str) -> list[MonitoringAlert]:
    """Return a monitoring run's alerts, by kind."""
    return list(
        session.scalars(
            select(MonitoringAlert)
            .where(MonitoringAlert.monitoring_run_id == monitoring_run_id)
            .order_by(MonitoringAlert.kind)
        )
    )


def open_intervention(
    *,
    session: Session,
    alert_id: str,
    slice: dict[str, Any],
    owner: str,
    actor: str,
    slice_version_id: str | None = None,
) -> tuple[Intervention, bool]:
    """Open the intervention of an alert (one per alert); return it and whether it is new."""
    alert = session.get(MonitoringAlert, alert_id)
    if alert is None:
        raise NotFound("alert", alert_id)
    if not owner.strip():
        raise InputError("an intervention needs an owner", hint="set the monitor's owner")
    intervention_id = "iv-" + alert_id.removeprefix("al-")
    lock_key(session=session, key=intervention_id)
    existing = session.get(Intervention, intervention_id)
    if existing is not None:
        return existing, False
    if slice_version_id is not None and session.get(DatasetVersion, slice_version_id) is None:
        raise NotFound("dataset version", slice_version_id)
    intervention = Intervention(
        id=intervention_id,
        project=alert.project,
        alert_id=alert_id,
        trigger=alert.kind,
        model_version_id=alert.model_version_id,
        slice=slice,
        slice_version_id=slice_version_id,
        owner=owner,
        created_by=actor,
    )
    session.add(intervention)
    session.flush([intervention])
    append_event(
        session=session,
        actor=actor,
        action="intervention.opened",
        subject=intervention_id,
        details={
            "project": alert.project,
            "alert_id": alert_id,
            "trigger": alert.kind.value,
            "owner": owner,
            "slice_version_id": slice_version_id,
        },
    )
    return intervention, True


def get_intervention(*, session: Session, intervention_id: str) -> Intervention:
    """Return an intervention by id (a unique prefix of at least 6 characters also works)."""
    found = session.get(Intervention, intervention_id)
    if found is not None:
        return found
    if len(intervention_id) >= 6:
        matches = session.scalars(
            select(Intervention).where(Intervention.id.startswith(intervention_id)).limit(2)
        ).all()
        if len(matches) == 1:
            return matches[0]
    raise NotFound("intervention", intervention_id, hint="run `govflow interventions list`")


def list_interventions(
    *,
    session: Session,
    project: str | None = None,
    status: InterventionStatus | None = None,
) -> list[Intervention]:
    """Return interventions, oldest first, optionally of one project or status."""
    query = select(Intervention).order_by(Intervention.opened_at, Intervention.id)
    if project is not None:
        query = query.where(Intervention.project == project)
    if status is not None:
        query = query.where(Intervention.status == status)
    return list(session.scalars(query))


def _for_update(session: Session, intervention_id: str) -> Intervention:
    lock_key(session=session, key=intervention_id)
    intervention = get_intervention(session=session, intervention_id=intervention_id)
    if intervention.status is InterventionStatus.CLOSED:
        raise InputError(f"intervention {intervention.id} is closed already")
    return intervention


def _set_once(intervention: Intervention, field: str, value: str, what: str) -> bool:
    current = getattr(intervention, field)
    if current == value:
        return False
    if current is not None:
        raise InputError(
            f"intervention {intervention.id} has its {what} already ({current}), not {value}"
        )
    setattr(intervention, field, value)
    return True


def _requirement_event(
    session: Session, intervention: Intervention, actor: str, requirement: str, value: str
) -> None:
    append_event(
        session=session,
        actor=actor,
        action="intervention.requirement_recorded",
        subject=intervention.id,
        details={"requirement": requirement, "value": value},
    )


def record_reannotation_round(
    *, session: Session, intervention_id: str, round_id: str, actor: str
) -> Intervention:
    """Record the re-annotation round opened over the intervention's slice."""
    intervention = _for_update(session, intervention_id)
    if session.get(AnnotationRound, round_id) is None:
        raise NotFound("annotation round", round_id)
    if _set_once(intervention, "reannotation_round_id", round_id, "re-annotation round"):
        _requirement_event(session, intervention, actor, "reannotation_round", round_id)
    return intervention


def record_suite_version(
    *, session: Session, intervention_id: str, suite_version_id: str, actor: str
) -> Intervention:
    """Record the evaluation suite version that gained the production slice."""
    intervention = _for_update(session, intervention_id)
    suite = session.get(EvaluationSuiteVersion, suite_version_id)
    if suite is None:
        raise NotFound("evaluation suite version", suite_version_id)
    if suite.project != intervention.project:
        raise InputError(
            f"suite version {suite_version_id} belongs to {suite.project}, "
            f"not {intervention.project}"
        )
    if _set_once(intervention, "suite_version_id", suite_version_id, "suite version"):
        intervention.suite_version_hash = suite.content_hash
        _requirement_event(session, intervention, actor, "suite_version", suite_version_id)
    return intervention


def record_reevaluation(
    *, session: Session, intervention_id: str, evaluation_run_id: str, actor: str
) -> Intervention:
    """Record the re-evaluation run; it must be on the intervention's new suite version."""
    intervention = _for_update(session, intervention_id)
    run = session.get(EvaluationRun, evaluation_run_id)
    if run is None:
        raise NotFound("evaluation run", evaluation_run_id)
    if intervention.suite_version_id is None:
        raise InputError(
            f"intervention {intervention.id} has no new suite version yet: "
            "re-evaluate after the benchmark gained the production slice"
        )
    if run.suite_version_id != intervention.suite_version_id:
        raise InputError(
            f"evaluation run {evaluation_run_id} used suite version {run.suite_version_id}, "
            f"not the intervention's {intervention.suite_version_id}"
        )
    if _set_once(intervention, "evaluation_run_id", evaluation_run_id, "re-evaluation"):
        _requirement_event(session, intervention, actor, "reevaluation", evaluation_run_id)
    return intervention


def _signoffs(session: Session, evaluation_run_id: str) -> tuple[int, int]:
    rows = session.execute(
        select(SignOff.decision, func.count())
        .where(SignOff.evaluation_run_id == evaluation_run_id)
        .group_by(SignOff.decision)
    ).all()
    counts = {SignOffDecision(decision): n for decision, n in rows}
    return counts.get(SignOffDecision.APPROVE, 0), counts.get(SignOffDecision.REJECT, 0)


def what_is_left(*, session: Session, intervention: Intervention) -> list[str]:
    """Return what must still happen before ``intervention`` may close (empty: nothing)."""
    if intervention.status is InterventionStatus.CLOSED:
        return []
    left: list[str] = []
    if intervention.reannotation_round_id is None:
        left.append("a re-annotation round over the affected slice")
    if intervention.suite_version_id is None:
        left.append("an evaluation suite version with the production slice")
    if intervention.evaluation_run_id is None:
        left.append("a re-evaluation of the production model on that suite version")
    else:
        approvals, rejections = _signoffs(session, intervention.evaluation_run_id)
        if rejections:
            left.append(
                f"a re-evaluation signers approve (run {intervention.evaluation_run_id} "
                f"was rejected by {rejections})"
            )
        elif not approvals:
            left.append(f"sign-off of re-evaluation {intervention.evaluation_run_id}")
    return left


def close_intervention(*, session: Session, intervention_id: str, actor: str) -> Intervention:
    """Close an intervention whose requirements are all met; else raise ``InterventionOpen``."""
    lock_key(session=session, key=intervention_id)
    intervention = get_intervention(session=session, intervention_id=intervention_id)
    if intervention.status is InterventionStatus.CLOSED:
        return intervention
    left = what_is_left(session=session, intervention=intervention)
    if left:
        raise InterventionOpen(intervention.id, left)
    intervention.status = InterventionStatus.CLOSED
    intervention.closed_at = utcnow()
    session.flush([intervention])
    append_event(
        session=session,
        actor=actor,
        action="intervention.closed",
        subject=intervention.id,
        details={
            "reannotation_round_id": intervention.reannotation_round_id,
            "suite_version_id": intervention.suite_version_id,
            "suite_version_hash": intervention.suite_version_hash,
            "evaluation_run_id": intervention.evaluation_run_id,
        },
    )
    return intervention


@dataclass(frozen=True)
class OutputReviewRecord:
    """One production output's verdict: by a reviewer, or by the deadline (no reviewer)."""

    position: int
    item_hash: str
    predicted_label: str | None
    verdict: OutputVerdict
    label: str | None
    reason: str
    reviewer_id: str | None
    review_task_id: str | None
    tier: int


def record_output_reviews(
    *,
    session: Session,
    production_version_id: str,
    model_version_id: str,
    reviews: Sequence[OutputReviewRecord],
    actor: str,
) -> int:
    """Record verdicts on a batch's outputs (a position's first verdict stays); count new ones."""
    _production_version(session, production_version_id)
    _model(session, model_version_id)
    for review in reviews:
        _check_review(review)
    lock_key(session=session, key=f"output-reviews:{production_version_id}")
    known = set(
        session.scalars(
            select(OutputReview.position).where(
                OutputReview.production_version_id == production_version_id
            )
        )
    )
    new = [r for r in reviews if r.position not in known]
    session.add_all(
        OutputReview(
            production_version_id=production_version_id,
            position=r.position,
            item_hash=r.item_hash,
            model_version_id=model_version_id,
            predicted_label=r.predicted_label,
            verdict=r.verdict,
            label=r.label,
            reason=r.reason,
            reviewer_id=r.reviewer_id,
            review_task_id=r.review_task_id,
            tier=r.tier,
        )
        for r in new
    )
    session.flush()
    if new:
        counts: dict[str, int] = {}
        for r in new:
            counts[r.verdict.value] = counts.get(r.verdict.value, 0) + 1
        append_event(
            session=session,
            actor=actor,
            action="production.outputs_reviewed",
            subject=production_version_id,
            details={
                "model_version_id": model_version_id,
                "verdicts": dict(sorted(counts.items())),
                "reviewers": sorted({r.reviewer_id for r in new if r.reviewer_id}),
            },
        )
    return len(new)


def _check_review(review: OutputReviewRecord) -> None:
    verdict = OutputVerdict(review.verdict)
    if verdict is OutputVerdict.CORRECTED and not review.label:
        raise InputError(f"output at row {review.position}: a correction needs the right label")
    if verdict is OutputVerdict.APPROVED and review.label != review.predicted_label:
        raise InputError(f"output at row {review.position}: an approval keeps the model's label")
    if verdict in (OutputVerdict.WITHHELD, OutputVerdict.ESCALATED) and review.label is not None:
        raise InputError(f"output at row {review.position}: a {verdict.value} output has no label")


def read_output_reviews(*, session: Session, production_version_id: str) -> list[OutputReview]:
    """Return a batch's output reviews by row."""
    return list(
        session.scalars(
            select(OutputReview)
            .where(OutputReview.production_version_id == production_version_id)
            .order_by(OutputReview.position)
        )
    )


def latest_runs(*, session: Session, project: str | None = None) -> list[MonitoringRun]:
    """Return the newest monitoring run of each model version, newest first."""
    query = select(MonitoringRun).order_by(MonitoringRun.created_at.desc(), MonitoringRun.id)
    if project is not None:
        query = query.where(MonitoringRun.project == project)
    seen: set[str] = set()
    latest: list[MonitoringRun] = []
    for run in session.scalars(query):
        if run.model_version_id not in seen:
            seen.add(run.model_version_id)
            latest.append(run)
    return latest


def record_label_audit(
    *, session: Session, version_id: str, finding: dict[str, Any], gate_id: str, actor: str
) -> None:
    """Record that specialists audited a labeled version, and what they found (an event)."""
    if session.get(DatasetVersion, version_id) is None:
        raise NotFound("dataset version", version_id)
    append_event(
        session=session,
        actor=actor,
        action="dataset.audited",
        subject=version_id,
        details={"review_task_id": gate_id, **finding},
    )


def recent_runs(*, session: Session, model_version_id: str, limit: int = 10) -> list[MonitoringRun]:
    """Return a model version's last ``limit`` monitoring runs, oldest first."""
    newest = session.scalars(
        select(MonitoringRun)
        .where(MonitoringRun.model_version_id == model_version_id)
        .order_by(MonitoringRun.created_at.desc(), MonitoringRun.id)
        .limit(limit)
    ).all()
    return list(reversed(newest))
