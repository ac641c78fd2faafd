"""Annotation rounds in the ledger: opening, the collection state machine, re-annotation.

A round's id derives from its parameters, so opening it again returns it. While a flow run
waits for its labels the round is ``COLLECTING`` with ``flow_run_id`` and ``waits`` (how
many times a run waited); it ends ``COLLECTED`` when nothing is missing or its deadline
policy says to go on. At the deadline the ``REASSIGN`` policy gives each missing regular
item to another active annotator once (the late assignment is marked ``superseded``) and
moves the deadline by the round's window. ``details`` holds settings and verdicts in the
shape of ``RoundDetails``.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from govflow.annotation.assignment import assign_round, plan_reassignment
from govflow.domain import (
    DeadlinePolicy,
    PersonStatus,
    Role,
    RoundKind,
    RoundStatus,
    Stage,
)
from govflow.errors import InputError, NotFound
from govflow.hashing import content_hash
from govflow.ledger.audit import append_event
from govflow.ledger.bulk import db_time, insert_ignoring_conflicts, lock_key
from govflow.ledger.datasets import PreparedItems, read_version_hashes, register_dataset_version
from govflow.ledger.models import (
    Annotation,
    AnnotationRound,
    Assignment,
    DatasetVersion,
    GoldItem,
    GuidelineVersion,
    Person,
    as_utc,
    utcnow,
)

__all__ = [
    "CollectionSummary",
    "Reassignment",
    "RoundDetails",
    "RoundState",
    "active_annotators",
    "begin_waiting",
    "close_collection",
    "expired_collections",
    "get_round",
    "open_round",
    "queue_reannotation",
    "read_details",
    "reassign_missing",
    "round_for_update",
    "round_id_for",
    "round_state",
    "write_details",
]


class CollectionSummary(BaseModel):
    """How collection ended: every label in, or the deadline with some missing."""

    model_config = ConfigDict(extra="forbid")

    ended_by: Literal["complete", "deadline"]
    assigned: int
    annotated: int
    missing: int
    missing_by_annotator: dict[str, int]


class Reassignment(BaseModel):
    """What the ``reassign`` deadline policy did (once per round)."""

    model_config = ConfigDict(extra="forbid")

    moved: int
    unplaced: int
    previous_deadline: str
    new_deadline: str


class RoundDetails(BaseModel):
    """A round's settings, counts and verdicts (the JSON ``details`` column)."""

    model_config = ConfigDict(extra="forbid")

    seed: int = 0
    deadline_hours: float | None = None
    # annotation rounds
    items: int | None = None
    annotators: int | None = None
    assignments: int | None = None
    gold: int | None = None
    gold_mixed_in: int | None = None
    calibration: list[dict[str, Any]] | None = None  # AnnotatorCalibration per annotator
    collection: CollectionSummary | None = None
    reassigned: Reassignment | None = None
    # calibration sessions
    people: list[str] | None = None
    per_person: int | None = None
    verdicts: list[dict[str, Any]] | None = None  # CalibrationVerdict per annotator


def read_details(found: AnnotationRound) -> RoundDetails:
    """Return a round's details as their typed model."""
    return RoundDetails.model_validate(found.details or {})


def write_details(found: AnnotationRound, details: RoundDetails) -> None:
    """Store the typed details (a new dict, so the JSON column is marked as changed)."""
    found.details = details.model_dump(mode="json", exclude_none=True)


def round_id_for(
    *,
    project: str,
    dataset_version_id: str,
    guideline_version_id: str,
    overlap: int,
    gold_rate: float,
    seed: int,
) -> str:
    """Return the deterministic id of the round with these parameters."""
    key = [project, dataset_version_id, guideline_version_id, overlap, float(gold_rate), seed]
    return "ar-" + content_hash(key)[:24]


def active_annotators(*, session: Session) -> list[str]:
    """Return the ids of active people holding the annotator role, sorted."""
    people = session.scalars(
        select(Person).where(Person.status == PersonStatus.ACTIVE).order_by(Person.id)
    )
    return [p.id for p in people if Role.ANNOTATOR.value in (p.roles or [])]


def get_round(*, session: Session, round_id: str) -> AnnotationRound:
    """Return an annotation round by id."""
    found = session.get(AnnotationRound, round_id)
    if found is None:
        raise NotFound("annotation round", round_id)
    return found


def round_for_update(*, session: Session, round_id: str) -> AnnotationRound:
    """Lock and return a round (its state is updated by collection and calibration)."""
    lock_key(session=session, key=f"round:{round_id}")
    return get_round(session=session, round_id=round_id)


