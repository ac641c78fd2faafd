"""The append-only, hash-chained audit trail.

Each event's hash covers its canonical content (time, actor, action, subject, details) and
the previous event's hash, so editing, deleting or reordering any past event breaks the
chain. Appends lock the single ``audit_head`` row, so concurrent writers on SQLite and
Postgres still build one linear chain (a unique ``prev_hash`` forbids forks outright).
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from govflow.errors import AuditHeadMismatch
from govflow.hashing import GENESIS_HASH, canonical_json, canonical_time, sha256_text
from govflow.ledger.models import AuditEvent, AuditHead, utcnow

__all__ = [
    "ChainBreak",
    "ChainReport",
    "Problem",
    "append_event",
    "count_events",
    "event_hash",
    "locate_recorded_head",
    "verify_chain",
]

# Keys whose values must never reach the audit trail, whatever a caller passes.
_SECRET_KEYS = frozenset(
    {"token", "password", "secret", "reviewer_token", "reviewer_code", "code", "api_key"}
)


def event_hash(
    *,
    occurred_at: datetime,
    actor: str,
    action: str,
    subject: str,
    details: dict[str, Any],
    prev_hash: str,
) -> str:
    """Return the hash an event with this content and predecessor must carry."""
    body = canonical_json(
        {
            "occurred_at": canonical_time(occurred_at),
            "actor": actor,
            "action": action,
            "subject": subject,
            "details": details,
            "prev_hash": prev_hash,
        }
    )
    return sha256_text(body)


def _scrub(details: dict[str, Any]) -> dict[str, Any]:
    return {
        key: ("<redacted>" if key.lower() in _SECRET_KEYS else value)
        for key, value in details.items()
    }


def append_event(
    *,
    session: Session,
    actor: str,
    action: str,
    subject: str,
    details: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> AuditEvent:
    """Append one event to the chain inside the caller's transaction."""
    clean = _scrub(details or {})
    # Round-trip through canonical JSON so the stored value hashes the same after reading.
    clean = json.loads(canonical_json(clean))
    when = occurred_at or utcnow()
    head = session.execute(
        select(AuditHead).where(AuditHead.id == 1).with_for_update()
    ).scalar_one()
    digest = event_hash(
        occurred_at=when,
        actor=actor,
        action=action,
        subject=subject,
        details=clean,
        prev_hash=head.hash,
    )
    event = AuditEvent(
        seq=head.seq + 1,
        occurred_at=when,
        actor=actor,
        action=action,
        subject=subject,
        details=clean,
        prev_hash=head.hash,
        hash=digest,
    )
    session.add(event)
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=event.seq, hash=digest))
    session.flush([event])
    return event


class Problem(enum.StrEnum):
    CHANGED = "changed"
    MISSING = "missing"
    REORDERED = "reordered"


@dataclass(frozen=True)
class ChainBreak:
    """The first place where the audit chain fails verification."""

    seq: int
    problem: Problem
    detail: str


@dataclass(frozen=True)
class ChainReport:
    """The result of walking the audit chain."""

    events: int
    head_hash: str
    first_break: ChainBreak | None

    @property
    def is_intact(self) -> bool:
        return self.first_break is None


def verify_chain(*, session: Session, batch_size: int = 5000) -> ChainReport:
    """Walk the whole chain in order and report the first break, if any."""
    all_hashes = set(session.scalars(select(AuditEvent.hash)))
    head = session.get(AuditHead, 1)
    prev_seq, prev_hash, count = 0, GENESIS_HASH, 0
    last_seq = 0
    while True:
        rows = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.seq > last_seq)
            .order_by(AuditEvent.seq)
            .limit(batch_size)
        ).all()
        if not rows:
            break
        for row in rows:
            found = _check_event(row, prev_seq, prev_hash, all_hashes)
            if found is not None:
                return ChainReport(events=count, head_hash=prev_hash, first_break=found)
            prev_seq, prev_hash = row.seq, row.hash
            count += 1
        last_seq = rows[-1].seq
        session.expunge_all()
    if head is None:
        found = ChainBreak(0, Problem.MISSING, "the audit head record is missing")
        return ChainReport(events=count, head_hash=prev_hash, first_break=found)
    if head.seq != prev_seq or head.hash != prev_hash:
        if head.seq > prev_seq:
            found = ChainBreak(
                prev_seq + 1,
                Problem.MISSING,
                f"events {prev_seq + 1}..{head.seq} were deleted from the end of the chain",
            )
        else:
            found = ChainBreak(
                head.seq,
                Problem.CHANGED,
                f"the chain's recorded head (event {head.seq}) does not match event {prev_seq}",
            )
        return ChainReport(events=count, head_hash=prev_hash, first_break=found)
    return ChainReport(events=count, head_hash=prev_hash, first_break=None)


def locate_recorded_head(*, session: Session, report: ChainReport, recorded_head: str) -> int:
    """Return the seq of ``recorded_head`` in the verified chain (0: the empty chain's head).

    The chain only grows, so an intact chain descends from a head recorded earlier exactly
    when that head is one of its event hashes (each hash covers everything before it).
    Raises ``AuditHeadMismatch`` when it is not: the chain was rewritten, or the hash was
    recorded from another ledger.
    """
    if not report.is_intact:
        raise ValueError("locate a recorded head only in a chain that verified intact")
    if recorded_head == GENESIS_HASH:
        return 0
    seq = session.scalar(select(AuditEvent.seq).where(AuditEvent.hash == recorded_head))
    if seq is None:
        raise AuditHeadMismatch(recorded_head, events=report.events, head=report.head_hash)
    return seq


def _check_event(
    row: AuditEvent, prev_seq: int, prev_hash: str, all_hashes: set[str]
) -> ChainBreak | None:
    recomputed = event_hash(
        occurred_at=row.occurred_at,
        actor=row.actor,
        action=row.action,
        subject=row.subject,
        details=row.details,
        prev_hash=row.prev_hash,
    )
    if recomputed != row.hash:
        return ChainBreak(
            row.seq,
            Problem.CHANGED,
            f"event {row.seq} ({row.action} {row.subject}) no longer matches its hash",
        )
    if row.seq != prev_seq + 1:
        missing = (
            f"event {prev_seq + 1}"
            if row.seq == prev_seq + 2
            else f"events {prev_seq + 1}..{row.seq - 1}"
        )
        return ChainBreak(
            prev_seq + 1, Problem.MISSING, f"{missing} deleted before event {row.seq}"
        )
    if row.prev_hash != prev_hash:
        if row.prev_hash in all_hashes:
            return ChainBreak(
                row.seq,
                Problem.REORDERED,
                f"event {row.seq} ({row.action} {row.subject}) follows a different event "
                f"than event {prev_seq}: events were swapped or renumbered",
            )
        return ChainBreak(
            prev_seq,
            Problem.CHANGED,
            f"event {prev_seq} was rewritten: event {row.seq} recorded a different hash for it",
        )
    return None


def count_events(*, session: Session) -> int:
    """Return the number of events in the trail."""
    return session.scalar(select(func.count()).select_from(AuditEvent)) or 0
