"""Shared fixtures: real ledgers on a SQLite file and, when configured, on Postgres.

Set ``GOVFLOW_TEST_POSTGRES_URL`` (``.ci/run`` does when Postgres answers on 127.0.0.1:5432)
to run every ``ledger_url`` test on Postgres too; each test gets a database of its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from govflow.ledger.engine import Ledger
from tests.support.gates import FlowRunner, GateRunner, add_roster
from tests.support.prefect_server import PrefectServer, free_port, remove, temp_home

POSTGRES_URL = os.environ.get("GOVFLOW_TEST_POSTGRES_URL")
_PREFECT_HOME = temp_home("govflow-prefect-")
_PREFECT_PORT = free_port()


def pytest_configure(config: pytest.Config) -> None:
    """Point Prefect at the session's own server before anything imports Prefect."""
    os.environ["PREFECT_HOME"] = str(_PREFECT_HOME)
    os.environ["PREFECT_API_URL"] = f"http://127.0.0.1:{_PREFECT_PORT}/api"
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ.pop("PREFECT_API_AUTH_STRING", None)
    os.environ.pop("PREFECT_UI_URL", None)
    os.environ.pop("GOVFLOW_REVIEW_WEBHOOK_URL", None)


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[PrefectServer]:
    """A real Prefect server (SQLite) for the whole session, at PREFECT_API_URL."""
    server = PrefectServer(_PREFECT_PORT, _PREFECT_HOME / "server").start()
    try:
        yield server
    finally:
        # Let in-process log and event senders finish before their server goes away; else
        # the interpreter waits a minute at exit retrying them.
        from prefect.events.worker import EventsWorker
        from prefect.logging.handlers import APILogWorker

        APILogWorker.drain_all(timeout=10)
        EventsWorker.drain_all(timeout=10)
        server.stop()
        remove(_PREFECT_HOME)


NO_POSTGRES = "GOVFLOW_TEST_POSTGRES_URL is not set: no Postgres to test against"


def _admin_engine():  # type: ignore[no-untyped-def]
    url = make_url(POSTGRES_URL).set(drivername="postgresql+psycopg")
    return create_engine(url, isolation_level="AUTOCOMMIT"), url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """Yield the URL of a new, empty Postgres database, dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    admin, base = _admin_engine()
    name = f"govflow_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(autouse=True)
def snapshot_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Give every test a snapshot store of its own (never the working tree's .govflow)."""
    store = tmp_path / "snapshots"
    monkeypatch.setenv("GOVFLOW_SNAPSHOT_URL", str(store))
    return store


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def ledger_url(request: pytest.FixtureRequest) -> str:
    """A fresh ledger database URL on each backend."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def ledger(ledger_url: str) -> Iterator[Ledger]:
    """An opened, migrated ledger."""
    opened = Ledger.open(ledger_url)
    try:
        yield opened
    finally:
        opened.dispose()


@pytest.fixture
def govflow_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> dict[str, str]:
    """Point GOVFLOW_HOME and the ledger at the test's temporary folder."""
    home = tmp_path / "home"
    monkeypatch.setenv("GOVFLOW_HOME", str(home))
    monkeypatch.setenv("GOVFLOW_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("GOVFLOW_ACTOR", "tester")
    return {
        "GOVFLOW_HOME": str(home),
        "GOVFLOW_DATABASE_URL": sqlite_url,
        "GOVFLOW_ACTOR": "tester",
    }


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def run_cli(govflow_env):
    """Run the real ``govflow`` entry point in a subprocess with the test's settings."""

    def run(*args: str, env: dict[str, str] | None = None, python_flags=()) -> Result:
        full_env = os.environ | govflow_env | (env or {})
        proc = subprocess.run(
            [sys.executable, *python_flags, "-m", "govflow.cli.main", *args],
            capture_output=True,
            text=True,
            env=full_env,
            timeout=120,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return run


@pytest.fixture
def roster(govflow_env, tmp_path) -> dict[str, Path]:
    """Add one person per role (``tests.support.gates.PEOPLE``); return their token files."""
    return add_roster(govflow_env["GOVFLOW_DATABASE_URL"], tmp_path)


@pytest.fixture
def gates(prefect_server, govflow_env) -> Iterator[GateRunner]:
    """Run the test gate flow in background threads against the session's Prefect server."""
    runner = GateRunner(govflow_env["GOVFLOW_DATABASE_URL"])
    yield runner
    runner.pool.shutdown(wait=False, cancel_futures=True)


@pytest.fixture
def flows(prefect_server, govflow_env) -> Iterator[FlowRunner]:
    """Run any flow in background threads against the session's Prefect server."""
    runner = FlowRunner(govflow_env["GOVFLOW_DATABASE_URL"])
    yield runner
    runner.pool.shutdown(wait=False, cancel_futures=True)
