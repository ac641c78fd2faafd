"""Annotation tasks: open and export a round, calibrate, aggregate, refine, report.

Each task is one batch over the whole round (never one task per item) and every ledger
write is idempotent, so a run that restarts from the top after a suspend repeats nothing.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from prefect import task
from prefect.artifacts import (
    create_image_artifact,
    create_markdown_artifact,
    create_table_artifact,
)
from prefect.cache_policies import NO_CACHE

from govflow.annotation.consensus import AnnotatorCalibration, RoundConsensus
from govflow.annotation.refine import Clarification
from govflow.ledger.engine import Ledger
from govflow.stages.adjudication import DraftInfo
from tasks.ingest import flow_actor, register_frame


@dataclass(frozen=True)
class RoundContext:
    """What the rest of the flow needs to know about the round's inputs."""

    dataset: str
    version_id: str
    guideline_id: str
    guideline_version: int
    label_set: list[str]
    ordinal: bool
    guideline_excerpt: str
    hashes: list[str]
    records: list[dict[str, Any]]
    keys: dict[str, str]  # item hash -> the key people see in forms


def _item_keys(records: list[dict[str, Any]], hashes: list[str], field: str | None) -> dict:
    if field:
        values = [str(r.get(field)) if r.get(field) is not None else None for r in records]
        usable = [v for v in values if v]
        if len(usable) == len(values) and len(set(usable)) == len(usable):
            return dict(zip(hashes, usable, strict=True))
    return {h: h[:12] for h in hashes}


@task(name="load-round-context", cache_policy=NO_CACHE, persist_result=False)
def load_context(project: str, version_id: str, item_key: str | None) -> RoundContext:
    """Read the version's items and the project's guideline in force."""
    from govflow.annotation.consensus import guideline_excerpt
    from govflow.ledger.datasets import get_version, read_version_hashes, read_version_records
    from govflow.ledger.guidelines import get_guideline

    with Ledger.open().reader() as session:
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
            guideline_excerpt=guideline_excerpt(guideline),
            hashes=unique,
            records=[first[h] for h in unique],
            keys=_item_keys([first[h] for h in unique], unique, item_key),
        )


@task(name="load-gold", cache_policy=NO_CACHE, persist_result=False)
def load_gold(path: str, context: RoundContext, project: str, key_field: str) -> int:
    """Record gold answers given by a record field (e.g. ``ticket_id``); return how many new."""
    from govflow.annotation.rounds import add_gold_items
    from govflow.errors import InputError

    by_key = {
        str(r.get(key_field)): h for r, h in zip(context.records, context.hashes, strict=True)
    }
    answers, unknown = [], []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"cannot read gold file {path}: {exc.strerror or exc}") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            key, label = str(row[key_field]), str(row["label"])
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise InputError(
                f"gold file {path} line {number}: expected {{{key_field!r}: ..., 'label': ...}}"
            ) from exc
        if key in by_key:
            answers.append((by_key[key], label))
        else:
            unknown.append(key)
    if unknown:
        shown = ", ".join(unknown[:5]) + (
            f" (and {len(unknown) - 5} more)" if len(unknown) > 5 else ""
        )
        raise InputError(f"gold file {path} names records not in the version: {shown}")
    _, actor = flow_actor()
    with Ledger.open().session() as session:
        return add_gold_items(
            session=session,
            project=project,
            items=answers,
            actor=actor,
            label_set=context.label_set,
        )


