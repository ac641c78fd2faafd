"""Synthetic batches, their items' provenance and spot-checks, and the mixes built from them.

Writes are keyed by content: a batch by its source version and plan hash, its items by
position, a mix by its mixed version; a re-run finds what it wrote and adds nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from govflow.domain import SyntheticStatus
from govflow.errors import NotFound
from govflow.hashing import canonical_time
from govflow.ledger.audit import append_event
from govflow.ledger.bulk import lock_key
from govflow.ledger.models import SyntheticBatch, SyntheticItem, SyntheticMix, utcnow

__all__ = [
    "ItemRecord",
    "accepted_hashes",
    "batch_items",
    "get_batch",
    "list_batches",
    "record_batch",
    "record_mix",
    "record_spot_check",
    "synthetic_lineage",
]


@dataclass(frozen=True)
class ItemRecord:
    """One row of a batch as recorded."""

    item_hash: str
    label: str
    provenance: dict[str, Any]
    passed_checks: bool
    predicted_label: str | None = None


def record_batch(
    *,
    session: Session,
    batch_id: str,
    project: str,
    dataset: str,
    source_version_id: str,
    generated_version_id: str,
    passed_version_id: str | None,
    validation_run_id: str | None,
    plan: Mapping[str, Any],
    plan_hash: str,
    generator: str,
    generator_version: str,
    seed: int,
    rows_requested: int,
    items: Sequence[ItemRecord],
    report: Mapping[str, Any],
    flow_run_id: str | None,
    actor: str,
) -> SyntheticBatch:
    """Record a screened batch and its items once; return the (possibly existing) batch."""
    lock_key(session=session, key=f"synthetic:{batch_id}")
    existing = session.get(SyntheticBatch, batch_id)
    if existing is not None:
        return existing
    batch = SyntheticBatch(
        id=batch_id,
        project=project,
        dataset=dataset,
        source_version_id=source_version_id,
        generated_version_id=generated_version_id,
        passed_version_id=passed_version_id,
        validation_run_id=validation_run_id,
        plan=dict(plan),
        plan_hash=plan_hash,
        generator=generator,
        generator_version=generator_version,
        seed=seed,
        status=SyntheticStatus.SPOT_CHECK,
        rows_requested=rows_requested,
        rows_generated=len(items),
        rows_passed=sum(item.passed_checks for item in items),
        report=dict(report),
        flow_run_id=flow_run_id,
        created_by=actor,
    )
    session.add(batch)
    session.flush()
    session.add_all(
        SyntheticItem(
            batch_id=batch_id,
            position=position,
            item_hash=item.item_hash,
            label=item.label,
            provenance=item.provenance,
            passed_checks=item.passed_checks,
            predicted_label=item.predicted_label,
            is_accepted=False,
        )
        for position, item in enumerate(items)
    )
    session.flush()
    append_event(
        session=session,
        actor=actor,
        action="synthetic.batch_recorded",
        subject=batch_id,
        details={
            "source_version_id": source_version_id,
            "generated_version_id": generated_version_id,
            "passed_version_id": passed_version_id,
            "generator": generator,
            "plan_hash": plan_hash,
            "seed": seed,
            "rows_generated": len(items),
            "rows_passed": batch.rows_passed,
        },
    )
    return batch


def record_spot_check(
    *,
    session: Session,
    batch_id: str,
    review_task_id: str | None,
    choices: Mapping[int, tuple[str, str | None]],
    rejected_positions: Sequence[int],
    status: SyntheticStatus,
    reason: str | None,
    actor: str,
) -> SyntheticBatch:
    """Record people's choices per position and the batch's verdict (once).

    An accepted batch accepts every row that passed the checks, except
    ``rejected_positions`` (label disagreements people turned down).
    """
    batch = get_batch(session=session, batch_id=batch_id)
    if batch.status is not SyntheticStatus.SPOT_CHECK:
        return batch
    items = batch_items(session=session, batch_id=batch_id)
    rejected = set(rejected_positions)
    is_accepted = status is SyntheticStatus.ACCEPTED
    for item in items:
        if item.position in choices:
            item.spot_check, item.reviewer_id = choices[item.position]
        item.is_accepted = is_accepted and item.passed_checks and item.position not in rejected
    batch.status = status
    batch.status_reason = reason
    batch.review_task_id = review_task_id
    batch.rows_accepted = sum(item.is_accepted for item in items)
    batch.decided_at = utcnow()
    session.flush()
    append_event(
        session=session,
        actor=actor,
        action=f"synthetic.batch_{status.value}",
        subject=batch_id,
        details={
            "review_task_id": review_task_id,
            "reason": reason,
            "rows_accepted": batch.rows_accepted,
            "choices": {str(p): c for p, (c, _) in sorted(choices.items())},
        },
    )
    return batch


def get_batch(*, session: Session, batch_id: str) -> SyntheticBatch:
    batch = session.get(SyntheticBatch, batch_id)
    if batch is None:
        raise NotFound("synthetic batch", batch_id, hint="list batches: govflow synthetic list")
    return batch


def list_batches(*, session: Session, project: str | None = None) -> list[SyntheticBatch]:
    query = select(SyntheticBatch).order_by(SyntheticBatch.created_at, SyntheticBatch.id)
    if project is not None:
        query = query.where(SyntheticBatch.project == project)
    return list(session.scalars(query))


def batch_items(*, session: Session, batch_id: str) -> list[SyntheticItem]:
    return list(
        session.scalars(
            select(SyntheticItem)
            .where(SyntheticItem.batch_id == batch_id)
            .order_by(SyntheticItem.position)
        )
    )


def accepted_hashes(*, session: Session, batch_id: str) -> list[str]:
    """Return the item hashes of a batch's accepted rows, in position order."""
    return [item.item_hash for item in batch_items(session=session, batch_id=batch_id)
            if item.is_accepted]  # fmt: skip


