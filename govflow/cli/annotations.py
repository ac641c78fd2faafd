"""``govflow annotations``: hand out a round's work and bring the labels back."""

from __future__ import annotations

import enum
import json
from pathlib import Path

import typer

from govflow.cli._common import cli_actor, open_ledger

app = typer.Typer(
    help="Export annotation assignments, import labels and follow a round's progress.",
    no_args_is_help=True,
)


class Format(enum.StrEnum):
    # The same values as govflow.annotation.rounds.ExchangeFormat, which this module does not
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
    from govflow.annotation.rounds import export_assignments
    from govflow.errors import SourceError

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
    from govflow.annotation.rounds import import_annotations
    from govflow.errors import SourceError

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
    if report.rejected:
        raise typer.Exit(code=1)


@app.command()
def progress(
    round_id: str = typer.Option(..., "--round", help="The annotation round."),
) -> None:
    """Show how many assigned items each annotator has labelled and how many are missing.

    Example: govflow annotations progress --round ar-1234
    """
    from govflow.annotation.rounds import round_progress

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
