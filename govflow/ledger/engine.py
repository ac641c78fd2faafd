"""Open the ledger: engines with the right pragmas, sessions, and self-upgrading schema."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from govflow.errors import ConfigError, LedgerUnavailable

_WRITE = "govflow_write"


def mask_url(url: str) -> str:
    """Render a database URL with its password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # Take transaction control away from the sqlite3 module so that BEGIN is ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:  # type: ignore[no-untyped-def]
        # A writer takes the write lock up front: a deferred transaction that read first
        # could not upgrade later under WAL without failing with SQLITE_BUSY_SNAPSHOT.
        if conn.get_execution_options().get(_WRITE, False):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


def create_ledger_engine(url: str, *, busy_timeout_ms: int = 30_000) -> Engine:
    """Create an engine for ``url``; SQLite gets WAL, a busy timeout and real transactions."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(
            f"GOVFLOW_DATABASE_URL is not a database URL: {url!r}",
            hint="use a SQLAlchemy URL such as sqlite:///path/ledger.db "
            "or postgresql+psycopg://user@host/db",
        ) from exc
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        if parsed.get_backend_name() == "sqlite":
            database = parsed.database
            if database and database != ":memory:" and not database.startswith("file:"):
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(parsed)
            _configure_sqlite(engine, busy_timeout_ms)
        else:
            engine = create_engine(parsed, pool_pre_ping=True)
    except (NoSuchModuleError, ImportError) as exc:
        raise ConfigError(
            f"no database driver for {mask_url(url)}",
            hint="govflow supports SQLite and PostgreSQL (postgresql+psycopg://)",
        ) from exc
    except OSError as exc:
        raise LedgerUnavailable(
            f"cannot create the ledger folder for {mask_url(url)}: {exc.strerror}"
        ) from exc
    return engine


class Ledger:
    """A handle on one ledger database: sessions for readers and for writers.

    ``Ledger.open()`` upgrades the schema to the newest migration on first use in a process.
    """

    _upgraded: set[str] = set()
    _upgrade_lock = threading.Lock()

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.url = engine.url.render_as_string(hide_password=False)
        self._write_engine = engine.execution_options(**{_WRITE: True})
        self._writer = sessionmaker(self._write_engine, expire_on_commit=False)
        self._reader = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str | None = None, *, upgrade: bool = True) -> Ledger:
        """Open the ledger at ``url`` (default: from settings) and bring its schema up to date."""
        from govflow.settings import get_settings

        settings = get_settings()
        ledger = cls(
            create_ledger_engine(
                url or settings.ledger_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms
            )
        )
        if upgrade:
            ledger.ensure_schema()
        return ledger

    @property
    def masked_url(self) -> str:
        return mask_url(self.url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def ensure_schema(self) -> None:
        """Upgrade to the newest migration once per process and URL."""
        with self._upgrade_lock:
            if self.url in self._upgraded:
                return
            from govflow.ledger.migrate import upgrade_to_head

            upgrade_to_head(self)
            self._upgraded.add(self.url)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Yield a write session in one transaction: committed on success, rolled back on error."""
        with translate_db_errors(self.masked_url), self._writer.begin() as session:
            yield session

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """Yield a read-only session (no write lock on SQLite)."""
        with translate_db_errors(self.masked_url), self._reader() as session:
            yield session

    def ping(self) -> None:
        """Check that the database answers."""
        with translate_db_errors(self.masked_url), self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


@contextmanager
def translate_db_errors(masked_url: str) -> Iterator[None]:
    """Turn connection-level database failures into ``LedgerUnavailable``."""
    try:
        yield
    except DBAPIError as exc:
        if exc.connection_invalidated or _is_connect_failure(exc):
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise LedgerUnavailable(
                f"cannot reach the ledger at {masked_url}: {reason}",
                hint="check GOVFLOW_DATABASE_URL and that the database server is running",
            ) from exc
        raise


def _is_connect_failure(exc: DBAPIError) -> bool:
    message = str(exc.orig).lower() if exc.orig else ""
    needles = (
        "unable to open database",
        "connection refused",
        "could not connect",
        "connection failed",
        "no such host",
        "name or service not known",
        "authentication failed",
        "timeout expired",
    )
    missing_database = "database" in message and "does not exist" in message
    return missing_database or any(needle in message for needle in needles)
