"""``govflow lineage``: a dataset version's ancestry."""

from __future__ import annotations

import typer

from govflow.cli._common import open_ledger, print_json


def lineage(
    version_id: str = typer.Argument(
        ..., help="A dataset version (dv-...) or model version (mv-...) id, or a unique prefix."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the tree as JSON."),
) -> None:
    """Show where a dataset or model version came from: parents, runs, checks, people.

    For a model version: its training data down to the sources, checks, annotations,
    guideline versions and reviewers, plus its evaluations, findings, signers and
    certificates.

    Example: govflow lineage dv-3f2a9c1b4e5d6f708192a3b4
    """
    from govflow.ledger.lineage import (
        build_lineage,
        build_model_lineage,
        render_model_tree,
        render_tree,
    )

    with open_ledger().reader() as session:
        if version_id.startswith("mv-"):
            tree = build_model_lineage(session=session, model_version_id=version_id)
            text = render_model_tree(tree)
        else:
            tree = build_lineage(session=session, version_id=version_id)
            text = render_tree(tree)
    if as_json:
        print_json(tree)
    else:
        typer.echo(text)
