"""The review gate inside a flow: record the question, wait for people, check the answer.

``request_review`` is what flows call. It is safe to re-run from the top: the ledger is read
first, so a gate that was answered (or timed out) returns its recorded decisions without
asking again, and each attempt has a stable pause key derived from the gate's content.
Waiting itself (pause or suspend, deadline, forcing Running) is ``govflow.review.wait``.
"""

from __future__ import annotations

from govflow.domain import GateStatus
from govflow.domain.review import ESCALATE, GateResult, ItemDecision, ReviewRequest
from govflow.ledger.engine import Ledger
from govflow.ledger.models import ReviewTask, as_utc, utcnow
from govflow.ledger.reviews import (
    open_review_task,
    read_decisions,
    record_decisions,
    record_rejection,
    timeout_open_gate,
)
from govflow.review.checks import check_submission
from govflow.review.form import build_input_model, render_description
from govflow.review.inbox import GATE_INPUT_PREFIX, VERDICT_INPUT_PREFIX, pause_key, summarize_gate
from govflow.review.notify import notify_new_gate
from govflow.review.wait import (
    Mode,
    delete_run_input,
    purge_run_inputs,
    require_run,
    response_key,
    store_run_input,
    wait_for_people,
)
from govflow.runtime import CurrentRun

__all__ = ["request_review"]


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

    run = require_run("a review gate")
    ledger = ledger or Ledger.open()
    poll = poll_interval or get_settings().review_poll_interval
    final: dict[str, ItemDecision] = {}
    for batch in request.batches():
        for decision in _decide_with_escalation(batch, run, ledger=ledger, poll=poll, mode=mode):
            final[decision.item_key] = decision
    return GateResult(
        gate_id=request.gate_id,
        kind=request.kind,
        decisions=[final[item.key] for item in request.items],
    )


def _decide_with_escalation(
    request: ReviewRequest, run: CurrentRun, *, ledger: Ledger, poll: int, mode: Mode
) -> list[ItemDecision]:
    decisions = _run_gate(request, run, ledger=ledger, poll=poll, mode=mode)
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
        d.item_key: d
        for d in _decide_with_escalation(upper, run, ledger=ledger, poll=poll, mode=mode)
    }
    return [answered.get(d.item_key, d) for d in decisions]


def _handover_note(decision: ItemDecision) -> str:
    who = decision.reviewer_id or "nobody (deadline passed)"
    return f"escalated at tier {decision.tier} by {who}: {decision.note or 'no note'}"


def _run_gate(
    request: ReviewRequest, run: CurrentRun, *, ledger: Ledger, poll: int, mode: Mode
) -> list[ItemDecision]:
    gate_id = request.gate_id
    while True:
        with ledger.session() as session:
            task = open_review_task(
                session=session, request=request, flow_run_id=run.id, actor=run.actor
            )
            decided = read_decisions(session=session, gate_id=gate_id)
            key = pause_key(gate_id, task.attempt)
            summary = summarize_gate(task, flow_run_id=run.id, key=key)
            rejection, due, attempt = task.last_rejection, as_utc(task.deadline), task.attempt
        if decided is not None:
            _purge_responses(run, gate_id)
            return decided
        if due <= utcnow():
            return _time_out(ledger, gate_id, run.actor)
        description = render_description(request, due=due, rejection=rejection)
        form = build_input_model(request, description, flow_run_id=run.id)
        if store_run_input(run.id, GATE_INPUT_PREFIX + key, summary) and attempt == 1:
            notify_new_gate(summary, ledger=ledger, actor=run.actor)
        waited = wait_for_people(run, key=key, deadline=due, form=form, mode=mode, poll=poll)
        if waited.expired:
            return _time_out(ledger, gate_id, run.actor)
        submission = waited.answer.model_dump() if waited.answer is not None else {}
        with ledger.session() as session:
            verdict = check_submission(
                session=session, request=request, submission=submission, pause_key=key
            )
            task = session.get(ReviewTask, gate_id)
            assert task is not None
            if verdict.decisions is not None:
                decisions = record_decisions(
                    session=session,
                    task=task,
                    decisions=verdict.decisions,
                    status=GateStatus.DECIDED,
                    actor=verdict.reviewer_id or run.actor,
                )
            else:
                record_rejection(
                    session=session,
                    task=task,
                    details=verdict.audit,
                    reason=verdict.reason or "rejected",
                    actor=run.actor,
                )
        # The response holds the reviewer's one-time code: it is spent, but need not linger.
        delete_run_input(run.id, response_key(run, key, mode=mode))
        store_run_input(
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
        timeout_open_gate(session=session, gate_id=gate_id, actor=actor)
        return read_decisions(session=session, gate_id=gate_id) or []


def _purge_responses(run: CurrentRun, gate_id: str) -> None:
    """Delete any stored responses of this gate left behind by an interrupted run."""
    purge_run_inputs(
        run.id, prefixes=(f"paused-{gate_id}-", f"suspended-{gate_id}-"), suffix="-response"
    )
