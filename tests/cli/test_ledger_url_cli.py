"""The ledger URL from the CLI: refused URLs are one ``Error:`` line; reading needs no writes."""

from __future__ import annotations

import pytest

from govflow.ledger.engine import Ledger
from govflow.ledger.migrate import head_revision
from govflow.ledger.models import AuditHead
from tests.support.readonly import read_only_folder, read_only_role


def _data(tmp_path):
    data = tmp_path / "t.jsonl"
    data.write_text('{"text": "a"}\n{"text": "b"}\n', encoding="utf-8")
    return str(data)


def _head(url):
    ledger = Ledger.open(url)
    try:
        with ledger.reader() as session:
            return session.get(AuditHead, 1).hash
    finally:
        ledger.dispose()


def test_in_memory_ledger_url_is_refused_before_anything_is_registered(run_cli, tmp_path):
    result = run_cli(
        "datasets",
        "register",
        _data(tmp_path),
        "--name",
        "lost",
        env={"GOVFLOW_DATABASE_URL": "sqlite:///:memory:"},
    )

    assert (result.code, result.out) == (2, "")
    assert result.err == (
        "Error: the ledger URL sqlite:///:memory: is an in-memory SQLite database, which keeps "
        "nothing once the command ends (use a file, e.g. sqlite:///path/ledger.db, or unset "
        "GOVFLOW_DATABASE_URL for $GOVFLOW_HOME/ledger.db)\n"
    )


@pytest.mark.parametrize(
    ("url", "error"),
    [
        (
            "postgresql+psycopg://someone@127.0.0.1:1/ledger?sslmode=bogus",
            "the ledger URL postgresql+psycopg://someone@127.0.0.1:1/ledger?sslmode=bogus is "
            'not usable: connection is bad: invalid sslmode value: "bogus" '
            "(check the options in GOVFLOW_DATABASE_URL)",
        ),
        (
            "sqlite:///{tmp}/ledger.db?timeout=soon",
            "the ledger URL sqlite:///{tmp}/ledger.db?timeout=soon has an option of the wrong "
            "type: could not convert string to float: 'soon' "
            "(check the options in GOVFLOW_DATABASE_URL)",
        ),
    ],
    ids=["postgres-sslmode", "sqlite-timeout"],
)
@pytest.mark.parametrize("command", [("audit", "verify"), ("datasets", "list")])
def test_bad_ledger_url_option_is_one_error_line(run_cli, tmp_path, url, error, command):
    result = run_cli(*command, env={"GOVFLOW_DATABASE_URL": url.format(tmp=tmp_path)})

    assert (result.code, result.out) == (2, "")
    assert result.err == f"Error: {error.format(tmp=tmp_path)}\n"


def test_audit_verify_and_log_read_a_sqlite_ledger_nobody_may_write(run_cli, tmp_path, govflow_env):
    url = govflow_env["GOVFLOW_DATABASE_URL"]
    assert run_cli("datasets", "register", _data(tmp_path), "--name", "kept").code == 0
    head = _head(url)

    with read_only_folder(tmp_path):
        verified = run_cli("audit", "verify", "--expect-head", head)
        logged = run_cli("audit", "log", "--json")
        status = run_cli("db", "status")

    assert (verified.code, verified.err) == (0, "")
    assert verified.out.splitlines()[0] == f"audit chain intact: 1 events (head {head})"
    assert (logged.code, logged.err) == (0, "")
    assert '"action": "dataset.registered"' in logged.out
    assert (status.code, status.out) == (
        0,
        f"ledger: {url}\nrevision: {head_revision()} (up to date)\n",
    )


def test_audit_verify_reads_postgres_as_a_role_that_may_only_select(
    run_cli, tmp_path, postgres_url
):
    env = {"GOVFLOW_DATABASE_URL": postgres_url}
    assert run_cli("datasets", "register", _data(tmp_path), "--name", "kept", env=env).code == 0
    head = _head(postgres_url)

    with read_only_role(postgres_url) as reader_url:
        verified = run_cli("audit", "verify", env={"GOVFLOW_DATABASE_URL": reader_url})

    assert (verified.code, verified.err) == (0, "")
    assert verified.out == f"audit chain intact: 1 events (head {head})\n"


def test_audit_verify_refuses_a_missing_ledger_instead_of_creating_one(run_cli, tmp_path):
    path = tmp_path / "elsewhere" / "ledger.db"

    result = run_cli("audit", "verify", env={"GOVFLOW_DATABASE_URL": f"sqlite:///{path}"})

    assert (result.code, result.out) == (3, "")
    assert result.err == (
        f"Error: no ledger at sqlite:///{path}: {path} does not exist (check "
        "GOVFLOW_DATABASE_URL and GOVFLOW_HOME; `govflow db upgrade` creates a new ledger)\n"
    )
    assert not path.parent.exists()
