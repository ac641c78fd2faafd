"""Labels in the ledger: gold answers, exporting tasks, importing labels, reading them back.

Parsing and judging files is ``govflow.annotation.exchange``; this module queries what a
judgement needs and stores what it accepts. An import is idempotent: a label already stored
counts as already recorded, never twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govflow.annotation.context import RoundContext, item_keys
from govflow.annotation.exchange import (
    ExchangeFormat,
    ImportReport,
    Submission,
    judge_submissions,
    parse_submissions,
    quote_some,
    render_tasks,
)
from govflow.domain import GuidelineStatus, PersonStatus
from govflow.errors import InputError
from govflow.hashing import canonical_json
from govflow.ledger.audit import append_event
from govflow.ledger.bulk import db_time, insert_ignoring_conflicts, lock_key
from govflow.ledger.models import (
    Annotation,
    Assignment,
    GoldItem,
    GuidelineVersion,
    Person,
    utcnow,
)
from govflow.ledger.rounds import get_round
from govflow.ledger.version_rows import find_rows, known_hashes

__all__ = [
    "add_gold_items",
    "export_assignments",
    "gold_answers",
    "import_annotations",
    "latest_label_set",
    "load_round_context",
    "people_statuses",
    "round_annotators",
    "round_labels",
    "round_progress",
]


def latest_label_set(*, session: Session, project: str) -> list[str] | None:
    """Return the label set of the project's newest published guideline version, if any."""
    labels = session.scalar(
        select(GuidelineVersion.label_set)
        .where(
            GuidelineVersion.project == project,
            GuidelineVersion.status == GuidelineStatus.PUBLISHED,
        )
        .order_by(GuidelineVersion.version.desc())
        .limit(1)
    )
    return None if labels is None else [str(label) for label in labels]


def gold_answers(*, session: Session, project: str) -> dict[str, str]:
    """Return the project's gold items: item hash -> known label."""
    return dict(
        session.execute(
            select(GoldItem.item_hash, GoldItem.label).where(GoldItem.project == project)
        ).all()
    )


def add_gold_items(
    *,
    session: Session,
    project: str,
    items: Sequence[tuple[str, str]],
    actor: str,
    label_set: Sequence[str] | None = None,
) -> int:
    """Record items with known answers for a project; return how many were new.

    Labels are checked against ``label_set``, or else the newest published guideline's.
    """
    labels = (
        list(label_set)
        if label_set is not None
        else latest_label_set(session=session, project=project)
    )
    if labels is None:
        raise InputError(
            f"project {project!r} has no published guideline to check gold labels against",
            hint="publish a guideline first or pass the label set",
        )
    answers = dict(items)
    if len(answers) != len(items):
        raise InputError("each gold item may appear only once")
    bad_labels = sorted({label for label in answers.values() if label not in labels})
    if bad_labels:
        raise InputError(f"gold labels not in the label set {labels}: {quote_some(bad_labels)}")
    missing = sorted(set(answers) - known_hashes(session=session, hashes=answers))
    if missing:
        raise InputError(f"gold items not in the ledger: {quote_some(missing)}")
    lock_key(session=session, key=f"gold:{project}")
    stored = gold_answers(session=session, project=project)
    conflicts = sorted(h for h, label in answers.items() if stored.get(h, label) != label)
    if conflicts:
        raise InputError(f"gold items already recorded with another label: {quote_some(conflicts)}")
    new = sorted(set(answers) - set(stored))
    now = db_time(session, utcnow())
    insert_ignoring_conflicts(
        session=session,
        table=GoldItem.__tablename__,
        columns=("project", "item_hash", "label", "created_by", "created_at"),
        rows=[(project, h, answers[h], actor, now) for h in new],
        conflict_columns=("project", "item_hash"),
    )
    if new:
        append_event(
            session=session,
            actor=actor,
            action="annotation.gold_added",
            subject=project,
            details={"added": len(new), "already_recorded": len(answers) - len(new)},
        )
    return len(new)


def round_annotators(*, session: Session, round_id: str) -> list[str]:
    """Return everyone with work in the round, sorted."""
    return sorted(
        set(session.scalars(select(Assignment.annotator_id).where(Assignment.round_id == round_id)))
    )


def export_assignments(
    *,
    session: Session,
    round_id: str,
    annotator_id: str | None = None,
    fmt: ExchangeFormat | str = ExchangeFormat.JSONL,
) -> str:
    """Render a round's assignments for annotators (gold items look like any other)."""
    found = get_round(session=session, round_id=round_id)
    query = (
        select(Assignment.annotator_id, Assignment.item_hash)
        .where(Assignment.round_id == round_id)
        .order_by(Assignment.annotator_id, Assignment.item_hash)
    )
    if annotator_id is not None:
        query = query.where(Assignment.annotator_id == annotator_id)
    pairs = [tuple(row) for row in session.execute(query).all()]
    records = find_rows(
        session=session, hashes={h for _, h in pairs}, first=[found.dataset_version_id]
    )
    rows = [(a, h, canonical_json(records[h])) for a, h in pairs if h in records]
    return render_tasks(rows, round_id=round_id, fmt=fmt)


