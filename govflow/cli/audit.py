"""``govflow audit``: verify and read the tamper-evident audit trail."""

from __future__ import annotations

import typer

from govflow.cli._common import open_ledger, print_json

app = typer.Typer(help="Verify and read the audit trail.", no_args_is_help=True)


@app.command()
def verify() -> None:
    """Walk the hash chain; exit 1 naming the first broken event if it was tampered with.

    Example: govflow audit verify
    """
    from govflow.errors import AuditChainBroken
    from govflow.ledger.audit import verify_chain

    with open_ledger().reader() as session:
        report = verify_chain(session=session)
    if report.first_break is not None:
        found = report.first_break
        raise AuditChainBroken(found.seq, found.problem.value, found.detail)
    typer.echo(f"audit chain intact: {report.events} events (head {report.head_hash[:16]})")


@app.command()
def log(
    limit: int = typer.Option(20, min=1, help="How many of the newest events to show."),
    subject: str | None = typer.Option(None, help="Only events about this subject."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Show the newest audit events.

    Example: govflow audit log --limit 5
    """
    from sqlalchemy import select

    from govflow.hashing import canonical_time
    from govflow.ledger.models import AuditEvent

    with open_ledger().reader() as session:
        query = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit)
        if subject:
            query = query.where(AuditEvent.subject == subject)
        rows = [
            {
                "seq": e.seq,
                "occurred_at": canonical_time(e.occurred_at),
                "actor": e.actor,
                "action": e.action,
                "subject": e.subject,
                "details": e.details,
            }
            for e in session.scalars(query)
        ]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        typer.echo(
            f"{row['seq']:>6}  {row['occurred_at'][:19]}Z  {row['actor']:<20}  "
            f"{row['action']:<22}  {row['subject']}"
        )
