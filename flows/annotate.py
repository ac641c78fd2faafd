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

from typing import Literal

from prefect import flow, get_run_logger
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import quote
from pydantic import BaseModel, Field

from flows.checkpoint import CheckpointSettings, run_checkpoint
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
)
from tasks.validation import register_frame_version


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
    from govflow.annotation.adjudication import (
        annotation_step,
        contested_request,
        final_labels,
        promotion_request,
        round_counts,
        votes_by_item,
    )
    from govflow.annotation.consensus import audit_sample
    from govflow.annotation.labeled import bind_label_set, labeled_frame
    from govflow.annotation.refine import clarifications_from, reannotation_items
    from govflow.domain import Stage
    from govflow.review.collect import wait_for_annotations
    from govflow.review.gate import request_review
    from govflow.validation.suites import suite_for

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
    request = contested_request(
        round_id=round_id,
        consensus=consensus,
        audited=audited,
        records=context.records_by_hash,
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
            gate, item_hashes=context.hashes_by_key, votes=votes_by_item(consensus.items)
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
    annotated_id, hashes = register_frame_version(
        frame,
        dataset=context.dataset,
        stage=Stage.ANNOTATED,
        parent_id=context.version_id,
        steps=[
            annotation_step(
                round_id=round_id,
                guideline_id=context.guideline_id,
                method=params.method,
                gate_id=request.gate_id if request else None,
                needs_calibration=flagged,
                draft_guideline_id=draft_id,
                reannotation_round_id=queue_id,
            )
        ],
    )
    counts = round_counts(
        frame, consensus=consensus, items=len(context.hashes), audited=audited, overrides=overrides
    )
    publish_annotation_artifacts(
        round_id,
        quote(labels),
        quote(calibration),
        quote(consensus),
        {item: f.label for item, f in final.items()},
        context.label_set,
        counts,
    )
    checked = run_checkpoint(
        frame,
        dataset=context.dataset,
        checkpoint="labeled",
        suite=bind_label_set(suite_for(context.dataset, "labeled"), context.label_set),
        version_id=annotated_id,
        item_hashes=hashes,
        passed_stage=Stage.LABELED,
        settings=CheckpointSettings(
            chunk_size=params.chunk_size,
            review_deadline_hours=params.review_deadline_hours,
            waiver_days=params.waiver_days,
        ),
    )
    return AnnotateResult.of(
        round_id=round_id,
        context=context,
        annotated_version_id=annotated_id,
        frame=frame,
        final=final,
        consensus=consensus,
        flagged=flagged,
        audited=audited,
        overrides=overrides,
        collection=collection,
        checked=checked,
        draft_guideline_id=draft_id,
        guideline_published=published,
        reannotation_round_id=queue_id,
        reannotation_items=len(held),
    )
