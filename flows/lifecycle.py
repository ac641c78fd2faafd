"""The model lifecycle's steps, shared by the train, evaluate, release and rollback flows.

Like ``flows.checkpoint``, these are not flows: they run their tasks inside the calling
flow's run, so the stage's own run is what waits for people (and suspends when deployed).

People:
- **Red-team findings** go, grouped by probe, to an edge-case gate assigned to the active
  specialists (tier 1, escalation to tier 2; deadline ``review_deadline_hours``): a real
  weakness joins the suite's edge cases as a new suite version, an invalid probe is set
  aside; nobody answering keeps a finding as a real weakness.
- **Sign-off**: a quorum of eligible signers (the suite's ``signoff`` settings, default two
  among specialists and leads, never the one who requested the training nor the suite's
  authors), one tier 2 gate per signer in turn; any rejection blocks promotion, nobody
  answering means not signed. Slices with too few examples are waived only by approving
  them on the form.
- **Rollback**: one lead approves going back to the previous production version.
"""

from __future__ import annotations

from dataclasses import dataclass

from prefect import get_run_logger

from flows.results import EvaluateResult, ReleaseResult
from govflow.evaluation.execute import EvaluationOutcome
from tasks.models import (
    evaluate_model,
    issue_promotion,
    judge_findings,
    promote_with,
    publish_evaluation,
    record_signer,
    signoff_context,
    specialists,
)

__all__ = ["SignOffOutcome", "evaluate_step", "release_step", "signoff_step"]


def evaluate_step(
    *,
    project: str,
    model_version_id: str,
    suite_path: str,
    data_version_id: str | None,
    compare_production: bool,
    review_deadline_hours: float,
) -> tuple[EvaluateResult, EvaluationOutcome]:
    """Evaluate, publish the report, and have specialists judge the red-team findings."""
    from govflow.evaluation.signoff import findings_request
    from govflow.review.gate import request_review

    outcome = evaluate_model(
        project=project,
        model_version_id=model_version_id,
        suite_path=suite_path,
        data_version_id=data_version_id,
        compare_production=compare_production,
    )
    folder = publish_evaluation(outcome)
    new_suite = None
    if outcome.findings:
        gate = request_review(
            findings_request(
                evaluation_run_id=outcome.run_id,
                groups=outcome.findings,
                specialists=specialists(),
                deadline_hours=review_deadline_hours,
            )
        )
        new_suite = judge_findings(
            evaluation_run_id=outcome.run_id,
            choices={d.item_key: d.choice for d in gate.decisions},
            gate_id=gate.gate_id,
            suite_path=suite_path,
        )
    result = EvaluateResult(
        project=project,
        model_version_id=model_version_id,
        evaluation_run_id=outcome.run_id,
        suite_version_id=outcome.suite_version_id,
        status=outcome.status.value,
        failed=outcome.failed,
        insufficient=[name for name, _ in outcome.insufficient],
        findings=sum(len(group) for group in outcome.findings.values()),
        new_suite_version_id=new_suite,
        report_folder=str(folder),
    )
    return result, outcome


@dataclass(frozen=True)
class SignOffOutcome:
    """How a sign-off ended: ``signed`` by a quorum, or ``rejected`` (with the reason)."""

    is_signed: bool
    reason: str
    signers: list[str]
    certificate_days: int


