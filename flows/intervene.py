"""Intervene: work an intervention off, from re-annotation to a signed re-evaluation.

In:  ``InterveneParams``: the intervention (opened by ``monitor`` or ``audit``), the monitor
     config, the evaluation suite file, and how to draw the slice to re-annotate.
Out: ledger rows, each recorded on the intervention as soon as it exists, so a re-run
     continues where the last one stopped:
     1. a ``reannotation`` version of the affected batch's slice (a stratified, seeded
        sample per predicted label plus a deterministic audit sample by text hash) and an
        annotation round over it, opened and exported as the ``annotate`` flow opens rounds
        (run ``annotate`` on that version to collect and adjudicate its labels);
     2. the evaluation suite's next version, with the batch's rows of known label (late
        ground truth, reviewers' approvals and corrections) added as edge cases of origin
        ``production:<version>``;
     3. an evaluation run of the production model on that suite version;
     then the intervention is closed when the re-evaluation is signed.
People: specialists judge the re-evaluation's red-team findings (edge-case gate), and a
     quorum of signers signs the re-evaluation off (evaluation sign-off gates), as in
     ``release`` (see ``flows.lifecycle``). A rejection, or nobody signing, leaves the
     intervention open with the re-evaluation's sign-off still to do. Deployed, the run
     suspends at each gate.
"""

from __future__ import annotations

from prefect import flow, get_run_logger
from pydantic import BaseModel, Field

from flows.evaluate import suite_file
from flows.lifecycle import evaluate_step, signoff_step
from flows.results import InterveneResult
from tasks.annotate import export_round, load_context, open_annotation_round
from tasks.interventions import (
    add_production_suite_version,
    close_if_done,
    draw_slice,
    intervention_plan,
    record_requirement,
)


class InterveneParams(BaseModel):
    intervention_id: str
    monitor_config: str = Field(description="The monitor config, e.g. monitoring/<project>.yaml.")
    suite_path: str | None = Field(
        default=None, description="The suite file (default: evaluations/<project>.yaml)."
    )
    per_label: int = Field(default=5, ge=1, description="Rows per predicted label to re-annotate.")
    audit_rate: float = Field(default=0.05, ge=0, le=1, description="Audit sample by text hash.")
    seed: int = 0
    overlap: int = Field(default=1, ge=1, description="Annotators per item in the round.")
    annotation_deadline_hours: float = Field(default=72, gt=0)
    review_deadline_hours: float = Field(default=48, gt=0)
    export_dir: str | None = None
    reevaluate: bool = Field(
        default=True,
        description="Re-evaluate and ask for sign-off now; false stops after steps 1 and 2.",
    )


@flow(name="intervene", persist_result=True)
def intervene(params: InterveneParams) -> InterveneResult:
    """Re-annotate the slice, recalibrate the benchmark, re-evaluate, sign off, close."""
    logger = get_run_logger()
    plan = intervention_plan(params.intervention_id)
    if plan.is_closed:
        return InterveneResult.of(plan, left=[], outcome="closed already")
    round_id = plan.reannotation_round_id
    if round_id is None:
        slice_id = draw_slice(
            plan,
            monitor_config=params.monitor_config,
            per_label=params.per_label,
            audit_rate=params.audit_rate,
            seed=params.seed,
        )
        context = load_context(plan.project, slice_id, None)
        round_id = open_annotation_round(
            context,
            project=plan.project,
            overlap=params.overlap,
            gold_rate=0.0,
            seed=params.seed,
            deadline_hours=params.annotation_deadline_hours,
            deadline_policy="proceed",
        )
        export_round(round_id, params.export_dir)
        record_requirement(plan.id, requirement="reannotation_round", value=round_id)
        logger.info("re-annotation round %s over %s", round_id, slice_id)
    suite_path = suite_file(plan.project, params.suite_path)
    suite_id = plan.suite_version_id
    if suite_id is None:
        suite_id = add_production_suite_version(
            plan, monitor_config=params.monitor_config, suite_path=suite_path
        )
        record_requirement(plan.id, requirement="suite_version", value=suite_id)
    if not params.reevaluate:
        left = close_if_done(plan.id)
        return InterveneResult.of(
            plan, left=left, outcome="open", round_id=round_id, suite_version_id=suite_id
        )
    evaluated, outcome = evaluate_step(
        project=plan.project,
        model_version_id=plan.model_version_id,
        suite_path=suite_path,
        data_version_id=None,
        compare_production=False,
        review_deadline_hours=params.review_deadline_hours,
    )
    if plan.evaluation_run_id is None:
        record_requirement(plan.id, requirement="reevaluation", value=evaluated.evaluation_run_id)
    signed = signoff_step(
        evaluated=evaluated,
        report=outcome.report,
        insufficient=outcome.insufficient,
        suite_path=suite_path,
        review_deadline_hours=params.review_deadline_hours,
    )
    left = close_if_done(plan.id)
    for line in left:
        logger.warning("intervention %s: still missing %s", plan.id, line)
    return InterveneResult.of(
        plan,
        left=left,
        outcome="closed" if not left else "open",
        round_id=round_id,
        suite_version_id=suite_id,
        evaluation_run_id=evaluated.evaluation_run_id,
        signoff=signed.reason,
    )
