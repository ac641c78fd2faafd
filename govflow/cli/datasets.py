"""``govflow datasets``: register and list dataset versions."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from govflow.cli._common import cli_actor, open_ledger, print_json

app = typer.Typer(
    help="Register, list, show, find and export dataset versions.", no_args_is_help=True
)


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


@app.command()
def show(
    version_id: str = typer.Argument(..., metavar="VERSION", help="A version id (or prefix)."),
    where: str | None = typer.Option(
        None, "--where", help="A SQL condition on the version's columns (run by DuckDB)."
    ),
    limit: int = typer.Option(20, "--limit", min=0, help="At most this many rows."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array for scripts."),
) -> None:
    """Print a version's rows (read from its snapshot, checked against its hash).

    Rows print as JSON lines with their item hash under "_hash".

    Example: govflow datasets show dv-1a2b3c --where "label = 'bug'" --limit 5
    """
    from govflow.ledger.datasets import get_version
    from govflow.ledger.version_rows import read_version_table
    from govflow.snapshots.encode import decode_table
    from govflow.snapshots.query import filter_rows

    with open_ledger().reader() as session:
        version = get_version(session=session, version_id=version_id)
        table = filter_rows(read_version_table(version), where=where, limit=limit)
        label = f"{version.id} ({version.name} [{version.stage}])"
        total = version.row_count
    rows = [
        {"_hash": h, **record}
        for h, record in zip(table.column("_hash").to_pylist(), decode_table(table), strict=True)
    ]
    typer.echo(f"{label}: {len(rows)} of {total} rows shown", err=True)
    if as_json:
        print_json(rows)
        return
    for row in rows:
        typer.echo(json.dumps(row, ensure_ascii=False))


@app.command()
def find(
    item_hash: str = typer.Argument(..., metavar="HASH", help="An item's content hash."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Show an item and every version that holds it.

    Example: govflow datasets find 5f0c...e9
    """
    from govflow.errors import NotFound
    from govflow.ledger.version_rows import find_rows, versions_containing

    with open_ledger().reader() as session:
        versions = versions_containing(session=session, item_hash=item_hash)
        if not versions:
            raise NotFound("item", item_hash, hint="no stored version holds a row with this hash")
        record = find_rows(session=session, hashes=[item_hash], first=versions[:1])[item_hash]
    if as_json:
        print_json({"item": item_hash, "record": record, "versions": versions})
        return
    typer.echo(json.dumps(record, ensure_ascii=False))
    for version in versions:
        typer.echo(version)


@app.command()
def export(
    version_id: str = typer.Argument(..., metavar="VERSION", help="A version id (or prefix)."),
    path: Path = typer.Argument(..., help="Where to write: a .jsonl, .csv or .parquet file."),
) -> None:
    """Write a version's rows to a file, in row order (the format follows the suffix).

    Example: govflow datasets export dv-1a2b3c tickets.csv
    """
    from govflow.ledger.datasets import get_version
    from govflow.ledger.version_rows import read_version_table
    from govflow.snapshots.export import export_rows

    with open_ledger().reader() as session:
        version = get_version(session=session, version_id=version_id)
        table = read_version_table(version)
        label = f"{version.id} ({version.name} [{version.stage}])"
    written = export_rows(table, path)
    typer.echo(f"exported {written} rows of {label} to {path}", err=True)
