"""Apply deadlines to suspended gates: no process waits inside a suspended run."""

from __future__ import annotations

from typing import Any

from govflow.ledger.engine import Ledger
from govflow.ledger.models import ReviewTask, as_utc, utcnow
from govflow.ledger.reviews import open_tasks, record_timeout


def sweep_expired_gates(
    *, api: Any, actor: str, ledger: Ledger | None = None
) -> list[tuple[str, str]]:
    """Time out open gates past their deadline whose run is suspended; reschedule the run."""
    ledger = ledger or Ledger.open()
    now = utcnow()
    swept: list[tuple[str, str]] = []
    with ledger.reader() as session:
        expired = [
            (task.id, task.flow_run_id)
            for task in open_tasks(session=session)
            if task.flow_run_id and as_utc(task.deadline) <= now
        ]
    for gate_id, run_id in expired:
        state = api.flow_run(run_id).get("state") or {}
        if state.get("type") != "PAUSED" or state.get("name") != "Suspended":
            continue  # a paused run applies its own deadline; others are not waiting
        with ledger.session() as session:
            task = session.get(ReviewTask, gate_id)
            if task is None or task.status != "open":
                continue
            record_timeout(session=session, task=task, actor=actor)
        # The same state Prefect's resume endpoint gives a suspended run.
        api.set_state(run_id, {"type": "SCHEDULED", "name": "Resuming"}, force=True)
        swept.append((gate_id, run_id))
    return swept