def signoff_step(
    *,
    evaluated: EvaluateResult,
    report: str,
    insufficient: list[tuple[str, str]],
    suite_path: str,
    review_deadline_hours: float,
) -> SignOffOutcome:
    """Ask eligible signers in turn until a quorum approves or anyone rejects."""
    from govflow.domain import SignOffDecision
    from govflow.errors import InputError
    from govflow.evaluation.signoff import (
        SignOffPolicy,
        quorum_of,
        read_signoff,
        signoff_request,
    )
    from govflow.review.gate import request_review

    while True:
        eligible, excluded, signed, policy = signoff_context(
            evaluation_run_id=evaluated.evaluation_run_id, suite_path=suite_path
        )
        quorum = quorum_of(
            [(signer, SignOffDecision(decision)) for signer, decision in signed],
            SignOffPolicy(quorum=policy["quorum"]),
        )
        if quorum.is_rejected:
            return SignOffOutcome(
                is_signed=False,
                reason=f"rejected by {', '.join(quorum.rejections)}",
                signers=quorum.approvals + quorum.rejections,
                certificate_days=policy["certificate_days"],
            )
        if quorum.is_reached:
            return SignOffOutcome(
                is_signed=True,
                reason=f"signed by {', '.join(quorum.approvals)}",
                signers=quorum.approvals,
                certificate_days=policy["certificate_days"],
            )
        remaining = [p for p in eligible if p not in quorum.approvals]
        needed = quorum.needed - len(quorum.approvals)
        if len(remaining) < needed:
            raise InputError(
                f"sign-off of {evaluated.evaluation_run_id} needs {needed} more signer(s) but "
                f"only {len(remaining)} eligible: {', '.join(remaining) or 'nobody'}",
                hint="add specialists or leads, or name signers in the suite's signoff settings",
            )
        gate = request_review(
            signoff_request(
                evaluation_run_id=evaluated.evaluation_run_id,
                model_version_id=evaluated.model_version_id,
                summary=_summary(evaluated),
                report=report,
                insufficient=insufficient,
                signers=remaining,
                excluded=excluded,
                signed_before=len(quorum.approvals),
                deadline_hours=review_deadline_hours,
            )
        )
        answer = read_signoff(gate)
        if answer.signer is None:
            return SignOffOutcome(
                is_signed=False,
                reason="nobody signed before the deadline",
                signers=quorum.approvals,
                certificate_days=policy["certificate_days"],
            )
        record_signer(
            evaluation_run_id=evaluated.evaluation_run_id,
            signer=answer.signer,
            decision=answer.decision.value,
            waived=answer.waived,
            note=answer.note,
            gate_id=gate.gate_id,
        )


def release_step(
    *,
    project: str,
    evaluated: EvaluateResult,
    report: str,
    insufficient: list[tuple[str, str]],
    suite_path: str,
    review_deadline_hours: float,
) -> ReleaseResult:
    """Sign off by quorum, certify and promote: only a full quorum moves ``production``."""
    logger = get_run_logger()

    def result(outcome_word: str, reason: str, **extra: object) -> ReleaseResult:
        return ReleaseResult(
            project=project,
            model_version_id=evaluated.model_version_id,
            evaluation_run_id=evaluated.evaluation_run_id,
            outcome=outcome_word,
            reason=reason,
            **extra,
        )

    if evaluated.failed:
        reason = "evaluation failed: " + "; ".join(evaluated.failed)
        logger.warning(reason)
        return result("failed", reason)
    signed = signoff_step(
        evaluated=evaluated,
        report=report,
        insufficient=insufficient,
        suite_path=suite_path,
        review_deadline_hours=review_deadline_hours,
    )
    if not signed.is_signed:
        if signed.reason.startswith("nobody"):
            return result("rejected", f"{signed.reason}: not promoted")
        return result("rejected", f"{signed.reason}: promotion blocked", signers=signed.signers)
    certificate = issue_promotion(
        evaluation_run_id=evaluated.evaluation_run_id,
        certificate_days=signed.certificate_days,
    )
    production = promote_with(certificate)
    return result(
        "promoted",
        signed.reason,
        signers=signed.signers,
        certificate_id=certificate,
        production_model_version_id=production,
    )


def _summary(evaluated: EvaluateResult) -> str:
    parts = [f"{evaluated.model_version_id}: evaluation {evaluated.status}"]
    if evaluated.insufficient:
        parts.append(f"too few examples in {', '.join(evaluated.insufficient)}")
    if evaluated.findings:
        parts.append(f"{evaluated.findings} red-team finding(s)")
    return "; ".join(parts)
