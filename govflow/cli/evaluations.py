"""``govflow evaluations``: import runs of external evaluation tools, list a model's runs."""

from __future__ import annotations

from pathlib import Path

import typer

from govflow.cli._common import cli_actor, open_ledger, print_json

app = typer.Typer(
    help="Import evaluation runs from external tools (inspect_ai) and list evaluations.",
    no_args_is_help=True,
)


@app.command("import-inspect")
def import_inspect(
    log: Path = typer.Argument(..., help="An inspect_ai eval log in its JSON format."),
    model_version: str = typer.Option(
        ..., "--model-version", help="The govflow model version the log evaluated."
    ),
    suite: Path | None = typer.Option(
        None, "--suite", help="The suite file (default: evaluations/<project>.yaml)."
    ),
    slice_name: str = typer.Option(
        "routine", "--slice", help="The suite slice whose thresholds judge the log's samples."
    ),
) -> None:
    """Record an inspect_ai run as an evaluation run, judged by the suite's thresholds.

    It then takes the same sign-off path as govflow's own runs (the signoff deployment).

    Example: govflow evaluations import-inspect logs/run.json --model-version mv-1a2b3c
    """
    from govflow.evaluation.imports import import_inspect_run

    run_id, status = import_inspect_run(
        ledger=open_ledger(),
        log=log,
        model_version_id=model_version,
        suite_path=suite,
        slice_name=slice_name,
        actor=cli_actor(),
    )
    typer.echo(f"evaluation run {run_id}: {status}")


@app.command("list")
def list_(
    model_version: str = typer.Argument(..., help="A model version id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List a model version's evaluation runs with their verdicts.

    Example: govflow evaluations list mv-1a2b3c4d5e6f
    """
    from govflow.hashing import canonical_time
    from govflow.ledger.evaluations import runs_of_model
    from govflow.ledger.model_versions import get_model_version

    with open_ledger().reader() as session:
        model = get_model_version(session=session, version_id=model_version)
        rows = [
            {
                "id": r.id,
                "source": r.source.value,
                "status": r.status.value,
                "suite_version_id": r.suite_version_id,
                "created_at": canonical_time(r.created_at),
            }
            for r in runs_of_model(session=session, model_version_id=model.id)
        ]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        typer.echo(
            f"{row['id']}  {row['source']:<10}  {row['status']:<22}  {row['suite_version_id']}"
        )