@task(name="open-annotation-round", cache_policy=NO_CACHE, persist_result=False)
def open_annotation_round(
    context: RoundContext,
    *,
    project: str,
    overlap: int,
    gold_rate: float,
    seed: int,
    deadline_hours: float,
    deadline_policy: str,
) -> str:
    """Open (or find) the round and assign its items; return the round id."""
    from sqlalchemy.orm.attributes import flag_modified

    from govflow.annotation.rounds import open_round
    from govflow.ledger.models import utcnow

    _, actor = flow_actor()
    with Ledger.open().session() as session:
        found, is_new = open_round(
            session=session,
            project=project,
            dataset_version_id=context.version_id,
            guideline_version_id=context.guideline_id,
            overlap=overlap,
            gold_rate=gold_rate,
            actor=actor,
            seed=seed,
            deadline=utcnow() + timedelta(hours=deadline_hours),
            deadline_policy=deadline_policy,
        )
        if is_new:
            found.details = {**found.details, "deadline_hours": deadline_hours}
            flag_modified(found, "details")
        return found.id


@task(name="export-round", cache_policy=NO_CACHE, persist_result=False)
def export_round(round_id: str, directory: str | None) -> dict[str, str]:
    """Write each annotator's tasks as JSONL and Label Studio JSON; return the paths."""
    from sqlalchemy import select

    from govflow.annotation.rounds import export_assignments
    from govflow.ledger.models import Assignment
    from govflow.settings import get_settings

    out = Path(directory) if directory else get_settings().home / "rounds" / round_id
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, str] = {}
    with Ledger.open().reader() as session:
        people = sorted(
            set(
                session.scalars(
                    select(Assignment.annotator_id).where(Assignment.round_id == round_id)
                )
            )
        )
        for person in people:
            for fmt, suffix in (("jsonl", ".jsonl"), ("label-studio", ".label-studio.json")):
                target = out / f"{person}{suffix}"
                target.write_text(
                    export_assignments(
                        session=session, round_id=round_id, annotator_id=person, fmt=fmt
                    ),
                    encoding="utf-8",
                )
            paths[person] = str(out / f"{person}.jsonl")
    lines = [
        f"# Annotation round `{round_id}`",
        "",
        "Each annotator's tasks (JSONL; Label Studio JSON next to it):",
        "",
        *[f"- **{person}**: `{path}`" for person, path in paths.items()],
        "",
        f"Bring labels back with `govflow annotations import FILE --round {round_id}`; "
        "the flow resumes when nothing is missing.",
    ]
    create_markdown_artifact(
        markdown="\n".join(lines),
        key=f"round-{round_id}".lower(),
        description="Where the round's tasks are and how to import the labels",
    )
    return paths


@task(name="calibrate-annotators", cache_policy=NO_CACHE, persist_result=False)
def calibrate(round_id: str, threshold: float, min_gold: int) -> list[AnnotatorCalibration]:
    """Score annotators on gold; exclude the labels of those below the threshold."""
    from govflow.annotation.consensus import calibrate_round

    _, actor = flow_actor()
    with Ledger.open().session() as session:
        return calibrate_round(
            session=session,
            round_id=round_id,
            threshold=threshold,
            min_gold=min_gold,
            actor=actor,
        )


@task(name="compute-consensus", cache_policy=NO_CACHE, persist_result=False)
def consensus_for(
    round_id: str,
    context: RoundContext,
    *,
    method: str,
    min_agreement: float,
    min_confidence: float,
    min_labels: int,
) -> tuple[pd.DataFrame, RoundConsensus]:
    """Aggregate the round's counted labels; return the labels and the consensus."""
    from govflow.annotation.consensus import compute_consensus, round_labels

    with Ledger.open().reader() as session:
        labels = round_labels(session=session, round_id=round_id)
    return labels, compute_consensus(
        labels=labels,
        items=context.hashes,
        label_set=context.label_set,
        ordinal=context.ordinal,
        method=method,  # type: ignore[arg-type]
        min_agreement=min_agreement,
        min_confidence=min_confidence,
        min_labels=min_labels,
    )


@task(name="register-annotated-version", cache_policy=NO_CACHE, persist_result=False)
def register_annotated(
    frame: pd.DataFrame, *, dataset: str, parent_id: str, step: dict[str, Any]
) -> tuple[str, list[str]]:
    """Register every item with its label and status as the ``annotated`` version."""
    return register_frame(
        frame, dataset=dataset, stage="annotated", parent_id=parent_id, steps=[step]
    )


