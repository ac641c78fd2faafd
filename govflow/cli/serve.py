"""``govflow serve``: serve every deployment on this machine (no work pool needed)."""

from __future__ import annotations

import typer


def serve(
    sweep_every: float = typer.Option(30.0, help="Seconds between review-deadline sweeps."),
) -> None:
    """Serve all deployments of deployments/prefect.yaml so schedules fire and API runs execute.

    Also applies review deadlines to suspended gates every --sweep-every seconds.

    Example: govflow serve
    """
    from govflow.deployments import serve_all

    serve_all(sweep_every_s=sweep_every)
