"""``govflow lineage``: a dataset version's ancestry."""

from __future__ import annotations

import typer

from govflow.cli._common import open_ledger, print_json


def lineage(
    version_id: str = typer.Argument(..., help="A dataset version id (or a unique prefix)."),
    as_json: bool = typer.Option(False, "--json", help="Print the tree as JSON."),
) -> None:
    """Show where a dataset version came from: parents, runs, validations, reviews.

    Example: govflow lineage dv-3f2a9c1b4e5d6f708192a3b4
    """
    from govflow.ledger.lineage import build_lineage, render_tree

    with open_ledger().reader() as session:
        tree = build_lineage(session=session, version_id=version_id)
    if as_json:
        print_json(tree)
    else:
        typer.echo(render_tree(tree))
