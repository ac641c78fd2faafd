"""``govflow datasets``: register and list dataset versions."""

from __future__ import annotations

from pathlib import Path

import typer

from govflow.cli._common import cli_actor, open_ledger, print_json

app = typer.Typer(help="Register and list dataset versions.", no_args_is_help=True)


@app.command()
def register(
    path: Path = typer.Argument(..., help="A local CSV, JSONL or Parquet file."),
    name: str = typer.Option(..., "--name", "-n", help="The dataset's name."),
    stage: str = typer.Option("raw", help="The workflow stage of this version."),
) -> None:
    """Register a local file as a dataset version and print its id.

    Registering the same content again returns the same id and writes nothing. A file with
    any bad row (broken JSON, ragged CSV, NaN, ...) is refused as a whole, naming the first
    one; ingest it with a dataset config instead to keep the good rows.

    Example: govflow datasets register demo/data/support_tickets.gold.jsonl --name gold
    """
    from govflow.ledger.datasets import prepare_items, register_dataset_version
    from govflow.sources.registration import read_for_registration

    read = read_for_registration(path)
    items = prepare_items(read.records)
    source = read.source
    ledger = open_ledger()
    with ledger.session() as session:
        result = register_dataset_version(
            session=session, name=name, stage=stage, items=items, actor=cli_actor(), source=source
        )
        version = result.version
        state = "registered" if result.is_new else "already registered"
        typer.echo(f"{state} {version.name} [{version.stage}]: {version.row_count} rows", err=True)
        typer.echo(version.id)


@app.command("list")
def list_(
    name: str | None = typer.Option(None, "--name", "-n", help="Only versions of this dataset."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """List dataset versions, newest first.

    Example: govflow datasets list --name support-tickets
    """
    from govflow.hashing import canonical_time
    from govflow.ledger.datasets import list_versions

    with open_ledger().reader() as session:
        versions = list_versions(session=session, name=name)
        rows = [
            {
                "id": v.id,
                "name": v.name,
                "stage": v.stage,
                "rows": v.row_count,
                "created_at": canonical_time(v.created_at),
                "created_by": v.created_by,
            }
            for v in versions
        ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        typer.echo("no dataset versions yet (register one with `govflow datasets register`)")
        return
    header = f"{'ID':<27}  {'NAME':<24}  {'STAGE':<14}  {'ROWS':>9}  CREATED"
    typer.echo(header)
    for row in rows:
        typer.echo(
            f"{row['id']:<27}  {row['name'][:24]:<24}  {row['stage'][:14]:<14}  "
            f"{row['rows']:>9}  {row['created_at'][:19]}Z"
        )
