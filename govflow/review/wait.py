"""Wait for people inside a flow run: the one place that pauses or suspends.

Review gates (``govflow.review.gate``) and annotation rounds (``govflow.review.collect``)
both wait here, so both behave alike:

- A deployed top-level run *suspends* (``mode="auto"``): its process exits and holds no
  worker; an answer (a resume) or a wake-up (``govflow review sweep`` at the deadline)
  reschedules it, and it re-runs from the top, so callers keep their state in the ledger
  and give every wait a stable ``key``: a key whose pause already fired returns its stored
  input at once instead of waiting again.
- Any other run *pauses* in-process, checking every ``poll`` seconds, until the deadline.
  Prefect then raises ``FlowPauseTimeout`` while the run stays Paused and, seconds later,
  its expiry service fails the run; the run is forced back to Running at once, and the
  caller applies its deadline policy.

Run inputs (``store_run_input`` and friends) are how a gate publishes what it asks and what
it decided next to the run, for the CLI and for other machines.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import httpx

from govflow.errors import NotInFlowRun
from govflow.ledger.models import utcnow
from govflow.runtime import CurrentRun, current_run

__all__ = [
    "Mode",
    "WaitOutcome",
    "delete_run_input",
    "purge_run_inputs",
    "require_run",
    "response_key",
    "should_suspend",
    "store_run_input",
    "wait_for_people",
]

Mode = Literal["auto", "pause", "suspend"]
NO_DEADLINE_S = 10 * 365 * 86400  # Prefect's pause needs a timeout: ten years means none


@dataclass(frozen=True)
class WaitOutcome:
    """What ended a wait: an answer (the form's input, None without a form) or the deadline."""

    answer: Any
    expired: bool


def require_run(what: str) -> CurrentRun:
    """Return the current flow run, or fail saying that ``what`` needs one."""
    run = current_run()
    if run is None:
        raise NotInFlowRun(what)
    return run


def should_suspend(run: CurrentRun, mode: Mode) -> bool:
    """Suspend when asked to, or by default when the run is deployed and top-level."""
    return mode == "suspend" or (mode == "auto" and run.is_deployed_top_level)


def response_key(run: CurrentRun, key: str, *, mode: Mode) -> str:
    """The run-input key under which Prefect stores the answer to the pause ``key``."""
    return f"{'suspended' if should_suspend(run, mode) else 'paused'}-{key}-response"


def wait_for_people(
    run: CurrentRun,
    *,
    key: str,
    deadline: datetime | None,
    form: type | None = None,
    mode: Mode = "auto",
    poll: int = 2,
) -> WaitOutcome:
    """Pause or suspend at ``key`` until an answer arrives or ``deadline`` passes."""
    from prefect.exceptions import FlowPauseTimeout
    from prefect.flow_runs import pause_flow_run, suspend_flow_run

    try:
        if should_suspend(run, mode):
            answer = suspend_flow_run(wait_for_input=form, key=key, timeout=None)
        else:
            remaining = (deadline - utcnow()).total_seconds() if deadline else NO_DEADLINE_S
            answer = pause_flow_run(
                wait_for_input=form,
                key=key,
                timeout=max(1, math.ceil(remaining)),
                poll_interval=poll,
            )
    except FlowPauseTimeout:
        _force_running(run.id)
        return WaitOutcome(answer=None, expired=True)
    return WaitOutcome(answer=answer, expired=False)


def _force_running(flow_run_id: str) -> None:
    """Take an expired pause back to Running before Prefect's expiry service fails the run."""
    from prefect.client.orchestration import get_client
    from prefect.states import Running

    with get_client(sync_client=True) as client:
        client.set_flow_run_state(UUID(flow_run_id), Running(), force=True)


def store_run_input(flow_run_id: str, key: str, value: Any) -> bool:
    """Store a JSON run input; return False if it already existed (a re-run)."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        try:
            client.create_flow_run_input(UUID(flow_run_id), key=key, value=json.dumps(value))
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code == 409:
                return False
            raise
    return True


def delete_run_input(flow_run_id: str, key: str) -> None:
    """Delete a run input; a missing one is fine."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        try:
            client.delete_flow_run_input(UUID(flow_run_id), key)
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code != 404:
                raise


def purge_run_inputs(flow_run_id: str, *, prefixes: tuple[str, ...], suffix: str) -> None:
    """Delete every stored input whose key starts with a prefix and ends with ``suffix``."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        for prefix in prefixes:
            for stored in client.filter_flow_run_input(
                UUID(flow_run_id), key_prefix=prefix, limit=50, exclude_keys=set()
            ):
                if stored.key.endswith(suffix):
                    delete_run_input(flow_run_id, stored.key)
