"""``govflow monitor`` and ``govflow interventions``: production monitoring at a glance."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import typer

from govflow.cli._common import cli_actor, open_ledger, print_json

monitor_app = typer.Typer(
    help="The latest monitoring state of each production model.", no_args_is_help=True
)
app = typer.Typer(
    help="Interventions opened by alerts: what triggered them, who owns them, what is left.",
    no_args_is_help=True,
)


def _age(since: datetime, now: datetime) -> str:
    seconds = max(0, int((now - since).total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


@monitor_app.command()
def status(
    project: str | None = typer.Option(None, "--project", help="Only this project."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Print the latest monitoring run of each model: drift, accuracy, alerts, open work.

    Example: govflow monitor status --project support-intent
    """
    from govflow.domain import InterventionStatus
    from govflow.hashing import canonical_time
    from govflow.ledger.monitoring import alerts_of_run, latest_runs, list_interventions

    with open_ledger().reader() as session:
        open_ones = list_interventions(
            session=session, project=project, status=InterventionStatus.OPEN
        )
        rows = []
        for run in latest_runs(session=session, project=project):
            results = run.results
            expected = results.get("expected_accuracy") or {}
            realized = results.get("realized_accuracy") or {}
            rows.append(
                {
                    "project": run.project,
                    "model_version_id": run.model_version_id,
                    "monitoring_run_id": run.id,
                    "production_version_id": run.production_version_id,
                    "at": canonical_time(run.created_at),
                    "rows": run.n_rows,
                    "is_drifted": run.is_drifted,
                    "drifted_columns": [
                        c["column"] for c in results["drift"]["columns"] if c["drifted"]
                    ],
                    "expected_accuracy": expected.get("value"),
                    "realized_accuracy": realized.get("accuracy"),
                    "to_people": run.n_to_people,
                    "alerts": [
                        f"{a.kind.value}: {a.summary}"
                        for a in alerts_of_run(session=session, monitoring_run_id=run.id)
                    ],
                    "open_interventions": [
                        i.id for i in open_ones if i.model_version_id == run.model_version_id
                    ],
                }
            )
    if as_json:
        print_json(rows)
        return
    if not rows:
        typer.echo("no monitoring runs yet (run the monitor deployment on a production batch)")
        return
    for row in rows:
        typer.echo(f"{row['project']} · model {row['model_version_id']} · {row['at']}")
        drift = (
            "drifted in " + ", ".join(row["drifted_columns"]) if row["is_drifted"] else "no drift"
        )
        typer.echo(f"  batch {row['production_version_id']}: {row['rows']} rows, {drift}")
        typer.echo(
            f"  expected accuracy {_share(row['expected_accuracy'])}, realized "
            f"{_share(row['realized_accuracy'])}, {row['to_people']} outputs sent to people"
        )
        for alert in row["alerts"]:
            typer.echo(f"  alert {alert}")
        typer.echo(f"  open interventions: {', '.join(row['open_interventions']) or 'none'}")


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _row(session: Any, intervention: Any, now: datetime) -> dict[str, Any]:
    from govflow.hashing import canonical_time
    from govflow.ledger.models import MonitoringAlert, as_utc
    from govflow.ledger.monitoring import what_is_left

    alert = session.get(MonitoringAlert, intervention.alert_id)
    return {
        "id": intervention.id,
        "project": intervention.project,
        "status": intervention.status.value,
        "trigger": intervention.trigger.value,
        "summary": alert.summary if alert else "",
        "owner": intervention.owner,
        "model_version_id": intervention.model_version_id,
        "slice": intervention.slice,
        "opened_at": canonical_time(intervention.opened_at),
        "age": _age(as_utc(intervention.opened_at), now),
        "closed_at": canonical_time(intervention.closed_at) if intervention.closed_at else None,
        "reannotation_round_id": intervention.reannotation_round_id,
        "suite_version_id": intervention.suite_version_id,
        "suite_version_hash": intervention.suite_version_hash,
        "evaluation_run_id": intervention.evaluation_run_id,
        "left": what_is_left(session=session, intervention=intervention),
    }


@app.command("list")
def list_(
    project: str | None = typer.Option(None, "--project", help="Only this project."),
    show_all: bool = typer.Option(False, "--all", help="Closed ones too."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """List open interventions (oldest first) with their age, owner and what is left.

    Example: govflow interventions list --project support-intent
    """
    from govflow.domain import InterventionStatus
    from govflow.ledger.models import utcnow
    from govflow.ledger.monitoring import list_interventions

    now = utcnow()
    with open_ledger().reader() as session:
        rows = [
            _row(session, i, now)
            for i in list_interventions(
                session=session,
                project=project,
                status=None if show_all else InterventionStatus.OPEN,
            )
        ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        typer.echo("no open interventions")
        return
    typer.echo(f"{'ID':<27}  {'AGE':>4}  {'OWNER':<12}  {'TRIGGER':<17}  LEFT")
    for row in rows:
        left = f"{len(row['left'])} step(s)" if row["left"] else row["status"]
        typer.echo(
            f"{row['id']:<27}  {row['age']:>4}  {row['owner'][:12]:<12}  "
            f"{row['trigger']:<17}  {left}"
        )


@app.command()
def show(
    intervention_id: str = typer.Argument(..., help="An intervention id (or unique prefix)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show an intervention: trigger, slice, owner, the three requirements and what is left.

    Example: govflow interventions show iv-3f2a
    """
    from govflow.ledger.models import utcnow
    from govflow.ledger.monitoring import get_intervention

    with open_ledger().reader() as session:
        row = _row(
            session, get_intervention(session=session, intervention_id=intervention_id), utcnow()
        )
    if as_json:
        print_json(row)
        return
    typer.echo(f"{row['id']} ({row['status']}) · {row['project']} · owner {row['owner']}")
    typer.echo(f"opened {row['opened_at']} ({row['age']} ago) by a {row['trigger']} alert")
    typer.echo(f"trigger: {row['summary']}")
    typer.echo(f"slice: {row['slice'].get('description', row['slice'])}")
    typer.echo(f"model: {row['model_version_id'] or '-'}")
    typer.echo(f"re-annotation round: {row['reannotation_round_id'] or '-'}")
    suite = row["suite_version_id"]
    typer.echo(
        f"suite version: {suite + ' (' + row['suite_version_hash'][:12] + ')' if suite else '-'}"
    )
    typer.echo(f"re-evaluation: {row['evaluation_run_id'] or '-'}")
    if row["left"]:
        for line in row["left"]:
            typer.echo(f"left: {line}")
    else:
        typer.echo(f"closed {row['closed_at']}")


@app.command()
def close(
    intervention_id: str = typer.Argument(..., help="An intervention id (or unique prefix)."),
) -> None:
    """Close an intervention whose three requirements are recorded (refused otherwise).

    Example: govflow interventions close iv-3f2a
    """
    from govflow.ledger.monitoring import close_intervention

    with open_ledger().session() as session:
        closed = close_intervention(
            session=session, intervention_id=intervention_id, actor=cli_actor()
        )
        typer.echo(f"closed {closed.id}")
