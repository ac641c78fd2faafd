"""``govflow guidelines``: publish, show and compare versions of annotation guidelines."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from govflow.cli._common import cli_actor, open_ledger, print_json

if TYPE_CHECKING:
    from govflow.ledger.models import GuidelineVersion

app = typer.Typer(
    help="Publish, show and compare versions of annotation guidelines.", no_args_is_help=True
)


def _as_dict(guideline: GuidelineVersion) -> dict[str, Any]:
    from govflow.hashing import canonical_time

    return {
        "id": guideline.id,
        "project": guideline.project,
        "version": guideline.version,
        "status": guideline.status,
        "label_set": list(guideline.label_set),
        "ordinal": guideline.is_ordinal,
        "instructions": guideline.text,
        "examples": list(guideline.examples),
        "changelog": guideline.changelog,
        "prompted_by": guideline.prompted_by,
        "parent_id": guideline.parent_id,
        "content_hash": guideline.content_hash,
        "created_by": guideline.created_by,
        "created_at": canonical_time(guideline.created_at),
    }


def _render(row: dict[str, Any]) -> list[str]:
    labels = ", ".join(row["label_set"]) + (" (ordinal)" if row["ordinal"] else "")
    lines = [
        f"project:     {row['project']}",
        f"version:     {row['version']}",
        f"id:          {row['id']}",
        f"status:      {row['status']}",
        f"labels:      {labels}",
        f"created:     {row['created_at'][:19]}Z by {row['created_by']}",
    ]
    if row["prompted_by"]:
        lines.append(f"prompted by: {row['prompted_by']}")
    lines += [f"changelog:   {row['changelog']}", "", row["instructions"]]
    if row["examples"]:
        lines += ["", "Examples:"]
        for example in row["examples"]:
            lines.append(f"  [{example['label']}] {example['text']}")
            if example.get("note"):
                lines.append(f"      note: {example['note']}")
    return lines


@app.command()
def show(
    project: str = typer.Argument(..., metavar="PROJECT", help="The annotation project."),
    version: int | None = typer.Option(
        None, "--version", "-v", help="A version number (default: the latest published)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Show a guideline version: labels, changelog, instructions and examples.

    Example: govflow guidelines show support-intent --version 2
    """
    from govflow.ledger.guidelines import get_guideline

    with open_ledger().reader() as session:
        row = _as_dict(get_guideline(session=session, project=project, version=version))
    if as_json:
        print_json(row)
        return
    typer.echo("\n".join(_render(row)))


@app.command()
def diff(
    project: str = typer.Argument(..., metavar="PROJECT", help="The annotation project."),
    old: int = typer.Argument(..., metavar="V1", help="The version to compare from."),
    new: int = typer.Argument(..., metavar="V2", help="The version to compare to."),
) -> None:
    """Show what changed between two versions: labels, instructions, examples, changelog.

    Example: govflow guidelines diff support-intent 1 2
    """
    from govflow.ledger.guidelines import diff_guidelines, get_guideline

    with open_ledger().reader() as session:
        before = get_guideline(session=session, project=project, version=old)
        after = get_guideline(session=session, project=project, version=new)
        typer.echo(diff_guidelines(before, after))


@app.command()
def publish(
    project: str = typer.Argument(
        ..., metavar="PROJECT", help="The annotation project; must match the file's."
    ),
    file: Path = typer.Argument(..., metavar="FILE", help="The guideline (.yaml, .yml, .json)."),
) -> None:
    """Publish a guideline file as the project's next version.

    Publishing content identical to the latest version changes nothing.

    Example: govflow guidelines publish support-intent demo/guidelines/support-intent.v1.yaml
    """
    from govflow.errors import InputError
    from govflow.ledger.guidelines import load_guideline_document, publish_guideline

    document = load_guideline_document(file)
    if document.project != project:
        raise InputError(
            f"{file}: the guideline is for project {document.project!r}, not {project!r}"
        )
    with open_ledger().session() as session:
        guideline, is_new = publish_guideline(session=session, document=document, actor=cli_actor())
        summary = (guideline.project, guideline.version, guideline.id)
    if is_new:
        typer.echo(f"published {summary[0]} v{summary[1]} ({summary[2]})")
    else:
        typer.echo(f"unchanged: {summary[0]} v{summary[1]} is identical")