@task(name="draft-guideline-clarification", cache_policy=NO_CACHE, persist_result=False)
def draft_clarification(guideline_id: str, clarifications: list[Clarification]) -> DraftInfo:
    """Draft the next guideline version; return what its approval gate shows."""
    from govflow.annotation.refine import draft_clarified_guideline
    from govflow.domain import Role
    from govflow.ledger.guidelines import diff_guidelines
    from govflow.ledger.models import GuidelineVersion
    from govflow.ledger.people import list_people

    _, actor = flow_actor()
    with Ledger.open().session() as session:
        base = session.get(GuidelineVersion, guideline_id)
        assert base is not None
        draft = draft_clarified_guideline(
            session=session, base=base, clarifications=clarifications, actor=actor
        )
        leads = [p.id for p in list_people(session=session, role=Role.LEAD)]
        return DraftInfo(
            id=draft.id, version=draft.version, diff=diff_guidelines(base, draft), leads=leads
        )


@task(name="publish-guideline-and-queue", cache_policy=NO_CACHE, persist_result=False)
def publish_and_queue(
    draft_id: str, round_id: str, dataset: str, items: list[str], approver: str | None
) -> str | None:
    """Publish the approved draft and queue the items for re-annotation under it."""
    from govflow.annotation.refine import queue_reannotation
    from govflow.annotation.rounds import get_round
    from govflow.ledger.guidelines import GuidelineStatus, approve_draft
    from govflow.ledger.models import GuidelineVersion

    run_id, actor = flow_actor()
    with Ledger.open().session() as session:
        guideline = session.get(GuidelineVersion, draft_id)
        assert guideline is not None
        if guideline.status == GuidelineStatus.DRAFT:
            guideline = approve_draft(
                session=session, guideline_id=draft_id, actor=approver or actor
            )
        queued = queue_reannotation(
            session=session,
            source_round=get_round(session=session, round_id=round_id),
            guideline=guideline,
            items=items,
            dataset=dataset,
            actor=actor,
            flow_run_id=run_id,
        )
        return queued.id if queued else None


@task(name="publish-annotation-artifacts", cache_policy=NO_CACHE, persist_result=False)
def publish_annotation_artifacts(
    round_id: str,
    labels: pd.DataFrame,
    calibration: list[AnnotatorCalibration],
    consensus: RoundConsensus,
    final: dict[str, str | None],
    label_set: list[str],
    counts: dict[str, int],
) -> None:
    """Per-annotator table, agreement summary and the confusion-matrix image."""
    from sqlalchemy import select

    from govflow.ledger.models import Person
    from govflow.settings import get_settings
    from govflow.stages.annotation_reports import (
        agreement_markdown,
        annotator_rows,
        confusion_counts,
        confusion_svg,
    )

    key = f"round-{round_id}".lower()
    with Ledger.open().reader() as session:
        statuses = {
            pid: str(status)
            for pid, status in session.execute(select(Person.id, Person.status)).all()
        }
    create_table_artifact(
        table=annotator_rows(labels, calibration, consensus, statuses),
        key=f"{key}-annotators",
        description="Per annotator: items, gold accuracy, agreement with consensus, status",
    )
    create_markdown_artifact(
        markdown=agreement_markdown(round_id, consensus.statistics, counts),
        key=f"{key}-agreement",
        description="Agreement measures and routing counts of the round",
    )
    svg = confusion_svg(
        confusion_counts(labels, final, label_set), f"Annotators vs final labels: {round_id}"
    )
    out = get_settings().home / "rounds" / round_id
    out.mkdir(parents=True, exist_ok=True)
    (out / "confusion.svg").write_text(svg, encoding="utf-8")
    create_image_artifact(
        image_url="data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode(),
        key=f"{key}-confusion",
        description=f"Confusion matrix of annotator labels against final labels ({out})",
    )
