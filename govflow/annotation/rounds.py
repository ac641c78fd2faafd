"""Annotation rounds in the ledger: assigning items, exporting tasks, importing labels.

A round gives every distinct item of a dataset version to ``overlap`` active annotators,
round-robin over a seeded shuffle so loads differ by at most one, and mixes in gold items
(known answers) at ``gold_rate`` of each annotator's load. Gold is marked only in
``assignments.is_gold``: exports carry nothing that tells gold from regular work. An item of
the version that is itself a gold item is marked gold on its regular assignments too. Each
annotator gets ``round(gold_rate * regular load)`` gold items (half up), chosen with the seed
among gold items not already in their regular work (fewer if the project has too few).

Exchange formats (``ExchangeFormat``):

- ``jsonl`` export: one ``{"round", "item", "annotator", "data"}`` object per assignment;
  import: one ``{"round", "item", "annotator", "label"}`` object per line.
- ``label-studio`` export: a JSON list of Label Studio tasks (the "Basic Label Studio JSON
  format" of its import page), ``{"id": n, "data": {...payload, "govflow_item": hash,
  "govflow_round": round}, "meta": {"annotator": person}}``; ``data`` keys are the item's
  own fields, so a labeling config refers to them as ``$text`` etc.
- ``label-studio`` import: Label Studio's JSON export, a list of tasks each with
  ``annotations: [{"completed_by": ..., "was_cancelled": ..., "result": [...]}]``. The item
  is ``data.govflow_item``; the label is the single value of the ``choices`` results
  (``{"type": "choices", "value": {"choices": ["bug"]}}``); the annotator is
  ``completed_by`` when it is text or an object with ``email``/``username`` (a full person
  id, else the part before "@"), otherwise the task's ``meta.annotator`` (Label Studio's
  full export gives ``completed_by`` as a numeric user id, which names nobody here).
  Report line numbers count tasks, from 1.
"""

from __future__ import annotations

import enum
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govflow.errors import InputError, NotFound
from govflow.hashing import canonical_json, content_hash
from govflow.ledger.audit import append_event
from govflow.ledger.bulk import insert_ignoring_conflicts, lock_key
from govflow.ledger.models import (
    Annotation,
    AnnotationRound,
    Assignment,
    DatasetVersion,
    GoldItem,
    GuidelineVersion,
    Item,
    Person,
    PersonStatus,
    Role,
    utcnow,
)

_IN_CHUNK = 5000  # keeps IN (...) lists under every backend's parameter limit


class ExchangeFormat(enum.StrEnum):
    JSONL = "jsonl"
    LABEL_STUDIO = "label-studio"


class DeadlinePolicy(enum.StrEnum):
    PROCEED = "proceed"
    REASSIGN = "reassign"


class RejectReason(enum.StrEnum):
    UNPARSEABLE = "unparseable"
    CANCELLED = "cancelled"
    WRONG_ROUND = "wrong_round"
    UNKNOWN_ITEM = "unknown_item"
    UNKNOWN_ANNOTATOR = "unknown_annotator"
    LABEL_NOT_IN_GUIDELINE = "label_not_in_guideline"
    NOT_ASSIGNED = "not_assigned"
    DUPLICATE_IN_FILE = "duplicate_in_file"
    ALREADY_ANNOTATED = "already_annotated"


class Rejection(BaseModel):
    """One submission that was not stored, and why (``line``: JSONL line or task number)."""

    line: int
    item: str | None
    annotator: str | None
    reason: RejectReason
    message: str


class ImportReport(BaseModel):
    """What an import did with every submission: ``lines == accepted + already + rejected``."""

    round_id: str
    lines: int
    accepted: int
    already_recorded: int
    rejected: list[Rejection] = Field(default_factory=list)
    rejected_by_reason: dict[str, int] = Field(default_factory=dict)


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


def _db_time(session: Session, when: datetime) -> Any:
    # Raw bulk inserts skip SQLAlchemy's type processing; SQLite stores its own text form.
    if session.connection().dialect.name == "sqlite":
        return when.strftime("%Y-%m-%d %H:%M:%S.%f")
    return when


