"""Opening the ledger: refused URLs, connect failures as one error, read-only opening."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from govflow.errors import ConfigError, LedgerError, LedgerUnavailable, MigrationError
from govflow.ledger.audit import append_event, verify_chain
from govflow.ledger.engine import Ledger, create_ledger_engine
from tests.support.readonly import read_only_folder, read_only_role


def _append(ledger: Ledger, count: int) -> None:
    for index in range(count):
        with ledger.session() as session:
            append_event(session=session, actor="t", action="test", subject=f"s-{index}")


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///:memory:",
        "sqlite://",
        "sqlite:///file::memory:?uri=true",
        "sqlite:///file:ledger?mode=memory&cache=shared&uri=true",
    ],
)
def test_create_engine_refuses_an_in_memory_sqlite_ledger(url):
    with pytest.raises(ConfigError) as refused:
        create_ledger_engine(url)

    assert refused.value.message == (
        f"the ledger URL {url} is an in-memory SQLite database, which keeps nothing once "
        "the command ends"
    )
    assert refused.value.exit_code == 2


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("sslmode=bogus", 'connection is bad: invalid sslmode value: "bogus"'),
        ("fallback_application_nam=x", 'invalid connection option "fallback_application_nam"'),
    ],
)
def test_connecting_with_a_bad_postgres_option_is_a_config_error(query, reason):
    # libpq rejects the option before it connects: no server is needed on port 1.
    url = f"postgresql+psycopg://someone@127.0.0.1:1/ledger?{query}"
    engine = create_ledger_engine(url)

    with pytest.raises(ConfigError) as refused, engine.connect():
        pass

    assert refused.value.message == f"the ledger URL {url} is not usable: {reason}"
    assert refused.value.hint == "check the options in GOVFLOW_DATABASE_URL"


def test_connecting_to_nothing_is_ledger_unavailable():
    engine = create_ledger_engine("postgresql+psycopg://someone@127.0.0.1:1/ledger")

    with pytest.raises(LedgerUnavailable) as failed, engine.connect():
        pass

    assert failed.value.message.startswith(
        "cannot reach the ledger at postgresql+psycopg://someone@127.0.0.1:1/ledger: "
    )
    assert "Connection refused" in failed.value.message


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("timeout=soon", "has an option of the wrong type: could not convert string to float"),
        ("cache=shared&mode=ro", "has options SQLite does not take: 'cache', 'mode'"),
    ],
)
def test_create_engine_refuses_sqlite_options_it_would_ignore_or_cannot_read(
    tmp_path, query, message
):
    url = f"sqlite:///{tmp_path / 'ledger.db'}?{query}"

    with pytest.raises(ConfigError) as refused:
        create_ledger_engine(url)

    assert refused.value.message.startswith(f"the ledger URL {url} {message}")


def test_open_read_only_verifies_a_sqlite_ledger_in_a_folder_nobody_may_write(tmp_path):
    folder = tmp_path / "ledger"
    url = f"sqlite:///{folder / 'ledger.db'}"
    writer = Ledger.open(url)
    _append(writer, 3)
    writer.dispose()
    before = {path.name: _digest(path) for path in folder.iterdir()}

    with read_only_folder(folder):
        ledger = Ledger.open(url, read_only=True)
        try:
            with ledger.reader() as session:
                report = verify_chain(session=session)
            with pytest.raises(LedgerError) as refused, ledger.session():
                pass
        finally:
            ledger.dispose()

    assert (report.is_intact, report.events) == (True, 3)
    assert refused.value.message == f"the ledger at {url} was opened read-only"
    assert {path.name: _digest(path) for path in folder.iterdir()} == before


def test_open_read_only_never_writes_even_where_it_could(ledger_url):
    writer = Ledger.open(ledger_url)
    _append(writer, 1)
    writer.dispose()

    ledger = Ledger.open(ledger_url, read_only=True)
    try:
        with pytest.raises(DBAPIError) as refused, ledger.reader() as session:
            session.execute(text("DELETE FROM audit_events"))
        with ledger.reader() as session:
            report = verify_chain(session=session)
    finally:
        ledger.dispose()

    assert "read-only" in str(refused.value.orig) or "readonly" in str(refused.value.orig)
    assert (report.is_intact, report.events) == (True, 1)


def test_open_read_only_verifies_with_a_postgres_role_that_may_only_select(postgres_url):
    writer = Ledger.open(postgres_url)
    _append(writer, 2)
    writer.dispose()

    with read_only_role(postgres_url) as reader_url:
        ledger = Ledger.open(reader_url, read_only=True)
        try:
            with ledger.reader() as session:
                report = verify_chain(session=session)
        finally:
            ledger.dispose()

    assert (report.is_intact, report.events) == (True, 2)


def test_open_read_only_refuses_a_database_without_the_schema(ledger_url):
    if ledger_url.startswith("sqlite"):
        # An existing SQLite database that is not a ledger (no file at all is "missing").
        engine = create_engine(ledger_url)
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE notes (body TEXT)"))
        engine.dispose()

    with pytest.raises(MigrationError) as refused:
        Ledger.open(ledger_url, read_only=True)

    assert refused.value.message == f"the ledger at {ledger_url} has no schema yet"
    assert refused.value.exit_code == 3


def test_open_read_only_refuses_a_missing_sqlite_file_and_creates_nothing(tmp_path):
    path = tmp_path / "nowhere" / "ledger.db"

    with pytest.raises(LedgerUnavailable) as refused:
        Ledger.open(f"sqlite:///{path}", read_only=True)

    assert refused.value.message == f"no ledger at sqlite:///{path}: {path} does not exist"
    assert not path.parent.exists()