def record_mix(
    *,
    session: Session,
    version_id: str,
    organic_version_id: str,
    batch_ids: Sequence[str],
    caps: Mapping[str, float],
    shares: Mapping[str, Any],
    violations: Sequence[str],
    waiver_reviewer_id: str | None,
    waiver_reason: str | None,
    waiver_review_task_id: str | None,
    waiver_expires_at: datetime | None,
    actor: str,
) -> SyntheticMix:
    """Record how a mixed version was built (once)."""
    lock_key(session=session, key=f"mix:{version_id}")
    existing = session.get(SyntheticMix, version_id)
    if existing is not None:
        return existing
    mix = SyntheticMix(
        version_id=version_id,
        organic_version_id=organic_version_id,
        batch_ids=list(batch_ids),
        caps=dict(caps),
        shares=dict(shares),
        violations=list(violations),
        waiver_reviewer_id=waiver_reviewer_id,
        waiver_reason=waiver_reason,
        waiver_review_task_id=waiver_review_task_id,
        waiver_expires_at=waiver_expires_at,
        created_by=actor,
    )
    session.add(mix)
    session.flush()
    append_event(
        session=session,
        actor=actor,
        action="synthetic.mixed",
        subject=version_id,
        details={
            "organic_version_id": organic_version_id,
            "batch_ids": list(batch_ids),
            "caps": dict(caps),
            "violations": list(violations),
            "waived_by": waiver_reviewer_id,
            "waiver_expires_at": canonical_time(waiver_expires_at) if waiver_expires_at else None,
        },
    )
    return mix


def synthetic_lineage(*, session: Session, version_id: str) -> dict[str, Any] | None:
    """What the ledger knows of a version as synthetic data: its mix, or its batch."""
    mix = session.get(SyntheticMix, version_id)
    if mix is not None:
        return {
            "mix": {
                "organic_version_id": mix.organic_version_id,
                "batches": list(mix.batch_ids),
                "caps": mix.caps,
                "shares": mix.shares,
                "violations": mix.violations,
                "waiver": None
                if mix.waiver_reviewer_id is None
                else {
                    "signed_by": mix.waiver_reviewer_id,
                    "reason": mix.waiver_reason,
                    "gate": mix.waiver_review_task_id,
                    "expires_at": canonical_time(mix.waiver_expires_at)
                    if mix.waiver_expires_at
                    else None,
                },
            }
        }
    batch = session.scalar(
        select(SyntheticBatch).where(
            (SyntheticBatch.passed_version_id == version_id)
            | (SyntheticBatch.generated_version_id == version_id)
        )
    )
    if batch is None:
        return None
    items = batch_items(session=session, batch_id=batch.id)
    checked: dict[str, int] = {}
    for item in items:
        if item.spot_check:
            checked[item.spot_check] = checked.get(item.spot_check, 0) + 1
    return {
        "batch": {
            "id": batch.id,
            "generator": batch.generator,
            "generator_version": batch.generator_version,
            "plan_hash": batch.plan_hash,
            "seed": batch.seed,
            "status": batch.status.value,
            "status_reason": batch.status_reason,
            "rows_generated": batch.rows_generated,
            "rows_passed": batch.rows_passed,
            "rows_accepted": batch.rows_accepted,
            "spot_check_gate": batch.review_task_id,
            "spot_check": dict(sorted(checked.items())),
            "reviewers": sorted({i.reviewer_id for i in items if i.reviewer_id}),
            "fidelity": batch.report.get("fidelity", []),
            "seed_items": sorted({s for i in items for s in i.provenance.get("seed_items", [])}),
        }
    }
