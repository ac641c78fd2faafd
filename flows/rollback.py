"""Rollback: move ``production`` back to the version it replaced, with a lead's approval.

In:  ``RollbackParams``: the project and who asks.
Out: a rollback certificate (current and previous versions, the approving lead) and the
     alias moved with it (an audit event), exactly as a promotion is recorded.
People: one lead approves at a promotion-approval gate (deadline ``review_deadline_hours``;
     nobody answering means nothing moves).
"""

from __future__ import annotations

from prefect import flow
from pydantic import BaseModel, Field

from flows.results import ReleaseResult
from tasks.models import promote_with, rollback_plan


class RollbackParams(BaseModel):
    project: str
    requested_by: str | None = Field(default=None, description="Who asks: they may not approve.")
    review_deadline_hours: float = Field(default=24, gt=0)


@flow(name="rollback", persist_result=True)
def rollback(params: RollbackParams) -> ReleaseResult:
    """Ask a lead, then move production back to the previous version."""
    from govflow.review.gate import request_review
    from tasks.models import issue_rollback

    plan = rollback_plan(params.project)
    approval = request_review(
        plan.request(
            submitted_by=[params.requested_by] if params.requested_by else [],
            deadline_hours=params.review_deadline_hours,
        )
    )
    decision = approval.decisions[0]
    base = {
        "project": params.project,
        "model_version_id": plan.target,
        "evaluation_run_id": plan.evaluation_run_id or "",
    }
    if decision.choice != "approve":
        return ReleaseResult(
            **base,
            outcome="rejected",
            reason=f"rollback not approved ({decision.choice})",
        )
    certificate = issue_rollback(plan=plan, approver=decision.reviewer_id or "")
    production = promote_with(certificate)
    return ReleaseResult(
        **base,
        outcome="promoted",
        reason=f"rolled back from {plan.current} by {decision.reviewer_id}",
        signers=[decision.reviewer_id] if decision.reviewer_id else [],
        certificate_id=certificate,
        production_model_version_id=production,
    )
