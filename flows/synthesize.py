"""Synthesize: expand rare classes of a labeled version with governed synthetic rows.

In:  ``SynthesizeParams``: the project (its guideline gives the label set and examples), a
     labeled version, the plan file (``synthesis/<project>.yaml``: targets, generator,
     thresholds, caps, label checker), an optional seed override (regenerate after a failed
     spot-check) and the evaluation suite whose cases synthetic rows must not copy.
Out: ledger rows: a ``generated`` version (every row made, items of origin synthetic), its
     ``<dataset>.synthetic`` (or ``default.synthetic``) validation run with quarantined rows
     and their reasons (organic copies, evaluation copies, PII, PII spans, in-batch near
     duplicates, schema), a ``synthetic`` version of the rows that passed, the batch with
     per-row provenance, label-checker predictions and spot-check choices; when the batch is
     accepted and ``mix`` is set, a ``mixed`` version (organic rows plus accepted synthetic
     rows) with the caps applied and any waiver. Artifacts: the batch report and a picture of
     organic vs synthetic distributions per class.
People: the checkpoint's validation-failure gate when the batch fails its suite (as in
     every stage); the synthetic-sample gate (tier 1 reviewers, specialists and leads, by
     ``review_deadline_hours``; escalation to tier 2): a zero-acceptance sample of the rows
     that passed and every label-checker disagreement. One defect, or nobody answering by
     the deadline, quarantines the batch as a whole. When a mix would exceed a cap and
     ``ask_cap_waiver`` is set, a lead is asked to waive it (by the deadline, else the cap
     holds and the run fails with the numbers).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from prefect import flow, get_run_logger
from prefect.utilities.annotations import quote
from pydantic import BaseModel, Field

from flows.checkpoint import CheckpointSettings, run_checkpoint
from flows.results import SynthesizeResult
from tasks.synthetic import (
    check_labels,
    load_synthesis_inputs,
    make_batch,
    mix_accepted,
    plan_mix,
    publish_synthetic_report,
    record_synthetic_batch,
    record_verdict,
    register_generated,
)


class SynthesizeParams(BaseModel):
    project: str = Field(description="The project: its guideline's label set and examples.")
    version_id: str = Field(description="The labeled (organic) version to expand.")
    plan_path: str | None = Field(
        default=None, description="The plan file; default synthesis/<project>.yaml."
    )
    seed: int | None = Field(default=None, description="Override the plan's seed (regenerate).")
    suite_path: str | None = Field(
        default=None, description="Evaluation suite whose cases synthetic rows must not copy."
    )
    mix: bool = Field(default=True, description="Build a mixed version if the batch passes.")
    ask_cap_waiver: bool = Field(
        default=True, description="Ask a lead to waive a cap the mix would exceed."
    )
    review_deadline_hours: float = Field(default=48, gt=0)
    waiver_days: int = Field(default=30, ge=1)
    chunk_size: int = Field(default=50_000, ge=100)


@flow(name="synthesize", persist_result=True)
def synthesize(params: SynthesizeParams) -> SynthesizeResult:
    """Generate, check, spot-check and (within caps) mix one synthetic batch."""
    from govflow.annotation.labeled import bind_label_set
    from govflow.domain import Stage
    from govflow.review.gate import request_review
    from govflow.synthetic.checks import LabelDisagreement, label_disagreements
    from govflow.synthetic.plan import plan_path
    from govflow.synthetic.sampling import nearest_organic, sample_positions, spot_check_size
    from govflow.synthetic.spotcheck import spot_check_request, spot_check_verdict
    from govflow.validation.suites import suite_for

    logger = get_run_logger()
    inputs = load_synthesis_inputs(
        project=params.project,
        version_id=params.version_id,
        plan_path=params.plan_path or str(plan_path(params.project)),
        seed=params.seed,
        suite_path=params.suite_path,
    )
    plan = inputs.plan
    batch = make_batch(quote(inputs))
    generated_id, hashes = register_generated(
        quote(batch), dataset=inputs.dataset, parent_id=inputs.version_id
    )
    checked = run_checkpoint(
        batch.frame,
        dataset=inputs.dataset,
        checkpoint="synthetic",
        suite=bind_label_set(suite_for(inputs.dataset, "synthetic"), inputs.label_set),
        version_id=generated_id,
        item_hashes=hashes,
        passed_stage=Stage.SYNTHETIC,
        settings=CheckpointSettings(
            chunk_size=params.chunk_size,
            review_deadline_hours=params.review_deadline_hours,
            waiver_days=params.waiver_days,
        ),
    )
    passed = [bool(v) for v in checked.decision.passed_mask]
    texts = [row.text for row in batch.rows]
    predicted = check_labels(
        project=params.project,
        texts=texts,
        checker=plan.label_checker,
        label_set=inputs.label_set,
    )
    record_synthetic_batch(
        quote(batch),
        inputs=quote(inputs),
        generated_version_id=generated_id,
        hashes=quote(hashes),
        passed_version_id=checked.passed_version_id,
        validation_run_id=checked.validation_run_id,
        passed_mask=passed,
        predicted=predicted[0] if predicted else None,
    )

    passed_positions = [i for i, ok in enumerate(passed) if ok]
    disagreements = []
    if predicted is not None:
        found = label_disagreements(
            [batch.rows[i].label for i in passed_positions],
            [predicted[0][i] for i in passed_positions],
            [predicted[1][i] for i in passed_positions],
        )
        disagreements = [
            LabelDisagreement(
                position=passed_positions[d.position],
                intended=d.intended,
                predicted=d.predicted,
                confidence=d.confidence,
            )
            for d in found
        ]
    size = spot_check_size(len(passed_positions), defect_rate=plan.checks.defect_rate)
    sampled = [
        passed_positions[i]
        for i in sample_positions(
            len(passed_positions), size, seed=plan.seed, batch_id=batch.batch_id
        )
    ]
    nearest: dict[int, tuple[str, float]] = {}
    for position in sampled + [d.position for d in disagreements]:
        row = batch.rows[position]
        same_class = inputs.frame.loc[inputs.frame["label"] == row.label, "text"].astype(str)
        found_near = nearest_organic(row.text, same_class.tolist())
        if found_near is not None:
            nearest[position] = (same_class.iloc[found_near[0]], found_near[1])

    status, reason, accepted, spot = "quarantined", "no row passed the checks", 0, {}
    if sampled or disagreements:
        gate = request_review(
            spot_check_request(
                batch_id=batch.batch_id,
                rows=batch.rows,
                sampled=sampled,
                disagreements=disagreements,
                nearest=nearest,
                dataset_version_id=checked.passed_version_id,
                deadline_hours=params.review_deadline_hours,
                report=batch.report().markdown(),
            )
        )
        verdict = spot_check_verdict(gate)
        status, reason, accepted = record_verdict(
            batch_id=batch.batch_id,
            gate_id=gate.gate_id,
            choices=verdict.choices,
            rejected_positions=verdict.rejected_positions,
            status=verdict.status.value,
            reason=verdict.reason,
        )
        spot = {"outcome": status, "reason": reason, "sampled": len(sampled)}
    else:
        record_verdict(
            batch_id=batch.batch_id,
            gate_id=None,
            choices={},
            rejected_positions=[],
            status="quarantined",
            reason=reason,
        )
    publish_synthetic_report(quote(batch), inputs=quote(inputs), spot_check=spot)
    if status == "quarantined":
        logger.warning("batch %s quarantined: %s", batch.batch_id, reason)

    mixed_id, violations = None, []
    if status == "accepted" and params.mix:
        mix_plan = plan_mix(inputs=quote(inputs), batch_ids=[batch.batch_id])
        violations = mix_plan.violations
        waiver = None
        if violations:
            waiver = _ask_cap_waiver(
                batch_id=batch.batch_id,
                violations=violations,
                version_id=checked.passed_version_id,
                params=params,
            )
        mixed_id = mix_accepted(
            inputs=quote(inputs),
            batch_ids=[batch.batch_id],
            parent_ids=[inputs.version_id, checked.passed_version_id],
            mix_plan=quote(mix_plan),
            waiver=waiver,
            now=datetime.now(UTC),
        )
    return SynthesizeResult(
        project=params.project,
        batch_id=batch.batch_id,
        status=status,
        reason=reason,
        source_version_id=inputs.version_id,
        generated_version_id=generated_id,
        passed_version_id=checked.passed_version_id,
        mixed_version_id=mixed_id,
        rows_requested=sum(batch.targets.values()),
        rows_generated=len(batch.rows),
        rows_rejected_by_generator=len(batch.rejected),
        rows_quarantined=len(passed) - sum(passed),
        rows_accepted=accepted,
        quarantined_by_check=batch.screen.counts(),
        spot_checked=len(sampled),
        label_disagreements=len(disagreements),
        cap_violations=violations,
    )


def _ask_cap_waiver(
    *, batch_id: str, violations: list[str], version_id: str, params: SynthesizeParams
) -> dict[str, Any] | None:
    """Ask a lead to waive the caps; return the waiver, or raise ``CapExceeded``."""
    from govflow.domain import Role
    from govflow.domain.review import ReviewItem, ReviewKind, ReviewRequest
    from govflow.errors import CapExceeded
    from govflow.ledger.engine import Ledger
    from govflow.ledger.people import list_people
    from govflow.review.gate import request_review

    if not params.ask_cap_waiver:
        raise CapExceeded(violations)
    with Ledger.open().reader() as session:
        leads = [p.id for p in list_people(session=session, role=Role.LEAD)]
    if not leads:
        raise CapExceeded(violations)
    gate = request_review(
        ReviewRequest(
            name=f"synthetic-cap-waiver-{batch_id}",
            kind=ReviewKind.CAP_WAIVER,
            tier=2,
            items=[
                ReviewItem(
                    key="caps", payload={"violations": "; ".join(violations)}, reasons=violations
                )
            ],
            assignees=leads,
            deadline=timedelta(hours=params.review_deadline_hours),
            dataset_version_id=version_id,
        )
    )
    [decision] = gate.decisions
    if decision.choice != "waive" or decision.reviewer_id is None:
        raise CapExceeded(violations)
    return {
        "reviewer_id": decision.reviewer_id,
        "reason": decision.note or "cap waived at the gate",
        "expires_at": datetime.now(UTC) + timedelta(days=params.waiver_days),
        "review_task_id": gate.gate_id,
    }
