"""``govflow db``: the ledger's schema."""

from __future__ import annotations

import typer

app = typer.Typer(help="Manage the ledger database's schema.", no_args_is_help=True)


@app.command()
def upgrade() -> None:
    """Bring the ledger schema to the newest migration (safe to run again).

    Example: govflow db upgrade
    """
    from govflow.ledger.engine import Ledger
    from govflow.ledger.migrate import upgrade_to_head

    ledger = Ledger.open(upgrade=False)
    before, after = upgrade_to_head(ledger)
    if before == after:
        typer.echo(f"ledger at {ledger.masked_url} is up to date (revision {after})")
    else:
        typer.echo(f"upgraded ledger at {ledger.masked_url}: {before or 'empty'} -> {after}")


@app.command()
def status() -> None:
    """Show the ledger's URL (password hidden) and schema revision, without writing.

    Example: govflow db status
    """
    from govflow.ledger.engine import Ledger, translate_db_errors
    from govflow.ledger.migrate import current_revision, head_revision

    ledger = Ledger.open(upgrade=False, read_only=True)
    with translate_db_errors(ledger.masked_url):
        current = current_revision(ledger)
    head = head_revision()
    state = "up to date" if current == head else f"behind (newest is {head})"
    typer.echo(f"ledger: {ledger.masked_url}\nrevision: {current or 'empty'} ({state})")