def import_annotations(
    *,
    session: Session,
    round_id: str,
    content: str,
    fmt: ExchangeFormat | str = ExchangeFormat.JSONL,
    actor: str,
) -> ImportReport:
    """Store the valid labels of an annotation file; report every other one with a reason."""
    fmt = ExchangeFormat(fmt)
    found = get_round(session=session, round_id=round_id)
    parsed = parse_submissions(content, fmt)
    items = [p.item for p in parsed if isinstance(p, Submission)]
    labels = session.scalar(
        select(GuidelineVersion.label_set).where(GuidelineVersion.id == found.guideline_version_id)
    )
    people = set(session.scalars(select(Person.id)))
    known_items = known_hashes(session=session, hashes=items)
    lock_key(session=session, key=f"annotations:{round_id}")
    assigned = set(
        session.execute(
            select(Assignment.item_hash, Assignment.annotator_id).where(
                Assignment.round_id == round_id
            )
        ).tuples()
    )
    stored = {
        (h, a): label
        for h, a, label in session.execute(
            select(Annotation.item_hash, Annotation.annotator_id, Annotation.label).where(
                Annotation.round_id == round_id
            )
        ).tuples()
    }
    judged = judge_submissions(
        parsed,
        round_id=round_id,
        known_items=known_items,
        people=people,
        labels=labels or [],
        assigned=assigned,
        stored=stored,
    )
    now = db_time(session, utcnow())
    insert_ignoring_conflicts(
        session=session,
        table=Annotation.__tablename__,
        columns=(
            "round_id",
            "dataset_version_id",
            "item_hash",
            "annotator_id",
            "label",
            "guideline_version_id",
            "is_excluded",
            "submitted_at",
        ),
        rows=[
            (
                round_id,
                found.dataset_version_id,
                p.item,
                p.annotator,
                p.label,
                found.guideline_version_id,
                False,
                now,
            )
            for p in judged.accepted
        ],
        conflict_columns=("round_id", "item_hash", "annotator_id"),
    )
    report = judged.report(round_id=round_id, lines=len(parsed))
    append_event(
        session=session,
        actor=actor,
        action="annotation.imported",
        subject=round_id,
        details={
            "format": fmt.value,
            "lines": report.lines,
            "accepted": report.accepted,
            "already_recorded": report.already_recorded,
            "rejected": len(report.rejected),
            "rejected_by_reason": report.rejected_by_reason,
        },
    )
    return report


def load_round_context(
    *, session: Session, project: str, version_id: str, item_key: str | None
) -> RoundContext:
    """Read a version's distinct items and the project's guideline in force."""
    from govflow.annotation.consensus import guideline_excerpt
    from govflow.ledger.datasets import get_version, read_version_hashes, read_version_records
    from govflow.ledger.guidelines import get_guideline

    version = get_version(session=session, version_id=version_id)
    guideline = get_guideline(session=session, project=project)
    hashes = read_version_hashes(session=session, version_id=version_id)
    records = read_version_records(session=session, version_id=version_id)
    # A version may list an item twice; a round labels each distinct item once.
    first = dict(zip(hashes, records, strict=True))
    unique = list(first)
    return RoundContext(
        dataset=version.name,
        version_id=version.id,
        guideline_id=guideline.id,
        guideline_version=guideline.version,
        label_set=[str(label) for label in guideline.label_set],
        ordinal=guideline.is_ordinal,
        guideline_excerpt=guideline_excerpt(guideline.text),
        hashes=unique,
        records=[first[h] for h in unique],
        keys=item_keys([first[h] for h in unique], unique, item_key),
    )


def round_progress(*, session: Session, round_id: str) -> dict[str, Any]:
    """Count assigned, annotated and missing items per annotator and in total."""
    get_round(session=session, round_id=round_id)
    assigned = dict(
        session.execute(
            select(Assignment.annotator_id, func.count())
            .where(Assignment.round_id == round_id)
            .group_by(Assignment.annotator_id)
        ).all()
    )
    annotated = dict(
        session.execute(
            select(Annotation.annotator_id, func.count())
            .join(
                Assignment,
                (Assignment.round_id == Annotation.round_id)
                & (Assignment.item_hash == Annotation.item_hash)
                & (Assignment.annotator_id == Annotation.annotator_id),
            )
            .where(Annotation.round_id == round_id)
            .group_by(Annotation.annotator_id)
        ).all()
    )
    per_annotator = {
        a: {
            "assigned": n,
            "annotated": annotated.get(a, 0),
            "missing": n - annotated.get(a, 0),
        }
        for a, n in sorted(assigned.items())
    }
    total = {
        key: sum(row[key] for row in per_annotator.values())
        for key in ("assigned", "annotated", "missing")
    }
    return {"round": round_id, **total, "annotators": per_annotator}


def round_labels(*, session: Session, round_id: str) -> pd.DataFrame:
    """Return every label of the round: item, annotator, label, is_gold, is_excluded."""
    rows = session.execute(
        select(
            Annotation.item_hash,
            Annotation.annotator_id,
            Annotation.label,
            Assignment.is_gold,
            Annotation.is_excluded,
        )
        .join(
            Assignment,
            (Assignment.round_id == Annotation.round_id)
            & (Assignment.item_hash == Annotation.item_hash)
            & (Assignment.annotator_id == Annotation.annotator_id),
            isouter=True,
        )
        .where(Annotation.round_id == round_id)
        .order_by(Annotation.item_hash, Annotation.annotator_id)
    ).all()
    frame = pd.DataFrame(rows, columns=["item", "annotator", "label", "is_gold", "is_excluded"])
    frame["is_gold"] = frame["is_gold"].fillna(False).astype(bool)
    frame["is_excluded"] = frame["is_excluded"].astype(bool)
    return frame


def people_statuses(*, session: Session, people: Iterable[str] | None = None) -> dict[str, Any]:
    """Return each person's status (everyone's, or only ``people``'s)."""
    query = select(Person.id, Person.status)
    if people is not None:
        query = query.where(Person.id.in_([str(p) for p in people]))
    return {pid: PersonStatus(status) for pid, status in session.execute(query).all()}
