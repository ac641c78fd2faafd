"""``govflow annotations``: hand out a round's work and bring the labels back."""

from __future__ import annotations

import enum
import json
from pathlib import Path

import typer

from govflow.cli._common import cli_actor, open_ledger
from govflow.errors import GovflowError

app = typer.Typer(
    help="Export annotation assignments, import labels and follow a round's progress.",
    no_args_is_help=True,
)


class Format(enum.StrEnum):
    # The same values as govflow.annotation.exchange.ExchangeFormat, which this module does not
    # import at load time so `govflow --help` stays fast.
    JSONL = "jsonl"
    LABEL_STUDIO = "label-studio"


_FORMAT_HELP = "jsonl, or label-studio for Label Studio's JSON task format."


def _short(item: str) -> str:
    return f"{item[:12]}…" if len(item) > 12 else item


@app.command()
def export(
    round_id: str = typer.Option(..., "--round", help="The annotation round."),
    annotator: str | None = typer.Option(None, "--annotator", help="Only this annotator's work."),
    fmt: Format = typer.Option(Format.JSONL, "--format", help=_FORMAT_HELP),
    out: Path | None = typer.Option(None, "--out", help="Write here instead of stdout."),
) -> None:
    """Export a round's assignments: one task per item and annotator.

    Example: govflow annotations export --round ar-1234 --annotator alice --out alice.jsonl
    """
    from govflow.errors import SourceError
    from govflow.ledger.annotations import export_assignments

    with open_ledger().reader() as session:
        text = export_assignments(
            session=session, round_id=round_id, annotator_id=annotator, fmt=fmt.value
        )
    if out is None:
        typer.echo(text, nl=False)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise SourceError(str(out), f"cannot write: {exc.strerror or exc}") from exc
    count = len(text.splitlines()) if fmt is Format.JSONL else len(json.loads(text))
    typer.echo(f"wrote {count} assignments of round {round_id} to {out}")


@app.command("import")
def import_(
    path: Path = typer.Argument(..., metavar="FILE", help="The annotation file to import."),
    round_id: str = typer.Option(..., "--round", help="The annotation round."),
    fmt: Format = typer.Option(Format.JSONL, "--format", help=_FORMAT_HELP),
) -> None:
    """Import labels; valid rows are stored and every other row is listed with its reason.

    Re-importing a file is safe: labels already stored count as already recorded.

    Exits 0 if no row was rejected, 1 if some were (the rest are still stored).

    Exits 2 if the file cannot be read.

    Example: govflow annotations import labels.jsonl --round ar-1234
    """
    from govflow.errors import SourceError
    from govflow.ledger.annotations import import_annotations

    try:
        content = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problem = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise SourceError(str(path), f"cannot read: {problem}") from exc
    with open_ledger().session() as session:
        report = import_annotations(
            session=session, round_id=round_id, content=content, fmt=fmt.value, actor=cli_actor()
        )
    typer.echo(
        f"accepted {report.accepted}, already recorded {report.already_recorded}, "
        f"rejected {len(report.rejected)}"
    )
    where = "line" if fmt is Format.JSONL else "task"
    for row in report.rejected:
        item = f"item {_short(row.item)}: " if row.item else ""
        typer.echo(f"{where} {row.line}: {item}{row.message}")
    _resume_if_complete(round_id)
    if report.rejected:
        raise typer.Exit(code=1)


def _resume_if_complete(round_id: str) -> None:
    """Wake the flow run waiting for this round once nothing is missing."""
    from govflow.domain import RoundStatus
    from govflow.ledger.rounds import get_round, round_state
    from govflow.prefect_api import PrefectAPI
    from govflow.review.collect import resume_waiting_run

    with open_ledger().reader() as session:
        found = get_round(session=session, round_id=round_id)
        if found.status is not RoundStatus.COLLECTING:
            return
        missing = len(round_state(session=session, round_id=round_id).missing)
        if missing:
            typer.echo(f"round {round_id}: {missing} assignments still missing; the flow waits")
            return
        try:
            with PrefectAPI() as api:
                resumed, problem = resume_waiting_run(session=session, round_id=round_id, api=api)
        except GovflowError as exc:
            problem = f"its flow run could not be resumed: {exc}"
            resumed = None
    if problem is None:
        typer.echo(f"round {round_id} is complete: resumed flow run {resumed}")
        return
    typer.echo(
        f"round {round_id} is complete, but {problem}. Import the file again to retry "
        "(labels already stored are not duplicated); `govflow review sweep` wakes the run at "
        "the round's deadline.",
        err=True,
    )
    raise typer.Exit(code=3)


@app.command()
def progress(
    round_id: str = typer.Option(..., "--round", help="The annotation round."),
) -> None:
    """Show how many assigned items each annotator has labelled and how many are missing.

    Example: govflow annotations progress --round ar-1234
    """
    from govflow.ledger.annotations import round_progress

    with open_ledger().reader() as session:
        counts = round_progress(session=session, round_id=round_id)
    rows = [
        (a, c["assigned"], c["annotated"], c["missing"]) for a, c in counts["annotators"].items()
    ]
    rows.append(("total", counts["assigned"], counts["annotated"], counts["missing"]))
    width = max(9, *(len(r[0]) for r in rows))
    typer.echo(f"{'ANNOTATOR':<{width}}  ASSIGNED  ANNOTATED  MISSING")
    for name, assigned, annotated, missing in rows:
        typer.echo(f"{name:<{width}}  {assigned:>8}  {annotated:>9}  {missing:>7}")


@app.command()
def rounds(
    project: str | None = typer.Option(None, "--project", help="Only this project's rounds."),
    status: str | None = typer.Option(None, "--status", help="open, collecting or collected."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List annotation rounds with their progress and the flow run waiting for them.

    Example: govflow annotations rounds --status collecting
    """
    from sqlalchemy import select

    from govflow.cli._common import print_json
    from govflow.hashing import canonical_time
    from govflow.ledger.models import AnnotationRound
    from govflow.ledger.rounds import round_state

    with open_ledger().reader() as session:
        query = select(AnnotationRound).order_by(AnnotationRound.created_at)
        if project:
            query = query.where(AnnotationRound.project == project)
        if status:
            query = query.where(AnnotationRound.status == status)
        found = []
        for r in session.scalars(query):
            state = round_state(session=session, round_id=r.id)
            found.append(
                {
                    "round": r.id,
                    "project": r.project,
                    "status": r.status.value,
                    "dataset_version_id": r.dataset_version_id,
                    "guideline_version_id": r.guideline_version_id,
                    "assigned": state.assigned,
                    "annotated": state.annotated,
                    "missing": len(state.missing),
                    "deadline": canonical_time(r.deadline) if r.deadline else None,
                    "flow_run_id": r.flow_run_id,
                }
            )
    if as_json:
        print_json(found)
        return
    if not found:
        typer.echo("no annotation rounds")
        return
    typer.echo(f"{'ROUND':<27}  {'PROJECT':<16}  {'STATUS':<10}  ANNOTATED/ASSIGNED  FLOW RUN")
    for row in found:
        done = f"{row['annotated']}/{row['assigned']}"
        typer.echo(
            f"{row['round']:<27}  {row['project']:<16}  {row['status']:<10}  {done:>18}  "
            f"{row['flow_run_id'] or '-'}"
        )
