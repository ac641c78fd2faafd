"""Waiting for annotators: a human step like a review gate, driven by imports.

A flow calls ``wait_for_annotations(round_id)``. While assignments are missing, the round is
marked ``collecting`` with the waiting flow run's id, and the run suspends (a deployed
top-level run: no worker is held) or pauses. ``govflow annotations import`` stores labels
and, once nothing is missing, resumes the run (``resume_waiting_run``). At the round's
deadline the policy applies: ``proceed`` with what arrived, or ``reassign`` the missing
regular items once to other active annotators and wait one more deadline window, after
which the round proceeds. Suspended runs hold no process, so ``govflow review sweep``
(run by ``govflow serve``) wakes runs whose round deadline has passed.

Every step is keyed by ledger state, so a run restarting from the top continues where the
round stands: a complete round returns at once, and each wait uses a fresh pause key.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from govflow.annotation.consensus import round_for_update
from govflow.annotation.rounds import DeadlinePolicy, _db_time, active_annotators
from govflow.ledger.audit import append_event
from govflow.ledger.bulk import insert_ignoring_conflicts
from govflow.ledger.engine import Ledger
from govflow.ledger.models import Annotation, AnnotationRound, Assignment, as_utc, utcnow

COLLECTING = "collecting"
COLLECTED = "collected"
Mode = Literal["auto", "pause", "suspend"]


@dataclass(frozen=True)
class RoundState:
    """What a round still lacks: missing (item, annotator) assignments, superseded excluded."""

    assigned: int
    annotated: int
    missing: list[tuple[str, str, bool]]  # item, annotator, is_gold


def round_state(*, session: Session, round_id: str) -> RoundState:
    """Count the round's assignments and list those still without a label."""
    found = session.get(AnnotationRound, round_id)
    superseded = {tuple(pair) for pair in (found.details if found else {}).get("superseded", [])}
    assignments = session.execute(
        select(Assignment.item_hash, Assignment.annotator_id, Assignment.is_gold).where(
            Assignment.round_id == round_id
        )
    ).all()
    done = set(
        session.execute(
            select(Annotation.item_hash, Annotation.annotator_id).where(
                Annotation.round_id == round_id
            )
        ).all()
    )
    live = [(h, a, bool(g)) for h, a, g in assignments if (h, a) not in superseded]
    missing = sorted(row for row in live if (row[0], row[1]) not in done)
    return RoundState(assigned=len(live), annotated=len(live) - len(missing), missing=missing)


def wait_for_annotations(
    round_id: str,
    *,
    ledger: Ledger | None = None,
    poll_interval: int | None = None,
    mode: Mode = "auto",
) -> dict[str, Any]:
    """Return once the round is complete or its deadline policy says to go on.

    Returns the collection summary stored in the round's details.
    """
    from prefect.context import FlowRunContext
    from prefect.exceptions import FlowPauseTimeout
    from prefect.flow_runs import pause_flow_run, suspend_flow_run

    from govflow.review.gate import _force_running
    from govflow.settings import get_settings

    ledger = ledger or Ledger.open()
    poll = poll_interval or get_settings().review_poll_interval
    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        raise RuntimeError("wait_for_annotations must be called inside a Prefect flow run")
    run = context.flow_run
    actor = f"flow-run:{run.id}"
    suspend = mode == "suspend" or (
        mode == "auto" and run.deployment_id is not None and run.parent_task_run_id is None
    )
    while True:
        with ledger.session() as session:
            found = round_for_update(session=session, round_id=round_id)
            if found.status == COLLECTED:
                return dict(found.details.get("collection", {}))
            state = round_state(session=session, round_id=round_id)
            deadline = as_utc(found.deadline) if found.deadline else None
            if not state.missing:
                return _close(session, found, state, ended_by="complete", actor=actor)
            if deadline is not None and deadline <= utcnow():
                policy = DeadlinePolicy(found.deadline_policy)
                if policy is DeadlinePolicy.REASSIGN and "reassigned" not in found.details:
                    _reassign(session, found, state, actor=actor)
                    continue
                return _close(session, found, state, ended_by="deadline", actor=actor)
            waits = int(found.details.get("waits", 0)) + 1
            found.status = COLLECTING
            found.details = {**found.details, "waits": waits, "flow_run_id": str(run.id)}
            flag_modified(found, "details")
            if waits == 1:
                append_event(
                    session=session,
                    actor=actor,
                    action="annotation.collecting",
                    subject=round_id,
                    details={"flow_run_id": str(run.id), "missing": len(state.missing)},
                )
        key = f"collect-{round_id}-w{waits}"
        try:
            if suspend:
                suspend_flow_run(key=key, timeout=None)
            else:
                remaining = (deadline - utcnow()).total_seconds() if deadline else None
                pause_flow_run(
                    key=key,
                    timeout=math.ceil(remaining) if remaining else 10 * 365 * 86400,
                    poll_interval=poll,
                )
        except FlowPauseTimeout:
            _force_running(run.id)


