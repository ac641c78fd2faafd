"""Review tasks (gates) and decisions: idempotent writes keyed by the gate's content id."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from govflow.ledger.audit import append_event
from govflow.ledger.bulk import lock_key
from govflow.ledger.models import ReviewDecision, ReviewTask, utcnow
from govflow.review.kinds import ESCALATE, MAX_TIER, POLICIES, Outcome, ReviewKind
from govflow.review.models import ItemDecision, ReviewRequest

OPEN = "open"


def open_review_task(
    *, session: Session, request: ReviewRequest, flow_run_id: str | None, actor: str
) -> ReviewTask:
    """Return the gate's review task, creating it (and its audit event) the first time."""
    gate_id = request.gate_id
    lock_key(session=session, key=gate_id)
    task = session.get(ReviewTask, gate_id)
    if task is not None:
        return task
    now = utcnow()
    task = ReviewTask(
        id=gate_id,
        flow_run_id=flow_run_id,
        kind=request.kind.value,
        tier=request.tier,
        status=OPEN,
        dataset_version_id=request.dataset_version_id,
        guideline_version_id=request.guideline_version_id,
        payload_hash=request.payload_hash,
        items=[
            {
                "key": item.key,
                "payload_hash": item.payload_hash,
                "conflicted": item.conflicted,
                "suggestion": item.suggestion,
            }
            for item in request.items
        ],
        details={
            "name": request.name,
            "attempt": 1,
            "choices": list(request.choices),
            "assignees": request.assignees,
            "submitted_by": request.submitted_by,
            "reasons": sorted({r for item in request.items for r in item.reasons}),
        },
        deadline=request.due(now),
        created_at=now,
    )
    session.add(task)
    session.flush()
    append_event(
        session=session,
        actor=actor,
        action="review.requested",
        subject=gate_id,
        details={
            "kind": request.kind.value,
            "tier": request.tier,
            "items": len(request.items),
            "flow_run_id": flow_run_id,
            "payload_hash": request.payload_hash,
            "deadline": task.deadline.isoformat(),
            "reasons": sorted({r for item in request.items for r in item.reasons}),
        },
    )
    return task


def update_details(task: ReviewTask, **changes: Any) -> None:
    """Replace the task's details dict so the JSON column is marked as changed."""
    task.details = {**task.details, **changes}


def record_rejection(
    *, session: Session, task: ReviewTask, reviewer_id: str, reason: str, actor: str
) -> int:
    """Record a rejected submission (only an audit event) and open the next attempt."""
    attempt = int(task.details.get("attempt", 1))
    append_event(
        session=session,
        actor=actor,
        action="review.rejected",
        subject=task.id,
        details={"attempt": attempt, "reviewer_id": reviewer_id, "reason": reason},
    )
    update_details(task, attempt=attempt + 1, last_rejection=reason)
    return attempt + 1


def read_decisions(*, session: Session, gate_id: str) -> list[ItemDecision] | None:
    """Return the gate's recorded decisions in item order, or None while it is open."""
    task = session.get(ReviewTask, gate_id)
    if task is None or task.status == OPEN:
        return None
    rows = {
        row.item_key: row
        for row in session.scalars(
            select(ReviewDecision).where(ReviewDecision.review_task_id == gate_id)
        )
    }
    return [
        ItemDecision(
            item_key=rows[item["key"]].item_key,
            choice=rows[item["key"]].choice,
            outcome=rows[item["key"]].outcome,
            reviewer_id=rows[item["key"]].reviewer_id,
            tier=rows[item["key"]].tier,
            note=rows[item["key"]].note,
            payload_hash=rows[item["key"]].payload_hash,
            gate_id=gate_id,
        )
        for item in task.items
        if item["key"] in rows
    ]


def record_decisions(
    *, session: Session, task: ReviewTask, decisions: list[ItemDecision], status: str, actor: str
) -> list[ItemDecision]:
    """Store the gate's final decisions once; a second call returns the first ones."""
    lock_key(session=session, key=task.id)
    session.refresh(task)
    if task.status != OPEN:
        return read_decisions(session=session, gate_id=task.id) or []
    now = utcnow()
    session.add_all(
        ReviewDecision(
            review_task_id=task.id,
            item_key=d.item_key,
            choice=d.choice,
            outcome=d.outcome,
            reviewer_id=d.reviewer_id,
            tier=d.tier,
            note=d.note,
            guideline_version_id=task.guideline_version_id,
            payload_hash=d.payload_hash,
            decided_at=now,
        )
        for d in decisions
    )
    task.status = status
    task.closed_at = now
    counts = Counter(d.choice for d in decisions)
    reviewers = sorted({d.reviewer_id for d in decisions if d.reviewer_id})
    action = "review.timed_out" if status == "timed_out" else "review.decided"
    append_event(
        session=session,
        actor=actor,
        action=action,
        subject=task.id,
        details={"choices": dict(sorted(counts.items())), "reviewers": reviewers},
    )
    escalated = [d.item_key for d in decisions if d.choice == ESCALATE]
    if escalated:
        append_event(
            session=session,
            actor=actor,
            action="review.escalated",
            subject=task.id,
            details={"items": escalated, "to_tier": task.tier + 1},
        )
    session.flush()
    return decisions


def open_tasks(*, session: Session) -> list[ReviewTask]:
    """Return every review task still waiting for people, oldest first."""
    return list(
        session.scalars(
            select(ReviewTask).where(ReviewTask.status == OPEN).order_by(ReviewTask.created_at)
        )
    )


def timeout_decisions(task: ReviewTask) -> list[ItemDecision]:
    """Apply the kind's deadline policy: escalate below the top tier, else the safe default."""
    policy = POLICIES[ReviewKind(task.kind)]
    escalate = policy.escalate_on_timeout and task.tier < MAX_TIER
    choice = ESCALATE if escalate else policy.timeout_choice
    note = (
        f"deadline passed at tier {task.tier}: escalated"
        if escalate
        else f"deadline passed at tier {task.tier}: {policy.timeout_meaning}"
    )
    return [
        ItemDecision(
            item_key=item["key"],
            choice=choice,
            outcome=Outcome.TIMED_OUT.value,
            reviewer_id=None,
            tier=task.tier,
            note=note,
            payload_hash=item["payload_hash"],
            gate_id=task.id,
        )
        for item in task.items
    ]


def record_timeout(*, session: Session, task: ReviewTask, actor: str) -> list[ItemDecision]:
    """Close an unanswered gate with its kind's timeout policy (never a silent accept)."""
    return record_decisions(
        session=session,
        task=task,
        decisions=timeout_decisions(task),
        status="timed_out",
        actor=actor,
    )
