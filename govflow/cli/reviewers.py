"""``govflow reviewers``: the roster of people who annotate and review, and their tokens."""

from __future__ import annotations

import typer

from govflow.cli._common import cli_actor, open_ledger, print_json
from govflow.domain import Role

app = typer.Typer(
    help="Add, list and disable reviewers and issue their tokens.", no_args_is_help=True
)


@app.command()
def add(
    person_id: str = typer.Argument(
        ..., metavar="ID", help="A unique id: letters, digits, '.', '_', '@' or '-'."
    ),
    name: str = typer.Option(..., "--name", "-n", help="The person's display name."),
    role: Role = typer.Option(..., "--role", "-r", help="What the person may do."),
) -> None:
    """Add a person to the roster and print their token once.

    The token is the only line on stdout, so scripts can capture it.

    The ledger keeps only a salted hash: a lost token is replaced with `rotate-token`.

    Example: govflow reviewers add alice --name "Alice Smith" --role reviewer
    """
    from govflow.ledger.people import add_person

    with open_ledger().session() as session:
        person, token = add_person(
            session=session, person_id=person_id, display_name=name, role=role, actor=cli_actor()
        )
        summary = f"{person.id} ({person.display_name}, role {role.value})"
    typer.echo(f"added reviewer {summary}; store this token now, it is not shown again", err=True)
    typer.echo(token)


@app.command("list")
def list_(
    role: Role | None = typer.Option(None, "--role", "-r", help="Only people with this role."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """List the roster ordered by id (tokens and their hashes are never shown).

    Example: govflow reviewers list --role specialist
    """
    from govflow.hashing import canonical_time
    from govflow.ledger.people import list_people

    with open_ledger().reader() as session:
        rows = [
            {
                "id": p.id,
                "display_name": p.display_name,
                "roles": list(p.roles or []),
                "status": str(p.status),
                "created_at": canonical_time(p.created_at),
                "updated_at": canonical_time(p.updated_at),
            }
            for p in list_people(session=session, role=role)
        ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        if role is not None:
            typer.echo(f"no reviewers with role {role.value}")
        else:
            typer.echo("no reviewers yet (add one with `govflow reviewers add`)")
        return
    id_w = max(2, *(len(r["id"]) for r in rows))
    name_w = min(30, max(4, *(len(r["display_name"]) for r in rows)))
    roles_w = max(5, *(len(",".join(r["roles"])) for r in rows))
    typer.echo(f"{'ID':<{id_w}}  {'NAME':<{name_w}}  {'ROLES':<{roles_w}}  {'STATUS':<17}  CREATED")
    for row in rows:
        typer.echo(
            f"{row['id']:<{id_w}}  {row['display_name'][:name_w]:<{name_w}}  "
            f"{','.join(row['roles']):<{roles_w}}  {row['status']:<17}  "
            f"{row['created_at'][:19]}Z"
        )


@app.command()
def disable(
    person_id: str = typer.Argument(..., metavar="ID", help="The reviewer to disable."),
) -> None:
    """Disable a person: they keep their history but may no longer decide anything.

    Disabling someone already disabled changes nothing.

    Example: govflow reviewers disable alice
    """
    from govflow.ledger.models import PersonStatus
    from govflow.ledger.people import disable_person, get_person

    with open_ledger().session() as session:
        was_disabled = get_person(session=session, person_id=person_id).status == (
            PersonStatus.DISABLED
        )
        disable_person(session=session, person_id=person_id, actor=cli_actor())
    if was_disabled:
        typer.echo(f"reviewer {person_id} is already disabled")
    else:
        typer.echo(f"disabled reviewer {person_id}")


@app.command("rotate-token")
def rotate_token(
    person_id: str = typer.Argument(..., metavar="ID", help="The reviewer who needs a token."),
) -> None:
    """Issue a new token for a person and print it once; their old token stops working.

    Example: govflow reviewers rotate-token alice
    """
    from govflow.ledger.people import rotate_token as rotate

    with open_ledger().session() as session:
        token = rotate(session=session, person_id=person_id, actor=cli_actor())
    typer.echo(
        f"new token for reviewer {person_id}; the old one no longer works; "
        "store this token now, it is not shown again",
        err=True,
    )
    typer.echo(token)
