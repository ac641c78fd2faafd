"""The review gate inside a flow: record the question, pause or suspend, check the answer.

``request_review`` is what flows call. It is safe to re-run from the top: the ledger is read
first, so a gate that was answered (or timed out) returns its recorded decisions without
asking again, and each attempt has a stable pause key derived from the gate's content.
"""

from __future__ import annotations

import json
import math
from typing import Any, Literal
from uuid import UUID

import httpx

from govflow.ledger.engine import Ledger
from govflow.ledger.models import ReviewTask, as_utc, utcnow
from govflow.ledger.reviews import (
    open_review_task,
    read_decisions,
    record_decisions,
    record_rejection,
    record_timeout,
)
from govflow.review.checks import check_submission
from govflow.review.form import build_input_model, render_description
from govflow.review.kinds import ESCALATE
from govflow.review.models import GateResult, ItemDecision, ReviewRequest
from govflow.review.notify import gate_summary, notify_new_gate

GATE_INPUT_PREFIX = "govflow-gate-"
VERDICT_INPUT_PREFIX = "govflow-verdict-"
Mode = Literal["auto", "pause", "suspend"]


def request_review(
    request: ReviewRequest,
    *,
    ledger: Ledger | None = None,
    poll_interval: int | None = None,
    mode: Mode = "auto",
) -> GateResult:
    """Ask people about ``request.items`` and return one final decision per item.

    Items are asked in forms of at most ``request.batch_size``; escalated items go on to a
    tier 2 gate. ``mode="auto"`` suspends runs started from a deployment (no worker is held
    while people think) and pauses the rest.
    """
    from govflow.settings import get_settings

    ledger = ledger or Ledger.open()
    poll = poll_interval or get_settings().review_poll_interval
    final: dict[str, ItemDecision] = {}
    for batch in request.batches():
        for decision in _decide_with_escalation(batch, ledger=ledger, poll=poll, mode=mode):
            final[decision.item_key] = decision
    return GateResult(
        gate_id=request.gate_id,
        kind=request.kind,
        decisions=[final[item.key] for item in request.items],
    )


def _decide_with_escalation(
    request: ReviewRequest, *, ledger: Ledger, poll: int, mode: Mode
) -> list[ItemDecision]:
    decisions = _run_gate(request, ledger=ledger, poll=poll, mode=mode)
    escalated = [d for d in decisions if d.choice == ESCALATE]
    if not escalated:
        return decisions
    items = {item.key: item for item in request.items}
    upper = request.model_copy(
        update={
            "name": f"{request.name}-t{request.tier + 1}",
            "tier": request.tier + 1,
            "assignees": [],
            "items": [
                items[d.item_key].model_copy(update={"context": _handover_note(d)})
                for d in escalated
            ],
        }
    )
    answered = {
        d.item_key: d for d in _decide_with_escalation(upper, ledger=ledger, poll=poll, mode=mode)
    }
    return [answered.get(d.item_key, d) for d in decisions]


def _handover_note(decision: ItemDecision) -> str:
    who = decision.reviewer_id or "nobody (deadline passed)"
    return f"escalated at tier {decision.tier} by {who}: {decision.note or 'no note'}"


