"""Annotation tasks: open and export a round, calibrate, aggregate, refine, report.

Each task is one batch over the whole round (never one task per item) and every ledger
write is idempotent, so a run that restarts from the top after a suspend repeats nothing.
Tasks only call library functions: parsing is ``govflow.annotation``, persistence is
``govflow.ledger``, pictures and Markdown are ``govflow.reports``.
"""

from __future__ import annotations

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

from govflow.annotation.adjudication import DraftInfo
from govflow.annotation.calibration import AnnotatorCalibration
from govflow.annotation.consensus import RoundConsensus
from govflow.annotation.context import RoundContext
from govflow.annotation.refine import Clarification
from govflow.ledger.engine import Ledger
from govflow.runtime import flow_actor

__all__ = [
    "calibrate",
    "consensus_for",
    "draft_clarification",
    "export_round",
    "load_context",
    "load_gold",
    "open_annotation_round",
    "publish_and_queue",
    "publish_annotation_artifacts",
]


@task(name="load-round-context", cache_policy=NO_CACHE, persist_result=False)
def load_context(project: str, version_id: str, item_key: str | None) -> RoundContext:
    """Read the version's items and the project's guideline in force."""
    from govflow.ledger.annotations import load_round_context

    with Ledger.open().reader() as session:
        return load_round_context(
            session=session, project=project, version_id=version_id, item_key=item_key
        )


@task(name="load-gold", cache_policy=NO_CACHE, persist_result=False)
def load_gold(path: str, context: RoundContext, project: str, key_field: str) -> int:
    """Record gold answers given by a record field (e.g. ``ticket_id``); return how many new."""
    from govflow.annotation.gold import match_gold, read_gold_file
    from govflow.ledger.annotations import add_gold_items

    by_key = {
        str(r.get(key_field)): h for r, h in zip(context.records, context.hashes, strict=True)
    }
    answers = match_gold(read_gold_file(path, key_field), by_key, path=path)
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
    from govflow.ledger.models import utcnow
    from govflow.ledger.rounds import open_round

    _, actor = flow_actor()
    with Ledger.open().session() as session:
        found, _ = open_round(
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
            deadline_hours=deadline_hours,
        )
        return found.id


@task(name="export-round", cache_policy=NO_CACHE, persist_result=False)
def export_round(round_id: str, directory: str | None) -> dict[str, str]:
    """Write each annotator's tasks as JSONL and Label Studio JSON; return the paths."""
    from govflow.annotation.exchange import ExchangeFormat, write_task_files
    from govflow.ledger.annotations import export_assignments, round_annotators
    from govflow.reports.annotation import round_tasks_markdown
    from govflow.settings import get_settings

    out = Path(directory) if directory else get_settings().home / "rounds" / round_id
    with Ledger.open().reader() as session:
        exports = {
            person: {
                fmt: export_assignments(
                    session=session, round_id=round_id, annotator_id=person, fmt=fmt
                )
                for fmt in ExchangeFormat
            }
            for person in round_annotators(session=session, round_id=round_id)
        }
    paths = write_task_files(out, exports)
    create_markdown_artifact(
        markdown=round_tasks_markdown(round_id, paths),
        key=f"round-{round_id}".lower(),
        description="Where the round's tasks are and how to import the labels",
    )
    return paths


@task(name="calibrate-annotators", cache_policy=NO_CACHE, persist_result=False)
def calibrate(round_id: str, threshold: float, min_gold: int) -> list[AnnotatorCalibration]:
    """Score annotators on gold; exclude the labels of those below the threshold."""
    from govflow.ledger.calibration import calibrate_round

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
    from govflow.annotation.consensus import compute_consensus
    from govflow.ledger.annotations import round_labels

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


@task(name="draft-guideline-clarification", cache_policy=NO_CACHE, persist_result=False)
def draft_clarification(guideline_id: str, clarifications: list[Clarification]) -> DraftInfo:
    """Draft the next guideline version; return what its approval gate shows."""
    from govflow.annotation.refine import clarified_document
    from govflow.domain import GuidelineStatus, Role
    from govflow.ledger.guidelines import (
        diff_guidelines,
        get_guideline_version,
        publish_guideline,
    )
    from govflow.ledger.people import list_people

    _, actor = flow_actor()
    with Ledger.open().session() as session:
        base = get_guideline_version(session=session, guideline_id=guideline_id)
        draft, _ = publish_guideline(
            session=session,
            document=clarified_document(base, clarifications),
            actor=actor,
            status=GuidelineStatus.DRAFT,
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
    from govflow.domain import GuidelineStatus
    from govflow.ledger.guidelines import approve_draft, get_guideline_version
    from govflow.ledger.rounds import get_round, queue_reannotation

    run_id, actor = flow_actor()
    with Ledger.open().session() as session:
        guideline = get_guideline_version(session=session, guideline_id=draft_id)
        if guideline.status is GuidelineStatus.DRAFT:
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
    counts: dict[str, Any],
) -> None:
    """Per-annotator table, agreement summary and the confusion-matrix image."""
    from govflow.ledger.annotations import people_statuses
    from govflow.reports.annotation import (
        agreement_markdown,
        annotator_rows,
        confusion_counts,
        confusion_png,
    )
    from govflow.reports.plots import png_data_uri, save_png
    from govflow.settings import get_settings

    key = f"round-{round_id}".lower()
    with Ledger.open().reader() as session:
        statuses = {pid: status.value for pid, status in people_statuses(session=session).items()}
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
    png = confusion_png(
        confusion_counts(labels, final, label_set), f"Annotators vs final labels: {round_id}"
    )
    path = save_png(png, get_settings().home / "rounds" / round_id / "confusion.png")
    create_image_artifact(
        image_url=png_data_uri(png),
        key=f"{key}-confusion",
        description=f"Confusion matrix of annotator labels against final labels ({path})",
    )
