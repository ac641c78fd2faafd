"""Calibration sessions: gold items for annotators who need calibration, and the verdict.

A calibration round is an annotation round over the project's gold items (registered as a
``calibration`` version of the gold items) in which each annotator gets ``per_person``
gold items chosen with the seed. Passing (accuracy at or above the threshold, unanswered
items counting as wrong) restores the annotator's ``active`` status; failing keeps them
out of consensus. The verdict is stored in the round, so repeating the flow repeats
nothing; a new session for the same people takes a new seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from govflow.annotation.consensus import round_for_update
from govflow.annotation.rounds import _db_time
from govflow.errors import InputError
from govflow.hashing import content_hash
from govflow.ledger.audit import append_event
from govflow.ledger.bulk import insert_ignoring_conflicts, lock_key
from govflow.ledger.datasets import PreparedItems, register_dataset_version
from govflow.ledger.guidelines import get_guideline
from govflow.ledger.models import (
    Annotation,
    AnnotationRound,
    Assignment,
    GoldItem,
    Person,
    PersonStatus,
    Role,
    utcnow,
)
from govflow.ledger.people import set_status


@dataclass(frozen=True)
class CalibrationVerdict:
    annotator: str
    assigned: int
    correct: int
    accuracy: float
    passed: bool


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
    gold = list(
        session.scalars(
            select(GoldItem.item_hash)
            .where(GoldItem.project == project)
            .order_by(GoldItem.item_hash)
        )
    )
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
        stage="calibration",
        items=PreparedItems(hashes=gold, payloads=None),
        actor=actor,
    ).version
    rng = np.random.default_rng(seed)
    take = min(per_person, len(gold))
    rows = []
    now = _db_time(session, utcnow())
    for person in people:
        for index in np.sort(rng.choice(len(gold), size=take, replace=False)):
            rows.append((round_id, gold[int(index)], person, True, now))
    calibration = AnnotationRound(
        id=round_id,
        project=project,
        dataset_version_id=version.id,
        guideline_version_id=guideline.id,
        overlap=1,
        gold_rate=1.0,
        deadline=utcnow() + timedelta(hours=deadline_hours),
        deadline_policy="proceed",
        details={
            "kind": "calibration",
            "annotators": people,
            "per_person": take,
            "seed": seed,
            "deadline_hours": deadline_hours,
        },
        created_by=actor,
    )
    session.add(calibration)
    session.flush([calibration])
    insert_ignoring_conflicts(
        session=session,
        table=Assignment.__tablename__,
        columns=("round_id", "item_hash", "annotator_id", "is_gold", "assigned_at"),
        rows=rows,
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
    if found.details.get("kind") != "calibration":
        raise InputError(f"round {round_id} is not a calibration round")
    if "verdicts" in found.details:
        return [CalibrationVerdict(**v) for v in found.details["verdicts"]]
    gold = dict(
        session.execute(
            select(GoldItem.item_hash, GoldItem.label).where(GoldItem.project == found.project)
        ).all()
    )
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
    totals: dict[str, list[int]] = {}
    for annotator, item in assigned:
        tally = totals.setdefault(annotator, [0, 0])
        tally[0] += 1
        tally[1] += int(given.get((annotator, item)) == gold.get(item))
    verdicts = []
    for annotator, (count, correct) in sorted(totals.items()):
        accuracy = correct / count
        passed = accuracy >= threshold
        verdicts.append(CalibrationVerdict(annotator, count, correct, round(accuracy, 6), passed))
        summary = f"calibration round {round_id}: {correct}/{count} gold items correct"
        person = session.get(Person, annotator)
        if passed and person is not None and person.status == PersonStatus.NEEDS_CALIBRATION:
            set_status(
                session=session,
                person_id=annotator,
                status=PersonStatus.ACTIVE,
                actor=actor,
                reason=f"passed {summary} (threshold {threshold:.2f})",
            )
        append_event(
            session=session,
            actor=actor,
            action="annotation.calibration_passed" if passed else "annotation.calibration_failed",
            subject=annotator,
            details={"round": round_id, "correct": correct, "assigned": count},
        )
    found.details = {**found.details, "verdicts": [v.__dict__ for v in verdicts]}
    flag_modified(found, "details")
    return verdicts
