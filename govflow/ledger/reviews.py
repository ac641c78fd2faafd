"""Review tasks (gates) and decisions: idempotent writes keyed by the gate's content id.

A ``ReviewTask`` row is one question put to people; it stays ``OPEN`` while attempts come
and go (``attempt`` counts the forms asked, ``last_rejection`` says why the last one was
refused) and closes once, ``DECIDED`` by a person or ``TIMED_OUT`` by its kind's policy.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from govflow.domain import MAX_TIER, GateStatus
from govflow.domain.review import (
    ESCALATE,
    POLICIES,
    ItemDecision,
    Outcome,
    ReviewKind,
    ReviewRequest,
)
from govflow.ledger.audit import append_event
from govflow.ledger.bulk import lock_key
from govflow.ledger.models import ReviewDecision, ReviewTask, as_utc, utcnow

__all__ = [
    "expired_gates",
    "open_review_task",
    "open_tasks",
    "read_decisions",
    "record_decisions",
    "record_rejection",
    "record_timeout",
    "timeout_decisions",
    "timeout_open_gate",
]


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
        kind=request.kind,
        tier=request.tier,
        status=GateStatus.OPEN,
        attempt=1,
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
            "choices": list(request.choices),
            "assignees": request.assignees,
            "submitted_by": request.submitted_by,
            "reasons": request.reasons,
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
            "reasons": request.reasons,
        },
    )
    return task


def record_rejection(
    *, session: Session, task: ReviewTask, details: dict[str, Any], reason: str, actor: str
) -> int:
    """Record a refused submission (only an audit event) and open the next attempt.

    ``details`` is what the audit event keeps about who submitted (never free text that
    could be a secret); ``reason`` is shown on the next form.
    """
    attempt = task.attempt
    append_event(
        session=session,
        actor=actor,
        action="review.rejected",
        subject=task.id,
        details={"attempt": attempt, **details, "reason": reason},
    )
    task.attempt = attempt + 1
    task.last_rejection = reason
    session.flush([task])
    return task.attempt


def read_decisions(*, session: Session, gate_id: str) -> list[ItemDecision] | None:
    """Return the gate's recorded decisions in item order, or None while it is open."""
    task = session.get(ReviewTask, gate_id)
    if task is None or task.status is GateStatus.OPEN:
        return None
    rows = {
        row.item_key: row
        for row in session.scalars(
            select(ReviewDecision).where(ReviewDecision.review_task_id == gate_id)
        )
    }
    return [
        ItemDecision(
            item_key=row.item_key,
            choice=row.choice,
            outcome=row.outcome,
            reviewer_id=row.reviewer_id,
            tier=row.tier,
            note=row.note,
            payload_hash=row.payload_hash,
            gate_id=gate_id,
        )
        for row in (rows.get(item["key"]) for item in task.items)
        if row is not None
    ]


def record_decisions(
    *,
    session: Session,
    task: ReviewTask,
    decisions: list[ItemDecision],
    status: GateStatus,
    actor: str,
) -> list[ItemDecision]:
    """Store the gate's final decisions once; a second call returns the first ones."""
    lock_key(session=session, key=task.id)
    session.refresh(task)
    if task.status is not GateStatus.OPEN:
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
    action = "review.timed_out" if status is GateStatus.TIMED_OUT else "review.decided"
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
            select(ReviewTask)
            .where(ReviewTask.status == GateStatus.OPEN)
            .order_by(ReviewTask.created_at)
        )
    )


def expired_gates(*, session: Session, now: datetime) -> list[tuple[str, str]]:
    """Return (gate id, flow run id) of open gates in a run whose deadline has passed."""
    return [
        (task.id, task.flow_run_id)
        for task in open_tasks(session=session)
        if task.flow_run_id and task.deadline is not None and as_utc(task.deadline) <= now
    ]


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
            outcome=Outcome.TIMED_OUT,
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
        status=GateStatus.TIMED_OUT,
        actor=actor,
    )


def timeout_open_gate(*, session: Session, gate_id: str, actor: str) -> bool:
    """Time out the gate if it is still open; return whether this call closed it."""
    lock_key(session=session, key=gate_id)
    task = session.get(ReviewTask, gate_id)
    if task is None or task.status is not GateStatus.OPEN:
        return False
    record_timeout(session=session, task=task, actor=actor)
    return True
