"""Waivers: a person's decision to ignore a failed expectation for one validated batch."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from govflow.ledger.audit import append_event
from govflow.ledger.bulk import lock_key
from govflow.ledger.models import Waiver, utcnow

__all__ = ["record_waiver", "record_waivers", "waivers_for"]


def record_waiver(
    *,
    session: Session,
    validation_run_id: str,
    expectation: str,
    reviewer_id: str | None,
    reason: str,
    review_task_id: str | None,
    valid_for: timedelta,
    actor: str,
) -> Waiver:
    """Record a waiver once (keyed by validation run and expectation) with its expiry."""
    lock_key(session=session, key=f"waiver:{validation_run_id}:{expectation}")
    existing = session.scalar(
        select(Waiver).where(
            Waiver.validation_run_id == validation_run_id, Waiver.expectation == expectation
        )
    )
    if existing is not None:
        return existing
    now = utcnow()
    waiver = Waiver(
        validation_run_id=validation_run_id,
        expectation=expectation,
        reviewer_id=reviewer_id,
        reason=reason,
        review_task_id=review_task_id,
        expires_at=now + valid_for,
        created_at=now,
    )
    session.add(waiver)
    session.flush()
    append_event(
        session=session,
        actor=actor,
        action="validation.waived",
        subject=validation_run_id,
        details={
            "expectation": expectation,
            "reviewer_id": reviewer_id,
            "reason": reason,
            "expires_at": waiver.expires_at.isoformat(),
            "review_task_id": review_task_id,
        },
    )
    return waiver


def record_waivers(
    *,
    session: Session,
    validation_run_id: str,
    expectations: list[str],
    reviewer_id: str | None,
    reason: str,
    review_task_id: str | None,
    valid_for: timedelta,
    actor: str,
) -> list[Waiver]:
    """Record one waiver per waived expectation of a validation run (idempotent)."""
    return [
        record_waiver(
            session=session,
            validation_run_id=validation_run_id,
            expectation=expectation,
            reviewer_id=reviewer_id,
            reason=reason,
            review_task_id=review_task_id,
            valid_for=valid_for,
            actor=actor,
        )
        for expectation in expectations
    ]


def waivers_for(*, session: Session, validation_run_id: str) -> list[Waiver]:
    """Return the waivers recorded against one validation run."""
    return list(
        session.scalars(
            select(Waiver)
            .where(Waiver.validation_run_id == validation_run_id)
            .order_by(Waiver.expectation)
        )
    )
