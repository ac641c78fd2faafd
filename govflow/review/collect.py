"""Waiting for annotators: a human step like a review gate, driven by imports.

A flow calls ``wait_for_annotations(round_id)``. While assignments are missing, the round is
``COLLECTING`` with the waiting flow run's id, and the run waits (``govflow.review.wait``:
suspended when deployed and top-level, else paused). ``govflow annotations import`` stores
labels and, once nothing is missing, resumes the run (``resume_waiting_run``). At the
round's deadline its policy applies: ``proceed`` with what arrived, or ``reassign`` the
missing regular items once to other active annotators and wait one more window, after
which the round proceeds. Suspended runs hold no process, so ``govflow review sweep``
(run by ``govflow serve``) wakes runs whose round deadline has passed.

Every step is keyed by ledger state, so a run restarting from the top continues where the
round stands: a complete round returns at once, and each wait uses a fresh pause key.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy.orm import Session

from govflow.domain import DeadlinePolicy, RoundStatus
from govflow.ledger.engine import Ledger
from govflow.ledger.models import as_utc, utcnow
from govflow.ledger.rounds import (
    CollectionSummary,
    begin_waiting,
    close_collection,
    get_round,
    read_details,
    reassign_missing,
    round_for_update,
    round_state,
)
from govflow.review.wait import Mode, require_run, wait_for_people

__all__ = ["collect_key_prefix", "resume_waiting_run", "wait_for_annotations"]


def collect_key_prefix(round_id: str) -> str:
    """The prefix of every pause key a run uses while it waits for this round."""
    return f"collect-{round_id}-"


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
    from govflow.settings import get_settings

    run = require_run("waiting for annotations")
    ledger = ledger or Ledger.open()
    poll = poll_interval or get_settings().review_poll_interval
    while True:
        with ledger.session() as session:
            found = round_for_update(session=session, round_id=round_id)
            details = read_details(found)
            if found.status is RoundStatus.COLLECTED and details.collection is not None:
                return details.collection.model_dump()
            state = round_state(session=session, round_id=round_id)
            deadline = as_utc(found.deadline) if found.deadline else None
            if not state.missing:
                return _close(session, found, state, "complete", run.actor)
            if deadline is not None and deadline <= utcnow():
                if found.deadline_policy is DeadlinePolicy.REASSIGN and details.reassigned is None:
                    reassign_missing(session=session, found=found, state=state, actor=run.actor)
                    continue
                return _close(session, found, state, "deadline", run.actor)
            waits = begin_waiting(
                session=session,
                found=found,
                flow_run_id=run.id,
                missing=len(state.missing),
                actor=run.actor,
            )
        key = f"{collect_key_prefix(round_id)}w{waits}"
        wait_for_people(run, key=key, deadline=deadline, mode=mode, poll=poll)


def _close(session: Session, found: Any, state: Any, ended_by: Any, actor: str) -> dict[str, Any]:
    summary: CollectionSummary = close_collection(
        session=session, found=found, state=state, ended_by=ended_by, actor=actor
    )
    return summary.model_dump()


def resume_waiting_run(
    *, session: Session, round_id: str, api: Any, settle_s: float = 30.0
) -> tuple[str | None, str | None]:
    """Resume the run waiting for this round once nothing is missing.

    Returns (run id, None) when resumed, or (run id or None, why not). The flow marks the
    round ``collecting`` just before it pauses, so an import finishing in that moment finds
    the run still Running: it waits up to ``settle_s`` for the pause instead of missing it.
    """
    found = get_round(session=session, round_id=round_id)
    if found.status is not RoundStatus.COLLECTING:
        return None, "the round is not waiting for annotations"
    if round_state(session=session, round_id=round_id).missing:
        return None, "assignments are still missing"
    run_id = found.flow_run_id
    if not run_id:
        return None, "no flow run is recorded for the round"
    deadline = time.monotonic() + settle_s
    while True:
        state = api.run_state(run_id)
        if state.waits_at(collect_key_prefix(round_id)):
            api.post_json(f"/flow_runs/{run_id}/resume", {})
            return str(run_id), None
        if state.is_terminal:
            return str(run_id), f"flow run {run_id} ended {state.name}"
        if time.monotonic() >= deadline:
            return str(run_id), f"flow run {run_id} is {state.name}, not waiting yet"
        time.sleep(0.5)
