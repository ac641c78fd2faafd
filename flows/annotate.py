"""Annotate: assign, collect, calibrate, aggregate, adjudicate, refine, check, curate.

In:  ``AnnotateParams``: the annotation project (its newest published guideline is in
     force) and the version to label (usually a ``curated`` version from pre-processing).
Out: ledger rows: a round with its assignments (gold mixed in) and every imported label;
     annotators below the gold threshold set to ``needs_calibration`` with their labels in
     this round excluded (kept, marked, with the reason); review decisions; an ``annotated``
     version (every item with its label and status), its ``<dataset>.labeled`` (or
     ``default.labeled``) validation run with quarantined rows, and a ``labeled`` version
     of the rows that passed; on a specialist's clarification, a draft guideline, its
     approval gate, and a re-annotation round under the published version. Prefect
     artifacts: where the tasks are, per-annotator table, agreement summary, confusion
     matrix, checkpoint summary.
People: annotators (the run waits, suspended when deployed, until `govflow annotations
     import` completes the round or its deadline policy applies); reviewers decide
     contested and audit-sampled items (tier 1, may escalate); specialists decide
     escalations and may attach a ``clarify:`` note; a lead approves a drafted guideline.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from prefect import flow, get_run_logger
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import quote
from pydantic import BaseModel, Field

from flows.ingest import BatchAborted
from flows.results import AnnotateResult
from tasks.annotate import (
    calibrate,
    consensus_for,
    draft_clarification,
    export_round,
    load_context,
    load_gold,
    open_annotation_round,
    publish_and_queue,
    publish_annotation_artifacts,
    register_annotated,
)
from tasks.ingest import publish_validation_artifacts, record_checkpoint, register_passed_rows
from tasks.validation import validate_in_chunks


class AnnotateParams(BaseModel):
    project: str = Field(description="The annotation project (guideline project).")
    version_id: str = Field(description="The dataset version to label.")
    item_key: str | None = Field(
        default=None, description="Record field that names items in forms (else a hash)."
    )
    text_field: str = "text"
    gold_path: str | None = Field(
        default=None, description="JSONL gold answers: {item_key field: value, label: L}."
    )
    overlap: int = Field(default=3, ge=1)
    gold_rate: float = Field(default=0.1, ge=0, lt=1)
    seed: int = 0
    deadline_hours: float = Field(default=72, gt=0)
    deadline_policy: Literal["proceed", "reassign"] = "proceed"
    method: Literal["dawid_skene", "majority"] = "dawid_skene"
    min_agreement: float = Field(default=0.3, ge=0, le=1)
    min_confidence: float = Field(default=0.8, ge=0, le=1)
    calibration_threshold: float = Field(default=0.7, ge=0, le=1)
    min_gold: int = Field(default=3, ge=1)
    audit_rate: float = Field(default=0.02, ge=0, le=1)
    test_fraction: float = Field(default=0.2, ge=0, lt=1)
    review_deadline_hours: float = Field(default=48, gt=0)
    waiver_days: int = Field(default=30, ge=1)
    chunk_size: int = Field(default=50_000, ge=100)
    export_dir: str | None = None


@flow(name="annotate", persist_result=True, task_runner=ThreadPoolTaskRunner(max_workers=2))
def annotate(params: AnnotateParams) -> AnnotateResult:
    """Run one annotation round on a dataset version, from assignment to curated labels."""
    from govflow.annotation.collect import wait_for_annotations
    from govflow.annotation.consensus import audit_sample
    from govflow.annotation.refine import clarifications_from, reannotation_items
    from govflow.review.gate import request_review
    from govflow.settings import get_settings
    from govflow.stages.adjudication import (
        contested_request,
        final_labels,
        promotion_request,
        votes_by_item,
    )
    from govflow.stages.labeled import bind_label_set, labeled_frame
    from govflow.stages.records import frame_for_validation
    from govflow.stages.validation import BatchAction, decide_batch, validation_failure_request
    from govflow.validation.suites import load_suite, suite_path

    logger = get_run_logger()
    context = load_context(params.project, params.version_id, params.item_key)
    if params.gold_path:
        load_gold(params.gold_path, quote(context), params.project, params.item_key or "id")
    round_id = open_annotation_round(
        quote(context),
        project=params.project,
        overlap=params.overlap,
        gold_rate=params.gold_rate,
        seed=params.seed,
        deadline_hours=params.deadline_hours,
        deadline_policy=params.deadline_policy,
    )
    export_round(round_id, params.export_dir)
    logger.info("round %s: waiting for annotations", round_id)
    collection = wait_for_annotations(round_id)
    calibration = calibrate(round_id, params.calibration_threshold, params.min_gold)
    flagged = sorted(c.annotator for c in calibration if c.excluded)
    if flagged:
        logger.warning("labels excluded, annotators need calibration: %s", ", ".join(flagged))
    labels, consensus = consensus_for(
        round_id,
        quote(context),
        method=params.method,
        min_agreement=params.min_agreement,
        min_confidence=params.min_confidence,
        min_labels=min(2, params.overlap),
    )
    audited = audit_sample(consensus.items, rate=params.audit_rate, seed=round_id)
    records = dict(zip(context.hashes, context.records, strict=True))
    request = contested_request(
        round_id=round_id,
        consensus=consensus,
        audited=audited,
        records=records,
        keys=context.keys,
        label_set=context.label_set,
        version_id=context.version_id,
        guideline_id=context.guideline_id,
        guideline_excerpt=context.guideline_excerpt,
        deadline_hours=params.review_deadline_hours,
    )
    gate = request_review(request) if request is not None else None

    # A specialist's clarification: draft, approval by a lead, targeted re-annotation.
    draft_id, published, queue_id, held = None, False, None, set()
    clarifications = (
        clarifications_from(
            gate,
            item_hashes={key: item for item, key in context.keys.items()},
            votes=votes_by_item(consensus.items),
        )
        if gate is not None
        else []
    )
    if clarifications:
        draft = draft_clarification(context.guideline_id, quote(clarifications))
        draft_id = draft.id
        approval = request_review(
            promotion_request(
                draft,
                project=params.project,
                version_id=context.version_id,
                submitted_by=sorted({c.reviewer for c in clarifications}),
                deadline_hours=params.review_deadline_hours,
            )
        )
        decision = approval.decisions[0]
        if decision.choice == "approve":
            held = set(reannotation_items(labels, clarifications))
            queue_id = publish_and_queue(
                draft_id, round_id, context.dataset, sorted(held), decision.reviewer_id
            )
            published = True
        else:
            logger.warning("guideline draft %s was not approved: %s", draft_id, decision.choice)

    final, overrides = final_labels(consensus, gate, context.keys, held)
    frame = labeled_frame(
        records=context.records,
        hashes=context.hashes,
        final=final,
        consensus=consensus.by_item(),
        guideline_version=context.guideline_version,
        text_field=params.text_field,
        test_fraction=params.test_fraction,
    )
    step = {
        "step": "annotation",
        "round_id": round_id,
        "guideline_version_id": context.guideline_id,
        "method": params.method,
        "review_gate": request.gate_id if request else None,
        "needs_calibration": flagged,
        "draft_guideline_id": draft_id,
        "reannotation_round_id": queue_id,
    }
    annotated_id, hashes = register_annotated(
        frame, dataset=context.dataset, parent_id=context.version_id, step=step
    )
    stage_suite = suite_path(context.dataset, "labeled")
    suite = bind_label_set(
        load_suite(context.dataset, "labeled")
        if stage_suite.is_file()
        else load_suite("default", "labeled"),
        context.label_set,
    )
    outcome = validate_in_chunks(
        frame_for_validation(frame),
        suite,
        content_key=annotated_id,
        chunk_size=params.chunk_size,
        data_docs_dir=get_settings().home / "data_docs",
    )
    run_record = record_checkpoint(
        quote(outcome), version_id=annotated_id, item_hashes=quote(hashes)
    )
    batch_gate = None
    if outcome.batch_failed:
        logger.warning("labeled batch failed: %s", "; ".join(outcome.batch_failure_reasons))
        batch_gate = request_review(
            validation_failure_request(
                outcome,
                dataset_version_id=annotated_id,
                stage="labeled",
                deadline_hours=params.review_deadline_hours,
            )
        )
    batch = decide_batch(outcome, batch_gate)
    publish_validation_artifacts(context.dataset, "labeled", quote(outcome), quote(batch))
    status_counts = frame["label_status"].value_counts().sort_index().to_dict()
    counts = {
        "items": len(context.hashes),
        "contested": consensus.statistics["contested"],
        "audited": len(audited),
        "audit_overrides": overrides,
        **{f"status {k}": int(v) for k, v in status_counts.items()},
    }
    publish_annotation_artifacts(
        round_id,
        quote(labels),
        quote(calibration),
        quote(consensus),
        {item: f.label for item, f in final.items()},
        context.label_set,
        counts,
    )
    if batch.action is BatchAction.ABORT:
        raise BatchAborted(
            f"{context.dataset}: labeled batch aborted by "
            f"{', '.join(batch.decided_by) or 'the deadline policy'}"
        )
    labeled_id = register_passed_rows(
        quote(hashes),
        quote(batch),
        dataset=context.dataset,
        parent_id=annotated_id,
        validation_run_id=run_record,
        suite_name=suite.name,
        waiver_days=timedelta(days=params.waiver_days),
        stage="labeled",
    )
    people = sum(1 for f in final.values() if f.source in ("tier1", "tier2"))
    return AnnotateResult(
        round_id=round_id,
        input_version_id=context.version_id,
        annotated_version_id=annotated_id,
        labeled_version_id=labeled_id,
        guideline_version_id=context.guideline_id,
        items=len(context.hashes),
        labels_counted=consensus.statistics["labels_counted"],
        labels_excluded=consensus.statistics["labels_excluded"],
        needs_calibration=flagged,
        contested=consensus.statistics["contested"],
        audited=len(audited),
        audit_overrides=overrides,
        decided_by_people=people,
        status_counts={k: int(v) for k, v in status_counts.items()},
        rows_passed=batch.rows_passed,
        rows_quarantined=outcome.rows_in - batch.rows_passed,
        statistics=consensus.statistics,
        collection=collection,
        draft_guideline_id=draft_id,
        guideline_published=published,
        reannotation_round_id=queue_id,
        reannotation_items=len(held),
    )