def _existing(session: Session, column: Any, values: Iterable[str]) -> set[str]:
    wanted = sorted(set(values))
    found: set[str] = set()
    for start in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[start : start + _IN_CHUNK]
        found.update(session.scalars(select(column).where(column.in_(chunk))))
    return found


def _quote(values: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(repr(v) for v in values[:limit])
    return f"{shown} (and {len(values) - limit} more)" if len(values) > limit else shown


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
) -> tuple[AnnotationRound, bool]:
    """Open a round and assign its items; the same parameters return the existing round."""
    import numpy as np

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
    from govflow.ledger.datasets import read_version_hashes

    items = np.array(
        list(dict.fromkeys(read_version_hashes(session=session, version_id=dataset_version_id))),
        dtype=object,
    )
    gold = dict(
        session.execute(
            select(GoldItem.item_hash, GoldItem.label)
            .where(GoldItem.project == project)
            .order_by(GoldItem.item_hash)
        ).all()
    )
    rng = np.random.default_rng(seed)
    people = np.array(annotators, dtype=object)[rng.permutation(len(annotators))]
    items = items[rng.permutation(len(items))]
    # Consecutive slots of one item go to consecutive annotators (mod n), so they are distinct
    # while overlap <= n, and dealing slots round-robin keeps loads within one of each other.
    slots = np.arange(len(items) * overlap)
    slot_items = items[slots // overlap]
    slot_people = people[slots % len(people)]
    rows_items, rows_people = list(slot_items), list(slot_people)
    rows_gold = [h in gold for h in rows_items]
    gold_hashes = np.array(sorted(gold), dtype=object)
    mixed_in = 0
    for person in people:
        regular = slot_items[slot_people == person]
        wanted = int(np.floor(gold_rate * len(regular) + 0.5))
        candidates = gold_hashes[~np.isin(gold_hashes, regular)]
        take = min(wanted, len(candidates))
        if take == 0:
            continue
        chosen = candidates[np.sort(rng.choice(len(candidates), size=take, replace=False))]
        rows_items.extend(chosen)
        rows_people.extend([person] * take)
        rows_gold.extend([True] * take)
        mixed_in += take
    counts = {
        "items": len(items),
        "annotators": len(people),
        "assignments": len(rows_items),
        "gold": int(sum(rows_gold)),
    }
    new_round = AnnotationRound(
        id=round_id,
        project=project,
        dataset_version_id=dataset_version_id,
        guideline_version_id=guideline_version_id,
        overlap=overlap,
        gold_rate=float(gold_rate),
        deadline=deadline,
        deadline_policy=policy.value,
        details={"seed": seed, "gold_mixed_in": mixed_in, **counts},
        created_by=actor,
    )
    session.add(new_round)
    session.flush([new_round])
    now = _db_time(session, utcnow())
    insert_ignoring_conflicts(
        session=session,
        table=Assignment.__tablename__,
        columns=("round_id", "item_hash", "annotator_id", "is_gold", "assigned_at"),
        rows=[
            (round_id, str(h), str(p), bool(g), now)
            for h, p, g in zip(rows_items, rows_people, rows_gold, strict=True)
        ],
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


def latest_label_set(*, session: Session, project: str) -> list[str] | None:
    """Return the label set of the project's newest published guideline version, if any."""
    labels = session.scalar(
        select(GuidelineVersion.label_set)
        .where(GuidelineVersion.project == project, GuidelineVersion.status == "published")
        .order_by(GuidelineVersion.version.desc())
        .limit(1)
    )
    return None if labels is None else [str(label) for label in labels]


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
        raise InputError(
            f"gold labels not in the label set {labels}: {_quote(bad_labels)}",
        )
    missing = sorted(set(answers) - _existing(session, Item.content_hash, answers))
    if missing:
        raise InputError(f"gold items not in the ledger: {_quote(missing)}")
    lock_key(session=session, key=f"gold:{project}")
    stored = dict(
        session.execute(
            select(GoldItem.item_hash, GoldItem.label).where(GoldItem.project == project)
        ).all()
    )
    conflicts = sorted(h for h, label in answers.items() if stored.get(h, label) != label)
    if conflicts:
        raise InputError(f"gold items already recorded with another label: {_quote(conflicts)}")
    new = sorted(set(answers) - set(stored))
    now = _db_time(session, utcnow())
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


def export_assignments(
    *,
    session: Session,
    round_id: str,
    annotator_id: str | None = None,
    fmt: ExchangeFormat | str = ExchangeFormat.JSONL,
) -> str:
    """Render a round's assignments for annotators (gold items look like any other)."""
    fmt = ExchangeFormat(fmt)
    get_round(session=session, round_id=round_id)
    query = (
        select(Assignment.annotator_id, Assignment.item_hash, Item.payload)
        .join(Item, Item.content_hash == Assignment.item_hash)
        .where(Assignment.round_id == round_id)
        .order_by(Assignment.annotator_id, Assignment.item_hash)
    )
    if annotator_id is not None:
        query = query.where(Assignment.annotator_id == annotator_id)
    rows = session.execute(query).all()
    if fmt is ExchangeFormat.JSONL:
        return "".join(
            canonical_json(
                {"round": round_id, "item": h, "annotator": a, "data": json.loads(payload)}
            )
            + "\n"
            for a, h, payload in rows
        )
    tasks = [
        {
            "id": n,
            "data": {**json.loads(payload), "govflow_item": h, "govflow_round": round_id},
            "meta": {"annotator": a},
        }
        for n, (a, h, payload) in enumerate(rows, start=1)
    ]
    return json.dumps(tasks, indent=2, ensure_ascii=False) + "\n"


@dataclass
class _Submission:
    line: int
    round_id: str | None
    item: str
    annotator: str
    label: str


def _unparseable(line: int, message: str, **known: Any) -> Rejection:
    return Rejection(
        line=line,
        item=known.get("item"),
        annotator=known.get("annotator"),
        reason=RejectReason.UNPARSEABLE,
        message=message,
    )


def _parse_jsonl(content: str) -> list[_Submission | Rejection]:
    parsed: list[_Submission | Rejection] = []
    for line, text in enumerate(content.splitlines(), start=1):
        if not text.strip():
            continue
        try:
            row = json.loads(text)
        except json.JSONDecodeError as exc:
            parsed.append(_unparseable(line, f"not valid JSON: {exc.msg}"))
            continue
        if not isinstance(row, dict):
            parsed.append(_unparseable(line, "expected a JSON object"))
            continue
        absent = [k for k in ("round", "item", "annotator", "label") if not _text(row.get(k))]
        if absent:
            message = f"missing or non-text field {_quote(absent)}"
            parsed.append(_unparseable(line, message, item=_text(row.get("item"))))
            continue
        parsed.append(_Submission(line, row["round"], row["item"], row["annotator"], row["label"]))
    return parsed


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _ls_annotator(completed_by: Any, meta: Any) -> str | None:
    if isinstance(completed_by, dict):
        completed_by = completed_by.get("email") or completed_by.get("username")
    if _text(completed_by):
        return completed_by
    return _text(meta.get("annotator")) if isinstance(meta, dict) else None


def _parse_label_studio(content: str) -> list[_Submission | Rejection]:
    try:
        tasks = json.loads(content)
    except json.JSONDecodeError as exc:
        raise InputError(f"not a Label Studio JSON export: {exc.msg}") from exc
    if not isinstance(tasks, list):
        raise InputError("not a Label Studio JSON export: expected a list of tasks")
    parsed: list[_Submission | Rejection] = []
    for line, task in enumerate(tasks, start=1):
        data = task.get("data") if isinstance(task, dict) else None
        item = _text(data.get("govflow_item")) if isinstance(data, dict) else None
        if item is None:
            parsed.append(_unparseable(line, "task has no data.govflow_item"))
            continue
        round_id = _text(data.get("govflow_round"))
        for annotation in task.get("annotations") or []:
            if not isinstance(annotation, dict):
                parsed.append(_unparseable(line, "annotation is not an object", item=item))
                continue
            annotator = _ls_annotator(annotation.get("completed_by"), task.get("meta"))
            if annotation.get("was_cancelled"):
                parsed.append(
                    Rejection(
                        line=line,
                        item=item,
                        annotator=annotator,
                        reason=RejectReason.CANCELLED,
                        message="the annotation was cancelled (skipped) in Label Studio",
                    )
                )
                continue
            choices = [
                choice
                for result in annotation.get("result") or []
                if isinstance(result, dict) and result.get("type") == "choices"
                for choice in (result.get("value") or {}).get("choices") or []
            ]
            if annotator is None:
                message = "no annotator: neither completed_by nor meta.annotator names one"
                parsed.append(_unparseable(line, message, item=item))
            elif len(choices) != 1 or not _text(choices[0]):
                message = f"expected exactly one choice, found {len(choices)}"
                parsed.append(_unparseable(line, message, item=item, annotator=annotator))
            else:
                parsed.append(_Submission(line, round_id, item, annotator, choices[0]))
    return parsed


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
    parsed = _parse_jsonl(content) if fmt is ExchangeFormat.JSONL else _parse_label_studio(content)
    subs = [p for p in parsed if isinstance(p, _Submission)]
    people = set(session.scalars(select(Person.id)))
    for p in subs:
        if p.annotator not in people and "@" in p.annotator:
            p.annotator = p.annotator.split("@", 1)[0]
    labels = session.scalar(
        select(GuidelineVersion.label_set).where(GuidelineVersion.id == found.guideline_version_id)
    )
    known_items = _existing(session, Item.content_hash, (p.item for p in subs))
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
    outcome: list[Rejection] = [p for p in parsed if isinstance(p, Rejection)]
    accepted: list[_Submission] = []
    already, seen = 0, set()
    for p in subs:
        key = (p.item, p.annotator)
        problem: tuple[RejectReason, str] | None = None
        if p.round_id is not None and p.round_id != round_id:
            problem = RejectReason.WRONG_ROUND, f"belongs to round {p.round_id!r}, not {round_id!r}"
        elif p.item not in known_items:
            problem = RejectReason.UNKNOWN_ITEM, "unknown item"
        elif p.annotator not in people:
            problem = RejectReason.UNKNOWN_ANNOTATOR, f"unknown annotator {p.annotator!r}"
        elif p.label not in labels:
            problem = (
                RejectReason.LABEL_NOT_IN_GUIDELINE,
                f"label {p.label!r} is not in the guideline's label set",
            )
        elif key not in assigned:
            problem = RejectReason.NOT_ASSIGNED, f"not assigned to {p.annotator} in this round"
        elif key in seen:
            problem = (
                RejectReason.DUPLICATE_IN_FILE,
                f"duplicate: {p.annotator} already labelled this item earlier in the file",
            )
        elif key in stored and stored[key] != p.label:
            problem = RejectReason.ALREADY_ANNOTATED, f"already annotated with {stored[key]!r}"
        if problem is None or problem[0] is RejectReason.ALREADY_ANNOTATED:
            seen.add(key)
        if problem is not None:
            reason, message = problem
            outcome.append(
                Rejection(
                    line=p.line, item=p.item, annotator=p.annotator, reason=reason, message=message
                )
            )
        elif key in stored:
            already += 1
        else:
            accepted.append(p)
    now = _db_time(session, utcnow())
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
            for p in accepted
        ],
        conflict_columns=("round_id", "item_hash", "annotator_id"),
    )
    outcome.sort(key=lambda r: r.line)
    by_reason = Counter(r.reason.value for r in outcome)
    report = ImportReport(
        round_id=round_id,
        lines=len(parsed),
        accepted=len(accepted),
        already_recorded=already,
        rejected=outcome,
        rejected_by_reason=dict(sorted(by_reason.items())),
    )
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
            "rejected": len(outcome),
            "rejected_by_reason": report.rejected_by_reason,
        },
    )
    return report


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
