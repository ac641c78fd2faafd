import json
import re

from sqlalchemy import text

from govflow.ledger.audit import count_events
from govflow.ledger.engine import Ledger
from govflow.ledger.people import get_person, verify_token


def _ledger_state(url, person_id):
    """Return the person, the audit event count and all text of people and audit_events."""
    ledger = Ledger.open(url)
    with ledger.reader() as session:
        person = get_person(session=session, person_id=person_id)
        events = count_events(session=session)
        rows = [
            *session.execute(text("SELECT * FROM people")).all(),
            *session.execute(text("SELECT * FROM audit_events")).all(),
        ]
    ledger.dispose()
    return person, events, "\n".join(str(value) for row in rows for value in row)


def test_add_prints_the_token_once_and_stores_only_its_hash(run_cli, govflow_env):
    result = run_cli("reviewers", "add", "alice", "--name", "Alice Smith", "--role", "reviewer")
    listed = run_cli("reviewers", "list")
    as_json = run_cli("reviewers", "list", "--json")
    log = run_cli("audit", "log", "--json")

    token = result.out.strip()
    assert result.code == 0
    assert result.out == f"{token}\n"
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", token)
    assert result.err == (
        "added reviewer alice (Alice Smith, role reviewer); "
        "store this token now, it is not shown again\n"
    )
    person, events, stored_text = _ledger_state(govflow_env["GOVFLOW_DATABASE_URL"], "alice")
    assert verify_token(person, token)
    assert events == 1
    assert token not in stored_text
    assert person.token_hash.startswith("pbkdf2_sha256$")
    for output in (listed.out, as_json.out, log.out):
        assert token not in output
        assert person.token_hash not in output
        assert "pbkdf2" not in output
    assert "token_hash" not in json.loads(as_json.out)[0]
    assert json.loads(log.out)[0]["details"] == {"role": "reviewer", "display_name": "Alice Smith"}


def test_rotate_token_prints_a_new_token_and_the_old_one_stops_working(run_cli, govflow_env):
    old = run_cli("reviewers", "add", "alice", "--name", "Alice", "--role", "lead").out.strip()

    result = run_cli("reviewers", "rotate-token", "alice")

    new = result.out.strip()
    assert result.code == 0
    assert result.out == f"{new}\n"
    assert result.err == (
        "new token for reviewer alice; the old one no longer works; "
        "store this token now, it is not shown again\n"
    )
    person, events, stored_text = _ledger_state(govflow_env["GOVFLOW_DATABASE_URL"], "alice")
    assert verify_token(person, new) is True
    assert verify_token(person, old) is False
    assert events == 2
    assert new not in stored_text and old not in stored_text


def test_duplicate_id_is_exit_2_with_a_hint(run_cli):
    run_cli("reviewers", "add", "alice", "--name", "Alice", "--role", "reviewer")

    result = run_cli("reviewers", "add", "alice", "--name", "Other", "--role", "lead")

    assert result.code == 2
    assert result.out == ""
    assert result.err == (
        "Error: reviewer 'alice' already exists "
        "(use `govflow reviewers rotate-token alice` to issue a new token)\n"
    )


def test_invalid_id_is_exit_2(run_cli):
    result = run_cli("reviewers", "add", "al ice", "--name", "Alice", "--role", "reviewer")

    assert result.code == 2
    assert result.out == ""
    assert result.err == (
        "Error: invalid reviewer id 'al ice' "
        "(use 1-100 characters: letters, digits, '.', '_', '@' or '-')\n"
    )


def test_unknown_role_is_a_usage_error(run_cli):
    result = run_cli("reviewers", "add", "alice", "--name", "Alice", "--role", "boss")

    assert result.code == 2
    assert result.out == ""
    assert "'boss' is not one of" in result.err


def test_unknown_id_is_exit_4(run_cli):
    disabled = run_cli("reviewers", "disable", "nobody")
    rotated = run_cli("reviewers", "rotate-token", "nobody")

    for result in (disabled, rotated):
        assert result.code == 4
        assert result.out == ""
        assert result.err == (
            "Error: reviewer 'nobody' not found "
            "(run `govflow reviewers list` to see reviewer ids)\n"
        )


def test_disable_twice_writes_one_event(run_cli, govflow_env):
    run_cli("reviewers", "add", "alice", "--name", "Alice", "--role", "reviewer")

    first = run_cli("reviewers", "disable", "alice")
    second = run_cli("reviewers", "disable", "alice")

    assert (first.code, first.out, first.err) == (0, "disabled reviewer alice\n", "")
    assert (second.code, second.out, second.err) == (0, "reviewer alice is already disabled\n", "")
    person, events, _ = _ledger_state(govflow_env["GOVFLOW_DATABASE_URL"], "alice")
    assert person.status == "disabled"
    assert events == 2


def test_list_shows_the_roster_as_table_and_json(run_cli):
    empty = run_cli("reviewers", "list")
    run_cli("reviewers", "add", "zoe", "--name", "Zoe Lead", "--role", "lead")
    run_cli("reviewers", "add", "bob.k@example.org", "--name", "Bob K", "--role", "specialist")
    run_cli("reviewers", "add", "alice", "--name", "Alice Smith", "--role", "reviewer")
    run_cli("reviewers", "disable", "alice")

    table = run_cli("reviewers", "list")
    rows = json.loads(run_cli("reviewers", "list", "--json").out)
    leads = run_cli("reviewers", "list", "--role", "lead")
    annotators = run_cli("reviewers", "list", "--role", "annotator")

    assert (empty.code, empty.out) == (
        0,
        "no reviewers yet (add one with `govflow reviewers add`)\n",
    )
    created = {r["id"]: r["created_at"][:19] + "Z" for r in rows}
    assert table.code == 0
    assert table.out.splitlines() == [
        "ID                 NAME         ROLES       STATUS             CREATED",
        f"alice              Alice Smith  reviewer    disabled           {created['alice']}",
        f"bob.k@example.org  Bob K        specialist  active             "
        f"{created['bob.k@example.org']}",
        f"zoe                Zoe Lead     lead        active             {created['zoe']}",
    ]
    assert [(r["id"], r["display_name"], r["roles"], r["status"]) for r in rows] == [
        ("alice", "Alice Smith", ["reviewer"], "disabled"),
        ("bob.k@example.org", "Bob K", ["specialist"], "active"),
        ("zoe", "Zoe Lead", ["lead"], "active"),
    ]
    assert set(rows[0]) == {"id", "display_name", "roles", "status", "created_at", "updated_at"}
    assert leads.out.splitlines() == [
        "ID   NAME      ROLES  STATUS             CREATED",
        f"zoe  Zoe Lead  lead   active             {created['zoe']}",
    ]
    assert annotators.out == "no reviewers with role annotator\n"


def test_audit_verify_is_intact_after_roster_writes(run_cli):
    run_cli("reviewers", "add", "alice", "--name", "Alice", "--role", "reviewer")
    run_cli("reviewers", "add", "bob", "--name", "Bob", "--role", "specialist")
    run_cli("reviewers", "rotate-token", "bob")
    run_cli("reviewers", "disable", "alice")
    run_cli("reviewers", "disable", "alice")

    result = run_cli("audit", "verify")

    assert result.code == 0
    assert result.out.startswith("audit chain intact: 4 events (head ")
