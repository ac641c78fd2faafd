"""The ``govflow`` entry point: command groups and the single place errors become messages.

Fast commands import neither Prefect nor Great Expectations; each command imports what it
needs inside its body.
"""

from __future__ import annotations

import sys

import typer

from govflow.cli import (
    annotations,
    audit,
    datasets,
    db,
    evaluations,
    guidelines,
    models,
    monitoring,
    review,
    reviewers,
    synthetic,
)
from govflow.cli.lineage import lineage
from govflow.cli.run import run
from govflow.cli.serve import serve

app = typer.Typer(
    name="govflow",
    help="Governed, traceable AI data workflows: ledger, lineage, audit and review.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(db.app, name="db")
app.add_typer(datasets.app, name="datasets")
app.add_typer(audit.app, name="audit")
app.add_typer(review.app, name="review")
app.add_typer(reviewers.app, name="reviewers")
app.add_typer(guidelines.app, name="guidelines")
app.add_typer(annotations.app, name="annotations")
app.add_typer(models.app, name="models")
app.add_typer(evaluations.app, name="evaluations")
app.add_typer(monitoring.monitor_app, name="monitor")
app.add_typer(monitoring.app, name="interventions")
app.add_typer(synthetic.app, name="synthetic")
app.command("lineage")(lineage)
app.command("run")(run)
app.command("serve")(serve)


def main() -> None:
    """Run the CLI; a ``GovflowError`` becomes one ``Error: ...`` line and its exit code."""
    from govflow.errors import GovflowError

    try:
        app()
    except GovflowError as exc:
        typer.echo(f"Error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("Error: interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
