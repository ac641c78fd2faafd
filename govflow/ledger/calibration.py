"""Calibration in the ledger: gold verdicts of a round, and calibration sessions.

The gold verdict of an annotation round is stored in the round the first time and read back
afterwards, so a re-run (a suspended flow restarts from the top) never re-judges annotators
whose status has since changed; exclusions are an idempotent update (labels are marked,
never deleted). A calibration session is a round over the project's gold items (registered
as a ``calibration`` version of them); passing restores ``active``. The scoring itself is
``govflow.annotation.calibration``.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from govflow.annotation.assignment import assign_calibration
from govflow.annotation.calibration import (
    AnnotatorCalibration,
    CalibrationVerdict,
    judge_on_gold,
    score_session,
)
from govflow.domain import DeadlinePolicy, PersonStatus, Role, RoundKind, RoundStatus, Stage
from govflow.errors import InputError
from govflow.hashing import content_hash
from govflow.ledger.annotations import gold_answers, people_statuses, round_labels
from govflow.ledger.audit import append_event
from govflow.ledger.bulk import db_time, insert_ignoring_conflicts, lock_key
from govflow.ledger.datasets import PreparedItems, register_dataset_version
from govflow.ledger.guidelines import get_guideline
from govflow.ledger.models import (
    Annotation,
    AnnotationRound,
    Assignment,
    Person,
    utcnow,
)
from govflow.ledger.people import set_status
from govflow.ledger.rounds import (
    RoundDetails,
    get_round,
    read_details,
    round_for_update,
    write_details,
)

__all__ = [
    "calibrate_round",
    "judge_calibration",
    "needing_calibration",
    "open_calibration_round",
]


def calibrate_round(
    *,
    session: Session,
    round_id: str,
    threshold: float,
    min_gold: int,
    actor: str,
) -> list[AnnotatorCalibration]:
    """Score annotators on the round's gold items; flag and exclude those below ``threshold``.

    Annotators already marked ``needs_calibration`` when the round is judged are excluded
    too. Excluded labels stay in the ledger with ``is_excluded`` and the reason. The verdict
    is stored in the round and returned unchanged on every later call.
    """
    lock_key(session=session, key=f"calibration:{round_id}")
    found = get_round(session=session, round_id=round_id)
    details = read_details(found)
    if details.calibration is not None:
        return [AnnotatorCalibration(**entry) for entry in details.calibration]
    labels = round_labels(session=session, round_id=round_id)
    statuses = people_statuses(session=session, people=labels["annotator"].unique())
    verdicts = judge_on_gold(
        labels,
        gold=gold_answers(session=session, project=found.project),
        statuses=statuses,
        threshold=threshold,
        min_gold=min_gold,
        round_id=round_id,
    )
    for verdict in verdicts:
        if verdict.reason is None:  # excluded exactly when there is a reason
            continue
        if statuses[verdict.annotator] is not PersonStatus.NEEDS_CALIBRATION:
            set_status(
                session=session,
                person_id=verdict.annotator,
                status=PersonStatus.NEEDS_CALIBRATION,
                actor=actor,
                reason=verdict.reason,
            )
        result = session.execute(
            update(Annotation)
            .where(
                Annotation.round_id == round_id,
                Annotation.annotator_id == verdict.annotator,
                Annotation.is_excluded.is_(False),
            )
            .values(is_excluded=True, exclusion_reason=f"needs_calibration: {verdict.reason}")
        )
        append_event(
            session=session,
            actor=actor,
            action="annotation.labels_excluded",
            subject=round_id,
            details={
                "annotator": verdict.annotator,
                "labels": int(result.rowcount or 0),
                "reason": verdict.reason,
            },
        )
    write_details(
        found, details.model_copy(update={"calibration": [v.as_dict() for v in verdicts]})
    )
    session.flush([found])
    return verdicts


def needing_calibration(*, session: Session) -> list[str]:
    """Annotators whose status is ``needs_calibration``, sorted."""
    people = session.scalars(
        select(Person).where(Person.status == PersonStatus.NEEDS_CALIBRATION).order_by(Person.id)
    )
    return [p.id for p in people if Role.ANNOTATOR.value in (p.roles or [])]


def open_calibration_round(
    *,
    session: Session,
    project: str,
    annotators: list[str],
    per_person: int,
    seed: int,
    deadline_hours: float,
    actor: str,
) -> AnnotationRound:
    """Open (or find) the calibration round giving each annotator gold items to label."""
    if not annotators:
        raise InputError("nobody to calibrate: no annotator needs calibration")
    unknown = sorted(set(annotators) - set(session.scalars(select(Person.id))))
    if unknown:
        raise InputError(f"unknown annotators: {', '.join(unknown)}")
    gold = sorted(gold_answers(session=session, project=project))
    if not gold:
        raise InputError(
            f"project {project!r} has no gold items to calibrate with",
            hint="gold items come from an annotate run's gold_path or add_gold_items",
        )
    guideline = get_guideline(session=session, project=project)
    people = sorted(set(annotators))
    round_id = (
        "ar-"
        + content_hash(["calibration", project, people, gold, guideline.id, per_person, seed])[:24]
    )
    lock_key(session=session, key=round_id)
    existing = session.get(AnnotationRound, round_id)
    if existing is not None:
        return existing
    version = register_dataset_version(
        session=session,
        name=f"{project}-gold",
        stage=Stage.CALIBRATION,
        items=PreparedItems(hashes=gold),
        actor=actor,
    ).version
    pairs = assign_calibration(gold=gold, people=people, per_person=per_person, seed=seed)
    calibration = AnnotationRound(
        id=round_id,
        kind=RoundKind.CALIBRATION,
        project=project,
        dataset_version_id=version.id,
        guideline_version_id=guideline.id,
        overlap=1,
        gold_rate=1.0,
        status=RoundStatus.OPEN,
        deadline=utcnow() + timedelta(hours=deadline_hours),
        deadline_policy=DeadlinePolicy.PROCEED,
        waits=0,
        created_by=actor,
    )
    take = min(per_person, len(gold))
    write_details(
        calibration,
        RoundDetails(people=people, per_person=take, seed=seed, deadline_hours=deadline_hours),
    )
    session.add(calibration)
    session.flush([calibration])
    now = db_time(session, utcnow())
    insert_ignoring_conflicts(
        session=session,
        table=Assignment.__tablename__,
        columns=("round_id", "item_hash", "annotator_id", "is_gold", "assigned_at"),
        rows=[(round_id, item, person, True, now) for item, person in pairs],
        conflict_columns=("round_id", "item_hash", "annotator_id"),
    )
    append_event(
        session=session,
        actor=actor,
        action="annotation.calibration_opened",
        subject=round_id,
        details={"project": project, "annotators": people, "per_person": take},
    )
    return calibration


def judge_calibration(
    *, session: Session, round_id: str, threshold: float, actor: str
) -> list[CalibrationVerdict]:
    """Score each annotator of a calibration round; restore those who pass (once)."""
    found = round_for_update(session=session, round_id=round_id)
    if found.kind is not RoundKind.CALIBRATION:
        raise InputError(f"round {round_id} is not a calibration round")
    details = read_details(found)
    if details.verdicts is not None:
        return [CalibrationVerdict(**v) for v in details.verdicts]
    assigned = session.execute(
        select(Assignment.annotator_id, Assignment.item_hash).where(Assignment.round_id == round_id)
    ).all()
    given = {
        (a, h): label
        for a, h, label in session.execute(
            select(Annotation.annotator_id, Annotation.item_hash, Annotation.label).where(
                Annotation.round_id == round_id
            )
        ).all()
    }
    verdicts = score_session(
        assigned=[tuple(row) for row in assigned],
        given=given,
        gold=gold_answers(session=session, project=found.project),
        threshold=threshold,
    )
    for verdict in verdicts:
        summary = (
            f"calibration round {round_id}: {verdict.correct}/{verdict.assigned} gold items correct"
        )
        person = session.get(Person, verdict.annotator)
        if (
            verdict.passed
            and person is not None
            and person.status == PersonStatus.NEEDS_CALIBRATION
        ):
            set_status(
                session=session,
                person_id=verdict.annotator,
                status=PersonStatus.ACTIVE,
                actor=actor,
                reason=f"passed {summary} (threshold {threshold:.2f})",
            )
        append_event(
            session=session,
            actor=actor,
            action="annotation.calibration_passed"
            if verdict.passed
            else "annotation.calibration_failed",
            subject=verdict.annotator,
            details={"round": round_id, "correct": verdict.correct, "assigned": verdict.assigned},
        )
    write_details(found, details.model_copy(update={"verdicts": [v.as_dict() for v in verdicts]}))
    return verdicts
