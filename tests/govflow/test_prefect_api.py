"""RunState: the one reader of a flow run's state JSON."""

from __future__ import annotations

from govflow.prefect_api import RunState


def run(type_: str | None, name: str | None, key: str | None = None) -> dict:
    state = {"type": type_, "name": name, "timestamp": "2026-11-30T10:00:00Z", "message": "m"}
    if key is not None:
        state["state_details"] = {"pause_key": key}
    return {"id": "r", "state": state}


def test_suspended_and_paused_runs_are_told_apart():
    suspended = RunState.of(run("PAUSED", "Suspended", "rt-1-a2"))
    paused = RunState.of(run("PAUSED", "Paused", "collect-ar-1-w1"))
    assert (suspended.is_paused, suspended.is_suspended, suspended.pause_key) == (
        True,
        True,
        "rt-1-a2",
    )
    assert (paused.is_paused, paused.is_suspended) == (True, False)
    assert paused.waits_at("collect-ar-1-") and not paused.waits_at("collect-ar-2-")
    assert (paused.timestamp, paused.message) == ("2026-11-30T10:00:00Z", "m")


def test_terminal_and_missing_states():
    assert RunState.of(run("COMPLETED", "Completed")).is_terminal
    assert RunState.of(run("COMPLETED", "Completed")).is_completed
    assert RunState.of(run("CRASHED", "Crashed")).is_terminal
    assert not RunState.of(run("RUNNING", "Running")).is_terminal
    assert RunState.of(run("RUNNING", "Running")).is_running
    empty = RunState.of({"id": "r", "state": None})
    assert (empty.type, empty.name, empty.pause_key, empty.is_paused) == (None, None, None, False)