def open_round(
    *,
    session: Session,
    project: str,
    dataset_version_id: str,
    guideline_version_id: str,
    overlap: int,
    gold_rate: float,
    actor: str,
    seed: int = 0,
    deadline: datetime | None = None,
    deadline_policy: DeadlinePolicy | str = DeadlinePolicy.PROCEED,
    deadline_hours: float | None = None,
) -> tuple[AnnotationRound, bool]:
    """Open a round and assign its items; the same parameters return the existing round.

    ``deadline_hours`` is the round's window, used again when the ``reassign`` policy moves
    the deadline.
    """
    policy = DeadlinePolicy(deadline_policy)
    if overlap < 1:
        raise InputError(f"overlap must be at least 1, got {overlap}")
    if not 0.0 <= gold_rate < 1.0:
        raise InputError(f"gold rate must be in [0, 1), got {gold_rate}")
    round_id = round_id_for(
        project=project,
        dataset_version_id=dataset_version_id,
        guideline_version_id=guideline_version_id,
        overlap=overlap,
        gold_rate=gold_rate,
        seed=seed,
    )
    lock_key(session=session, key=round_id)
    existing = session.get(AnnotationRound, round_id)
    if existing is not None:
        return existing, False
    if session.get(DatasetVersion, dataset_version_id) is None:
        raise NotFound("dataset version", dataset_version_id)
    guideline = session.get(GuidelineVersion, guideline_version_id)
    if guideline is None:
        raise NotFound("guideline version", guideline_version_id)
    if guideline.project != project:
        raise InputError(
            f"guideline version {guideline_version_id!r} belongs to project "
            f"{guideline.project!r}, not {project!r}"
        )
    annotators = active_annotators(session=session)
    if len(annotators) < overlap:
        raise InputError(
            f"overlap {overlap} needs at least {overlap} active annotators; "
            f"only {len(annotators)} are active",
            hint="add annotators with `govflow reviewers add ID --role annotator` "
            "or lower the overlap",
        )
    items = list(dict.fromkeys(read_version_hashes(session=session, version_id=dataset_version_id)))
    gold = list(
        session.scalars(
            select(GoldItem.item_hash)
            .where(GoldItem.project == project)
            .order_by(GoldItem.item_hash)
        )
    )
    plan = assign_round(
        items=items,
        annotators=annotators,
        gold=gold,
        overlap=overlap,
        gold_rate=gold_rate,
        seed=seed,
    )
    counts = plan.counts(items=len(items), annotators=len(annotators))
    new_round = AnnotationRound(
        id=round_id,
        kind=RoundKind.ANNOTATION,
        project=project,
        dataset_version_id=dataset_version_id,
        guideline_version_id=guideline_version_id,
        overlap=overlap,
        gold_rate=float(gold_rate),
        status=RoundStatus.OPEN,
        deadline=deadline,
        deadline_policy=policy,
        waits=0,
        created_by=actor,
    )
    write_details(
        new_round,
        RoundDetails(
            seed=seed, gold_mixed_in=plan.gold_mixed_in, deadline_hours=deadline_hours, **counts
        ),
    )
    session.add(new_round)
    session.flush([new_round])
    now = db_time(session, utcnow())
    insert_ignoring_conflicts(
        session=session,
        table=Assignment.__tablename__,
        columns=("round_id", "item_hash", "annotator_id", "is_gold", "assigned_at"),
        rows=[(round_id, h, p, g, now) for h, p, g in plan.rows],
        conflict_columns=("round_id", "item_hash", "annotator_id"),
    )
    append_event(
        session=session,
        actor=actor,
        action="annotation.round_opened",
        subject=round_id,
        details={
            "project": project,
            "dataset_version_id": dataset_version_id,
            "guideline_version_id": guideline_version_id,
            "overlap": overlap,
            "gold_rate": float(gold_rate),
            **counts,
        },
    )
    return new_round, True


class RoundState(BaseModel):
    """What a round still lacks: (item, annotator, is_gold) assignments without a label."""

    assigned: int
    annotated: int
    missing: list[tuple[str, str, bool]]


def round_state(*, session: Session, round_id: str) -> RoundState:
    """Count the round's live assignments and list those still without a label."""
    assignments = session.execute(
        select(Assignment.item_hash, Assignment.annotator_id, Assignment.is_gold).where(
            Assignment.round_id == round_id, Assignment.superseded.is_(False)
        )
    ).all()
    done = set(
        session.execute(
            select(Annotation.item_hash, Annotation.annotator_id).where(
                Annotation.round_id == round_id
            )
        ).all()
    )
    live = [(h, a, bool(g)) for h, a, g in assignments]
    missing = sorted(row for row in live if (row[0], row[1]) not in done)
    return RoundState(assigned=len(live), annotated=len(live) - len(missing), missing=missing)


def begin_waiting(
    *, session: Session, found: AnnotationRound, flow_run_id: str, missing: int, actor: str
) -> int:
    """Mark the round ``COLLECTING`` for this run; return the wait's number (1, 2, ...)."""
    found.waits += 1
    found.status = RoundStatus.COLLECTING
    found.flow_run_id = flow_run_id
    if found.waits == 1:
        append_event(
            session=session,
            actor=actor,
            action="annotation.collecting",
            subject=found.id,
            details={"flow_run_id": flow_run_id, "missing": missing},
        )
    session.flush([found])
    return found.waits