def _close(
    session: Session, found: AnnotationRound, state: RoundState, *, ended_by: str, actor: str
) -> dict[str, Any]:
    summary = {
        "ended_by": ended_by,
        "assigned": state.assigned,
        "annotated": state.annotated,
        "missing": len(state.missing),
        "missing_by_annotator": dict(sorted(Counter(a for _, a, _ in state.missing).items())),
    }
    found.status = COLLECTED
    found.details = {**found.details, "collection": summary}
    flag_modified(found, "details")
    append_event(
        session=session,
        actor=actor,
        action="annotation.collected",
        subject=found.id,
        details=summary,
    )
    return summary


def _reassign(session: Session, found: AnnotationRound, state: RoundState, *, actor: str) -> None:
    """Give each missing regular item to another active annotator; supersede the original."""
    people = active_annotators(session=session)
    holders: dict[str, set[str]] = {}
    load: Counter[str] = Counter()
    for item, annotator in session.execute(
        select(Assignment.item_hash, Assignment.annotator_id).where(Assignment.round_id == found.id)
    ).all():
        holders.setdefault(item, set()).add(annotator)
        load[annotator] += 1
    late = {a for _, a, _ in state.missing}
    moved: list[tuple[str, str, str]] = []
    unplaced = 0
    for item, annotator, is_gold in state.missing:
        if is_gold:
            continue  # gold work is for calibrating that person; nobody else takes it over
        candidates = [p for p in people if p not in late and p not in holders.get(item, set())]
        if not candidates:
            unplaced += 1
            continue
        chosen = min(candidates, key=lambda p: (load[p], p))
        load[chosen] += 1
        holders.setdefault(item, set()).add(chosen)
        moved.append((item, annotator, chosen))
    now = _db_time(session, utcnow())
    insert_ignoring_conflicts(
        session=session,
        table=Assignment.__tablename__,
        columns=("round_id", "item_hash", "annotator_id", "is_gold", "assigned_at"),
        rows=[(found.id, item, chosen, False, now) for item, _, chosen in moved],
        conflict_columns=("round_id", "item_hash", "annotator_id"),
    )
    window = found.details.get("deadline_hours")
    previous = as_utc(found.deadline) if found.deadline else utcnow()
    found.deadline = utcnow() + (timedelta(hours=float(window)) if window else timedelta(days=1))
    summary = {
        "moved": len(moved),
        "unplaced": unplaced,
        "previous_deadline": previous.isoformat(),
        "new_deadline": as_utc(found.deadline).isoformat(),
    }
    found.details = {
        **found.details,
        "reassigned": summary,
        "superseded": sorted(
            [*found.details.get("superseded", []), *([item, a] for item, a, _ in state.missing)]
        ),
    }
    flag_modified(found, "details")
    append_event(
        session=session,
        actor=actor,
        action="annotation.reassigned",
        subject=found.id,
        details={
            **summary,
            "to": dict(sorted(Counter(chosen for _, _, chosen in moved).items())),
        },
    )


def resume_waiting_run(
    *, session: Session, round_id: str, api: Any, settle_s: float = 30.0
) -> tuple[str | None, str | None]:
    """Resume the run waiting for this round once nothing is missing.

    Returns (run id, None) when resumed, or (run id or None, why not). The flow marks the
    round ``collecting`` just before it pauses, so an import finishing in that moment finds
    the run still Running: it waits up to ``settle_s`` for the pause instead of missing it.
    """
    import time

    found = session.get(AnnotationRound, round_id)
    if found is None or found.status != COLLECTING:
        return None, "the round is not waiting for annotations"
    if round_state(session=session, round_id=round_id).missing:
        return None, "assignments are still missing"
    run_id = found.details.get("flow_run_id")
    if not run_id:
        return None, "no flow run is recorded for the round"
    prefix = f"collect-{round_id}-"
    deadline = time.monotonic() + settle_s
    while True:
        state = api.flow_run(run_id).get("state") or {}
        key = (state.get("state_details") or {}).get("pause_key") or ""
        if state.get("type") == "PAUSED" and key.startswith(prefix):
            api.post_json(f"/flow_runs/{run_id}/resume", {})
            return str(run_id), None
        if state.get("type") in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
            return str(run_id), f"flow run {run_id} ended {state.get('name')}"
        if time.monotonic() >= deadline:
            return str(run_id), f"flow run {run_id} is {state.get('name')}, not waiting yet"
        time.sleep(0.5)


def sweep_expired_rounds(*, api: Any, ledger: Ledger | None = None) -> list[tuple[str, str]]:
    """Wake suspended runs whose round deadline has passed; they then apply the policy."""
    ledger = ledger or Ledger.open()
    now = utcnow()
    with ledger.reader() as session:
        waiting = [
            (r.id, r.details.get("flow_run_id"))
            for r in session.scalars(
                select(AnnotationRound).where(AnnotationRound.status == COLLECTING)
            )
            if r.deadline is not None and as_utc(r.deadline) <= now
        ]
    woken: list[tuple[str, str]] = []
    for round_id, run_id in waiting:
        if not run_id:
            continue
        state = api.flow_run(run_id).get("state") or {}
        if state.get("type") != "PAUSED" or state.get("name") != "Suspended":
            continue
        api.set_state(run_id, {"type": "SCHEDULED", "name": "Resuming"}, force=True)
        woken.append((round_id, run_id))
    return woken
