"""Who is acting right now: the current Prefect flow run, as the ledger names it.

Ledger writes made by flows are attributed to ``flow-run:<id>`` in the audit trail; code
outside a run is attributed to ``flow``. Prefect is imported only when asked.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CurrentRun", "current_run", "flow_actor"]


@dataclass(frozen=True)
class CurrentRun:
    """The flow run a human step waits in, and whether it may suspend."""

    id: str
    is_deployed_top_level: bool  # started from a deployment and not a subflow

    @property
    def actor(self) -> str:
        return f"flow-run:{self.id}"


def current_run() -> CurrentRun | None:
    """Return the flow run this code runs in, or None outside any run."""
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        return None
    run = context.flow_run
    return CurrentRun(
        id=str(run.id),
        is_deployed_top_level=run.deployment_id is not None and run.parent_task_run_id is None,
    )


def flow_actor() -> tuple[str | None, str]:
    """Return the current flow run id and the audit actor naming it (``flow`` outside runs)."""
    from prefect.runtime import flow_run

    run_id = flow_run.id
    return (str(run_id) if run_id else None), (f"flow-run:{run_id}" if run_id else "flow")
