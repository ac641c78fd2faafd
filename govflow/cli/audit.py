"""``govflow audit``: verify and read the tamper-evident audit trail."""

from __future__ import annotations

import typer

from govflow.cli._common import print_json

app = typer.Typer(help="Verify and read the audit trail.", no_args_is_help=True)


_HEX = frozenset("0123456789abcdef")


@app.command()
def verify(
    expect_head: str | None = typer.Option(
        None,
        "--expect-head",
        metavar="HASH",
        help="A head hash printed earlier: fail unless the chain still descends from it.",
    ),
    data: bool = typer.Option(
        False, "--data", help="Also hash every byte of every version's snapshot."
    ),
) -> None:
    """Walk the hash chain; exit 1 naming the first broken event if it was tampered with.

    Prints the head hash in full: keep it where the ledger's writers cannot reach, and pass
    it later as --expect-head, which also catches a chain rewritten from scratch. Reads the
    ledger without writing to it (a read-only file or database role is enough).

    With --data, every dataset snapshot is read and hashed too: a missing or altered one
    exits 3, naming the versions and URIs.

    Example: govflow audit verify --expect-head 5f0c...e9 (the 64 characters printed before)
    """
    from govflow.errors import AuditChainBroken, InputError
    from govflow.ledger.audit import locate_recorded_head, verify_chain
    from govflow.ledger.engine import Ledger
    from govflow.ledger.version_rows import verify_snapshots

    recorded = None
    if expect_head is not None:
        recorded = expect_head.strip().lower()
        if len(recorded) != 64 or not set(recorded) <= _HEX:
            raise InputError(
                "--expect-head takes the full 64-character head hash that `govflow audit "
                f"verify` printed, got {expect_head!r}"
            )
    ledger = Ledger.open(read_only=True)
    try:
        with ledger.reader() as session:
            report = verify_chain(session=session)
            if report.first_break is not None:
                found = report.first_break
                raise AuditChainBroken(found.seq, found.problem.value, found.detail)
            if recorded is not None:
                seq = locate_recorded_head(session=session, report=report, recorded_head=recorded)
            if data:
                checked, problems = verify_snapshots(session=session)
    finally:
        ledger.dispose()
    typer.echo(f"audit chain intact: {report.events} events (head {report.head_hash})")
    if recorded is not None:
        typer.echo(
            f"descends from the recorded head {recorded} "
            f"(event {seq}; {report.events - seq} events since)"
        )
    if data:
        if problems:
            from govflow.errors import SnapshotError

            listed = "; ".join(p.reason for p in problems[:3])
            more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
            raise SnapshotError(
                f"{len(problems)} of {checked} dataset versions fail: {listed}{more}"
            )
        typer.echo(f"snapshots intact: {checked} dataset versions, every byte hashed")


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
    from govflow.ledger.engine import Ledger
    from govflow.ledger.models import AuditEvent

    with Ledger.open(read_only=True).reader() as session:
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