def close_collection(
    *,
    session: Session,
    found: AnnotationRound,
    state: RoundState,
    ended_by: Literal["complete", "deadline"],
    actor: str,
) -> CollectionSummary:
    """End collection: record what arrived and what is missing, per annotator."""
    summary = CollectionSummary(
        ended_by=ended_by,
        assigned=state.assigned,
        annotated=state.annotated,
        missing=len(state.missing),
        missing_by_annotator=dict(sorted(Counter(a for _, a, _ in state.missing).items())),
    )
    found.status = RoundStatus.COLLECTED
    write_details(found, read_details(found).model_copy(update={"collection": summary}))
    append_event(
        session=session,
        actor=actor,
        action="annotation.collected",
        subject=found.id,
        details=summary.model_dump(),
    )
    return summary


def reassign_missing(
    *, session: Session, found: AnnotationRound, state: RoundState, actor: str
) -> Reassignment:
    """Give each missing regular item to another active annotator; supersede the original."""
    holders: dict[str, set[str]] = {}
    load: Counter[str] = Counter()
    for item, annotator in session.execute(
        select(Assignment.item_hash, Assignment.annotator_id).where(Assignment.round_id == found.id)
    ).all():
        holders.setdefault(item, set()).add(annotator)
        load[annotator] += 1
    moved, unplaced = plan_reassignment(
        missing=state.missing,
        active=active_annotators(session=session),
        holders=holders,
        load=load,
    )
    now = db_time(session, utcnow())
    insert_ignoring_conflicts(
        session=session,
        table=Assignment.__tablename__,
        columns=("round_id", "item_hash", "annotator_id", "is_gold", "assigned_at"),
        rows=[(found.id, item, chosen, False, now) for item, _, chosen in moved],
        conflict_columns=("round_id", "item_hash", "annotator_id"),
    )
    for item, annotator, _ in state.missing:
        session.execute(
            update(Assignment)
            .where(
                Assignment.round_id == found.id,
                Assignment.item_hash == item,
                Assignment.annotator_id == annotator,
            )
            .values(superseded=True)
        )
    details = read_details(found)
    previous = as_utc(found.deadline) if found.deadline else utcnow()
    window = details.deadline_hours
    found.deadline = utcnow() + (timedelta(hours=window) if window else timedelta(days=1))
    summary = Reassignment(
        moved=len(moved),
        unplaced=unplaced,
        previous_deadline=previous.isoformat(),
        new_deadline=as_utc(found.deadline).isoformat(),
    )
    write_details(found, details.model_copy(update={"reassigned": summary}))
    append_event(
        session=session,
        actor=actor,
        action="annotation.reassigned",
        subject=found.id,
        details={
            **summary.model_dump(),
            "to": dict(sorted(Counter(chosen for _, _, chosen in moved).items())),
        },
    )
    return summary


def expired_collections(*, session: Session, now: datetime) -> list[tuple[str, str]]:
    """Return (round id, flow run id) of collecting rounds whose deadline has passed."""
    return [
        (found.id, found.flow_run_id)
        for found in session.scalars(
            select(AnnotationRound).where(AnnotationRound.status == RoundStatus.COLLECTING)
        )
        if found.flow_run_id and found.deadline is not None and as_utc(found.deadline) <= now
    ]


def queue_reannotation(
    *,
    session: Session,
    source_round: AnnotationRound,
    guideline: GuidelineVersion,
    items: list[str],
    dataset: str,
    actor: str,
    flow_run_id: str | None,
) -> AnnotationRound | None:
    """Register the queued items as a ``reannotation`` version and open a round for them."""
    if not items:
        return None
    # The items are stored already (they were annotated): only membership rows are new.
    version = register_dataset_version(
        session=session,
        name=dataset,
        stage=Stage.REANNOTATION,
        items=PreparedItems(hashes=list(items)),
        actor=actor,
        parent_ids=[source_round.dataset_version_id],
        flow_run_id=flow_run_id,
        transformations=[
            {
                "step": "reannotation_queue",
                "source_round": source_round.id,
                "guideline_version_id": guideline.id,
                "items": len(items),
            }
        ],
    ).version
    queued, is_new = open_round(
        session=session,
        project=source_round.project,
        dataset_version_id=version.id,
        guideline_version_id=guideline.id,
        overlap=source_round.overlap,
        gold_rate=0.0,
        actor=actor,
        seed=read_details(source_round).seed,
    )
    if is_new:
        append_event(
            session=session,
            actor=actor,
            action="annotation.reannotation_queued",
            subject=queued.id,
            details={
                "source_round": source_round.id,
                "guideline_version_id": guideline.id,
                "guideline_version": guideline.version,
                "items": len(items),
            },
        )
    return queued