def _run_gate(
    request: ReviewRequest, *, ledger: Ledger, poll: int, mode: Mode
) -> list[ItemDecision]:
    from prefect.context import FlowRunContext
    from prefect.exceptions import FlowPauseTimeout
    from prefect.flow_runs import pause_flow_run, suspend_flow_run

    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        raise RuntimeError("request_review must be called inside a Prefect flow run")
    run = context.flow_run
    actor = f"flow-run:{run.id}"
    suspend = mode == "suspend" or (
        mode == "auto" and run.deployment_id is not None and run.parent_task_run_id is None
    )
    state_name = "suspended" if suspend else "paused"
    while True:
        with ledger.session() as session:
            task = open_review_task(
                session=session, request=request, flow_run_id=str(run.id), actor=actor
            )
            decided = read_decisions(session=session, gate_id=request.gate_id)
            attempt = int(task.details.get("attempt", 1))
            rejection = task.details.get("last_rejection")
            due = as_utc(task.deadline)
        if decided is not None:
            _purge_responses(run.id, request.gate_id)
            return decided
        remaining = (due - utcnow()).total_seconds()
        if remaining <= 0:
            return _time_out(ledger, request.gate_id, actor)
        key = f"{request.gate_id}-a{attempt}"
        description = render_description(request, due=due, rejection=rejection)
        model = build_input_model(request, description)
        summary = gate_summary(request, flow_run_id=str(run.id), due=due, attempt=attempt, key=key)
        if _publish(run.id, GATE_INPUT_PREFIX + key, summary) and attempt == 1:
            notify_new_gate(summary, ledger=ledger, actor=actor)
        try:
            if suspend:
                response = suspend_flow_run(wait_for_input=model, key=key, timeout=None)
            else:
                response = pause_flow_run(
                    wait_for_input=model, key=key, timeout=math.ceil(remaining), poll_interval=poll
                )
        except FlowPauseTimeout:
            _force_running(run.id)
            return _time_out(ledger, request.gate_id, actor)
        submission = response.model_dump() if response is not None else {}
        with ledger.session() as session:
            verdict = check_submission(session=session, request=request, submission=submission)
            task = session.get(ReviewTask, request.gate_id)
            assert task is not None
            if verdict.decisions is not None:
                decisions = record_decisions(
                    session=session,
                    task=task,
                    decisions=verdict.decisions,
                    status="decided",
                    actor=verdict.reviewer_id,
                )
            else:
                record_rejection(
                    session=session,
                    task=task,
                    reviewer_id=verdict.reviewer_id,
                    reason=verdict.reason or "rejected",
                    actor=actor,
                )
        # The response holds the reviewer's token: it must not outlive this check.
        _delete_input(run.id, f"{state_name}-{key}-response")
        _publish(
            run.id,
            VERDICT_INPUT_PREFIX + key,
            {
                "accepted": verdict.is_accepted,
                "reviewer_id": verdict.reviewer_id,
                "reason": verdict.reason,
                "decisions": {d.item_key: d.choice for d in verdict.decisions or []},
            },
        )
        if verdict.decisions is not None:
            return decisions


def _time_out(ledger: Ledger, gate_id: str, actor: str) -> list[ItemDecision]:
    with ledger.session() as session:
        task = session.get(ReviewTask, gate_id)
        assert task is not None
        return record_timeout(session=session, task=task, actor=actor)


def _publish(flow_run_id: UUID, key: str, value: dict[str, Any]) -> bool:
    """Store a JSON run input; return False if it already existed (a re-run)."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        try:
            client.create_flow_run_input(flow_run_id, key=key, value=json.dumps(value))
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code == 409:
                return False
            raise
    return True


def _delete_input(flow_run_id: UUID, key: str) -> None:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        try:
            client.delete_flow_run_input(flow_run_id, key)
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code != 404:
                raise


def _purge_responses(flow_run_id: UUID, gate_id: str) -> None:
    """Delete any stored responses of this gate left behind by an interrupted run."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        for prefix in (f"paused-{gate_id}-", f"suspended-{gate_id}-"):
            for stored in client.filter_flow_run_input(
                flow_run_id, key_prefix=prefix, limit=50, exclude_keys=set()
            ):
                if stored.key.endswith("-response"):
                    _delete_input(flow_run_id, stored.key)


def _force_running(flow_run_id: UUID) -> None:
    """Take an expired pause back to Running before Prefect's expiry service fails the run."""
    from prefect.client.orchestration import get_client
    from prefect.states import Running

    with get_client(sync_client=True) as client:
        client.set_flow_run_state(flow_run_id, Running(), force=True)
