"""``govflow models``: model versions, their evaluations and the aliases that name them."""

from __future__ import annotations

import typer

from govflow.cli._common import open_ledger, print_json

app = typer.Typer(
    help="List and show model versions and the aliases (production, ...) naming them.",
    no_args_is_help=True,
)


@app.command("list")
def list_(
    project: str | None = typer.Option(None, "--project", help="Only this project's models."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """List model versions, newest first, with the aliases naming them.

    Example: govflow models list --project support-intent
    """
    from govflow.hashing import canonical_time
    from govflow.ledger.model_versions import list_aliases, list_model_versions

    with open_ledger().reader() as session:
        named: dict[str, list[str]] = {}
        for alias in list_aliases(session=session, project=project):
            named.setdefault(alias.model_version_id, []).append(alias.alias)
        rows = [
            {
                "id": m.id,
                "project": m.project,
                "adapter": m.adapter,
                "training_version_id": m.training_version_id,
                "aliases": named.get(m.id, []),
                "created_at": canonical_time(m.created_at),
            }
            for m in list_model_versions(session=session, project=project)
        ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        typer.echo("no model versions yet (train one with the train or release deployment)")
        return
    typer.echo(f"{'ID':<27}  {'PROJECT':<16}  {'ADAPTER':<13}  {'ALIASES':<12}  TRAINED ON")
    for row in rows:
        typer.echo(
            f"{row['id']:<27}  {row['project'][:16]:<16}  {row['adapter']:<13}  "
            f"{','.join(row['aliases']) or '-':<12}  {row['training_version_id'] or '-'}"
        )


@app.command()
def show(
    model_version_id: str = typer.Argument(..., help="A model version id (or unique prefix)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show a model version: spec, artifact, evaluations, sign-offs, certificates, aliases.

    Example: govflow models show mv-1a2b3c4d5e6f
    """
    from govflow.ledger.lineage import build_model_lineage, render_model_tree
    from govflow.ledger.model_versions import get_model_version

    with open_ledger().reader() as session:
        model = get_model_version(session=session, version_id=model_version_id)
        tree = build_model_lineage(session=session, model_version_id=model.id)
        spec = dict(model.spec)
    tree.pop("training_data", None)
    if as_json:
        print_json(tree | {"spec": spec})
        return
    typer.echo(render_model_tree(tree))
    typer.echo(f"    spec: {spec}")


@app.command()
def aliases(
    project: str | None = typer.Option(None, "--project", help="Only this project's aliases."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List the aliases and the model version each names (history: `govflow audit log`).

    Example: govflow models aliases --project support-intent
    """
    from govflow.hashing import canonical_time
    from govflow.ledger.model_versions import list_aliases

    with open_ledger().reader() as session:
        rows = [
            {
                "project": a.project,
                "alias": a.alias,
                "model_version_id": a.model_version_id,
                "certificate_id": a.certificate_id,
                "updated_at": canonical_time(a.updated_at),
            }
            for a in list_aliases(session=session, project=project)
        ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        typer.echo("no aliases yet: a release promotes a model to production")
        return
    for row in rows:
        typer.echo(
            f"{row['project']}:{row['alias']} -> {row['model_version_id']} "
            f"(certificate {row['certificate_id']}, {row['updated_at'][:19]}Z)"
        )
