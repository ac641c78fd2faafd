"""Open gates as reviewers and tools see them: the gate summary and the inbox listing.

``summarize_gate`` is the one place a gate's summary is built, from its ledger row; the gate
stores it next to the run (run input ``govflow-gate-<pause key>``), the webhook posts it, and
``list_open_gates`` lists it for every paused or suspended run, from the ledger when this
machine can reach it and from the stored summaries otherwise.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from govflow.domain import may_answer_tier
from govflow.errors import GovflowError
from govflow.prefect_api import RunState

if TYPE_CHECKING:
    from govflow.ledger.engine import Ledger
    from govflow.ledger.models import ReviewTask

__all__ = [
    "GATE_INPUT_PREFIX",
    "VERDICT_INPUT_PREFIX",
    "attempt_of",
    "gate_of_run",
    "list_open_gates",
    "may_answer",
    "pause_key",
    "reviewer_roles",
    "summarize_gate",
    "ui_url_for_run",
]

GATE_INPUT_PREFIX = "govflow-gate-"
VERDICT_INPUT_PREFIX = "govflow-verdict-"
_RUN_ONLY = ("state", "paused_at", "flow_run_name")  # known from the run, not the gate


def pause_key(gate_id: str, attempt: int) -> str:
    """The pause key of a gate's ``attempt``-th form (stable: a re-run finds it again)."""
    return f"{gate_id}-a{attempt}"


def attempt_of(key: str) -> int | None:
    """Read the attempt number back from a gate's pause key (None for other pauses)."""
    head, sep, number = key.rpartition("-a")
    return int(number) if sep and head.startswith("rt-") and number.isdigit() else None


def ui_url_for_run(flow_run_id: str) -> str | None:
    """Return the Prefect UI deep link of a flow run, if the UI's address is known."""
    from govflow.prefect_api import ui_base_url

    base = ui_base_url()
    return f"{base}/runs/flow-run/{flow_run_id}" if base else None


def summarize_gate(task: ReviewTask, *, flow_run_id: str, key: str) -> dict[str, Any]:
    """Summarize an open gate for the inbox, the CLI and notifications (no secrets)."""
    from govflow.hashing import canonical_time

    return {
        "gate_id": task.id,
        "pause_key": key,
        "attempt": attempt_of(key) or task.attempt,
        "name": task.details.get("name"),
        "kind": task.kind.value,
        "tier": task.tier,
        "items": [item["key"] for item in task.items],
        "suggestions": {
            item["key"]: item["suggestion"]
            for item in task.items
            if item.get("suggestion") is not None
        },
        "choices": list(task.details.get("choices", [])),
        "assignees": list(task.details.get("assignees", [])),
        "deadline": canonical_time(task.deadline) if task.deadline else None,
        "flow_run_id": flow_run_id,
        "dataset_version_id": task.dataset_version_id,
        "guideline_version_id": task.guideline_version_id,
        "reasons": list(task.details.get("reasons", [])),
        "ui_url": ui_url_for_run(flow_run_id),
    }


def _with_run(summary: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
    state = RunState.of(run)
    return summary | {
        "state": state.name,
        "paused_at": state.timestamp,
        "flow_run_name": run.get("name"),
    }


def gate_of_run(api: Any, run: dict[str, Any]) -> dict[str, Any] | None:
    """Return the summary a paused run stored for its open gate (None if not at a gate)."""
    key = RunState.of(run).pause_key
    if not key:
        return None
    raw = api.read_input(run["id"], GATE_INPUT_PREFIX + key)
    if raw is None:
        return None
    return _with_run(json.loads(raw), run)


def list_open_gates(api: Any, *, limit: int = 2000) -> list[dict[str, Any]]:
    """Return the govflow gates waiting in paused or suspended runs, oldest first.

    One query lists the paused runs; the gates' details come from the ledger when this
    machine can reach it (one more query), else from each run's stored gate summary (one
    request per run: Prefect has no bulk read of run inputs).
    """
    runs = api.paused_runs(limit=limit)
    known = _gates_from_ledger(runs)
    rest = [run for run in runs if run["id"] not in known]
    with ThreadPoolExecutor(max_workers=16) as pool:
        fetched = {
            run["id"]: gate
            for run, gate in zip(rest, pool.map(lambda r: gate_of_run(api, r), rest), strict=True)
        }
    gates = [known.get(run["id"]) or fetched.get(run["id"]) for run in runs]
    return [gate for gate in gates if gate is not None]


def _gates_from_ledger(runs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Describe the paused runs' gates from the ledger's open review tasks, if reachable."""
    ledger = _local_ledger() if runs else None
    if ledger is None:
        return {}
    from govflow.ledger.reviews import open_tasks

    gates: dict[str, dict[str, Any]] = {}
    try:
        with ledger.reader() as session:
            by_run: dict[str, list[ReviewTask]] = {}
            for task in open_tasks(session=session):
                by_run.setdefault(task.flow_run_id or "", []).append(task)
            for run in runs:
                key = RunState.of(run).pause_key or ""
                for task in by_run.get(run["id"], []):
                    if key.startswith(task.id + "-a"):
                        summary = summarize_gate(task, flow_run_id=run["id"], key=key)
                        gates[run["id"]] = _with_run(summary, run)
    except GovflowError:
        return {}
    return gates


def may_answer(gate: dict[str, Any], reviewer: str, roles: list[str] | None) -> bool:
    """Tell whether ``reviewer`` (holding ``roles``, None if unknown here) may answer."""
    if gate.get("assignees") and reviewer not in gate["assignees"]:
        return False
    return roles is None or may_answer_tier(roles, gate["tier"])


def _local_ledger() -> Ledger | None:
    """Open the ledger if this machine has one configured; never create one as a side effect."""
    from govflow.ledger.engine import Ledger
    from govflow.settings import get_settings

    settings = get_settings()
    if not settings.database_url and not (settings.home / "ledger.db").exists():
        return None
    try:
        return Ledger.open()
    except GovflowError:
        return None


def reviewer_roles(reviewer: str) -> list[str] | None:
    """Look the reviewer's roles up in the ledger, if this machine can reach it."""
    from govflow.ledger.people import get_person

    ledger = _local_ledger()
    if ledger is None:
        return None
    try:
        with ledger.reader() as session:
            return list(get_person(session=session, person_id=reviewer).roles)
    except GovflowError:
        return None
