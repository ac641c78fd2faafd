"""``govflow serve``: serve every deployment of ``deployments/prefect.yaml`` on this machine.

No work pool is needed; the deadlines of suspended gates and rounds are swept meanwhile. This
is the one place in ``govflow`` that loads flows (by their entrypoints).
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer

from govflow.errors import InputError

__all__ = ["PREFECT_FILE", "DeploymentSpec", "read_deployments", "serve", "serve_all"]

ROOT = Path(__file__).resolve().parents[2]
PREFECT_FILE = ROOT / "deployments" / "prefect.yaml"


@dataclass(frozen=True)
class DeploymentSpec:
    """One deployment as declared in prefect.yaml."""

    name: str
    entrypoint: str
    description: str = ""
    tags: list[str] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    crons: list[tuple[str, str]] = field(default_factory=list)

    def load_flow(self):  # type: ignore[no-untyped-def]
        """Import the entrypoint (``path/to/module.py:function``) and return the flow."""
        from prefect import Flow

        path, _, attribute = self.entrypoint.partition(":")
        module_name = path.removesuffix(".py").replace("/", ".")
        try:
            found = getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError) as exc:
            raise InputError(
                f"deployment {self.name}: cannot load {self.entrypoint}: {exc}"
            ) from exc
        if not isinstance(found, Flow):
            raise InputError(f"deployment {self.name}: {self.entrypoint} is not a Prefect flow")
        return found


def read_deployments(path: Path = PREFECT_FILE) -> list[DeploymentSpec]:
    """Parse the deployments of a prefect.yaml file."""
    import yaml

    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"{path}: cannot read deployments: {exc}") from exc
    specs = []
    for entry in document.get("deployments") or []:
        specs.append(
            DeploymentSpec(
                name=entry["name"],
                entrypoint=entry["entrypoint"],
                description=entry.get("description", ""),
                tags=list(entry.get("tags") or []),
                parameters=dict(entry.get("parameters") or {}),
                crons=[
                    (schedule["cron"], schedule.get("timezone", "UTC"))
                    for schedule in entry.get("schedules") or []
                    if "cron" in schedule
                ],
            )
        )
    return specs


def serve_all(*, path: Path = PREFECT_FILE, sweep_every_s: float = 30.0) -> None:
    """Serve every deployment in this process; sweep expired review gates periodically."""
    from prefect import serve
    from prefect.client.schemas.schedules import CronSchedule

    deployments = []
    for spec in read_deployments(path):
        flow = spec.load_flow()
        deployments.append(
            flow.to_deployment(
                name=spec.name,
                description=spec.description,
                tags=spec.tags,
                parameters=spec.parameters,
                schedules=[CronSchedule(cron=cron, timezone=tz) for cron, tz in spec.crons],
            )
        )
    stop = threading.Event()
    sweeper = threading.Thread(target=_sweep_forever, args=(stop, sweep_every_s), daemon=True)
    sweeper.start()
    try:
        serve(*deployments)
    finally:
        stop.set()


def _sweep_forever(stop: threading.Event, every: float) -> None:
    import logging

    from govflow.errors import GovflowError
    from govflow.prefect_api import PrefectAPI
    from govflow.review.sweep import sweep_expired

    log = logging.getLogger("govflow.serve")
    while not stop.wait(every):
        try:
            with PrefectAPI() as api:
                for wait in sweep_expired(api=api, actor="govflow-serve"):
                    log.warning(
                        "%s %s of run %s passed its deadline",
                        wait.kind.value,
                        wait.subject,
                        wait.flow_run_id,
                    )
        except GovflowError as exc:
            # The sweeper retries next round; a down ledger or server must not stop serving.
            log.warning("review sweep failed: %s", exc)


def serve(
    sweep_every: float = typer.Option(30.0, help="Seconds between review-deadline sweeps."),
) -> None:
    """Serve all deployments of deployments/prefect.yaml so schedules fire and API runs execute.

    Also applies review deadlines to suspended gates every --sweep-every seconds.

    Example: govflow serve
    """
    serve_all(sweep_every_s=sweep_every)
