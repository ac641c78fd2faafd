"""Open the ledger: engines with the right pragmas, sessions, and self-upgrading schema.

A ledger opened read-only never writes, not even a pragma or a migration: SQLite opens the
file with ``mode=ro`` and ``query_only``, Postgres runs read-only transactions, and a
schema that is not the current one is refused instead of upgraded.
"""

from __future__ import annotations

import os
import re
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SAWarning
from sqlalchemy.orm import Session, sessionmaker

from govflow.errors import ConfigError, LedgerError, LedgerUnavailable, MigrationError

__all__ = [
    "Ledger",
    "create_ledger_engine",
    "mask_url",
    "translate_db_errors",
]

_WRITE = "govflow_write"


def mask_url(url: str) -> str:
    """Render a database URL with its password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def _configure_sqlite(engine: Engine, busy_timeout_ms: int, *, read_only: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # Take transaction control away from the sqlite3 module so that BEGIN is ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        if read_only:
            cursor.execute("PRAGMA query_only = ON")
        else:
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


def _refuse_memory(parsed: URL, url: str) -> None:
    database = parsed.database or ""
    in_memory = (
        database in ("", ":memory:")
        or database.startswith("file::memory:")
        or parsed.query.get("mode") == "memory"
    )
    if in_memory:
        raise ConfigError(
            f"the ledger URL {url} is an in-memory SQLite database, which keeps nothing once "
            "the command ends",
            hint="use a file, e.g. sqlite:///path/ledger.db, or unset GOVFLOW_DATABASE_URL "
            "for $GOVFLOW_HOME/ledger.db",
        )


def _require_sqlite_file(parsed: URL, masked: str) -> None:
    """Refuse to read a ledger file that does not exist (opening it would create it)."""
    database = parsed.database or ""
    if database.startswith("file:"):
        return  # an SQLite URI: SQLite itself says whether it can open it
    path = Path(os.path.abspath(database))
    if not path.is_file():
        raise LedgerUnavailable(
            f"no ledger at {masked}: {path} does not exist",
            hint="check GOVFLOW_DATABASE_URL and GOVFLOW_HOME; `govflow db upgrade` creates "
            "a new ledger",
        )


def _connect_sqlite_read_only(dialect: Any, cargs: list[Any], cparams: dict[str, Any]) -> Any:
    """Open the ledger file read-only, even where SQLite cannot create the WAL index.

    A WAL database needs its ``-shm`` file. In a folder this process cannot write, and with
    no writer holding the database open (no ``-wal`` file), SQLite can only read the file as
    immutable. The one risk, a writer starting meanwhile, can make the read fail or look
    broken; it cannot make a broken chain look intact.
    """
    target = str(cargs[0])
    if not cparams.get("uri"):
        target = "file:" + quote(target)  # pysqlite made the path absolute
    uri = f"{target}{'&' if '?' in target else '?'}mode=ro"
    params = cparams | {"uri": True}
    connection = dialect.connect(uri, *cargs[1:], **params)
    try:
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return connection
    except dialect.loaded_dbapi.OperationalError as exc:
        connection.close()
        wal = Path(unquote(target.removeprefix("file:").partition("?")[0]) + "-wal")
        if "unable to open" not in str(exc) or wal.exists():
            raise
    return dialect.connect(f"{uri}&immutable=1", *cargs[1:], **params)


def _translate_connect_errors(engine: Engine, masked: str, *, read_only: bool) -> None:
    """Make every failure to connect one clear ``GovflowError``, wherever it first happens."""
    sqlite_read_only = read_only and engine.dialect.name == "sqlite"

    @event.listens_for(engine, "do_connect")
    def _connect(dialect, _record, cargs, cparams):  # type: ignore[no-untyped-def]
        try:
            if sqlite_read_only:
                return _connect_sqlite_read_only(dialect, cargs, cparams)
            return dialect.connect(*cargs, **cparams)
        except dialect.loaded_dbapi.Error as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            if _is_bad_option(exc, reason, dialect.loaded_dbapi):
                raise ConfigError(
                    f"the ledger URL {masked} is not usable: {reason}",
                    hint="check the options in GOVFLOW_DATABASE_URL",
                ) from exc
            raise _unreachable(masked, reason) from exc


def _is_bad_option(exc: Exception, reason: str, dbapi: Any) -> bool:
    """Whether a connect failure is the URL's fault: libpq rejects bad options up front
    ('invalid connection option "x"', 'invalid sslmode value: "x"')."""
    lowered = reason.lower()
    if isinstance(exc, dbapi.ProgrammingError):
        return True
    return "invalid" in lowered and ("option" in lowered or "value" in lowered)


def create_ledger_engine(
    url: str, *, busy_timeout_ms: int = 30_000, read_only: bool = False
) -> Engine:
    """Create an engine for ``url``; SQLite gets WAL, a busy timeout and real transactions.

    With ``read_only`` the engine cannot write: SQLite opens the file read-only (it must
    exist) and Postgres runs every transaction READ ONLY.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(
            f"GOVFLOW_DATABASE_URL is not a database URL: {url!r}",
            hint="use a SQLAlchemy URL such as sqlite:///path/ledger.db "
            "or postgresql+psycopg://user@host/db",
        ) from exc
    masked = mask_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        if parsed.get_backend_name() == "sqlite":
            _refuse_memory(parsed, url)  # SQLite URLs carry no password to hide
            with _sqlite_options_checked(masked):
                engine = create_engine(parsed)
            if read_only:
                _require_sqlite_file(parsed, masked)
            elif not (parsed.database or "").startswith("file:"):
                Path(parsed.database or "").parent.mkdir(parents=True, exist_ok=True)
            _configure_sqlite(engine, busy_timeout_ms, read_only=read_only)
        else:
            options = {"postgresql_readonly": True} if read_only else {}
            engine = create_engine(parsed, pool_pre_ping=True, execution_options=options)
    except (NoSuchModuleError, ImportError) as exc:
        raise ConfigError(
            f"no database driver for {masked}",
            hint="govflow supports SQLite and PostgreSQL (postgresql+psycopg://)",
        ) from exc
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"the ledger URL {masked} has an option of the wrong type: {exc}",
            hint="check the options in GOVFLOW_DATABASE_URL",
        ) from exc
    except OSError as exc:
        raise LedgerUnavailable(
            f"cannot create the ledger folder for {masked}: {exc.strerror}"
        ) from exc
    _translate_connect_errors(engine, masked, read_only=read_only)
    return engine


@contextmanager
def _sqlite_options_checked(masked: str) -> Iterator[None]:
    """Refuse URL options SQLite would ignore (SQLAlchemy only warns about them)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("error", category=SAWarning, message="Query string argument")
        try:
            yield
        except SAWarning as exc:
            text = str(exc.args[0]) if exc.args else str(exc)
            named = re.search(r"argument\(s\) (.+?) are not accepted", text)
            raise ConfigError(
                f"the ledger URL {masked} has options SQLite does not take: "
                f"{named[1] if named else text}",
                hint="SQLite takes timeout, isolation_level, detect_types, check_same_thread "
                "and cached_statements; SQLite URI options also need uri=true",
            ) from exc


class Ledger:
    """A handle on one ledger database: sessions for readers and for writers.

    ``Ledger.open()`` upgrades the schema to the newest migration on first use in a process;
    ``Ledger.open(read_only=True)`` never writes and refuses a schema that is not current.
    """

    _upgraded: set[str] = set()
    _upgrade_lock = threading.Lock()

    def __init__(self, engine: Engine, *, read_only: bool = False) -> None:
        self.engine = engine
        self.read_only = read_only
        self.url = engine.url.render_as_string(hide_password=False)
        self._write_engine = engine.execution_options(**{_WRITE: True})
        self._writer = sessionmaker(self._write_engine, expire_on_commit=False)
        self._reader = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(
        cls, url: str | None = None, *, upgrade: bool = True, read_only: bool = False
    ) -> Ledger:
        """Open the ledger at ``url`` (default: from settings) and bring its schema up to date.

        With ``read_only``, open it without writing anything (a read-only file or database
        role is enough) and refuse, never upgrade, a schema that is not the newest;
        ``upgrade=False`` skips either step.
        """
        from govflow.settings import get_settings

        settings = get_settings()
        engine = create_ledger_engine(
            url or settings.ledger_url,
            busy_timeout_ms=settings.sqlite_busy_timeout_ms,
            read_only=read_only,
        )
        ledger = cls(engine, read_only=read_only)
        try:
            if upgrade and read_only:
                ledger.check_schema()
            elif upgrade:
                ledger.ensure_schema()
        except BaseException:
            ledger.dispose()
            raise
        return ledger

    @property
    def masked_url(self) -> str:
        return mask_url(self.url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def check_schema(self) -> None:
        """Refuse a schema that is not the newest migration (without changing anything)."""
        from govflow.ledger.migrate import current_revision, head_revision

        with translate_db_errors(self.masked_url):
            current = current_revision(self)
        head = head_revision()
        if current is None:
            raise MigrationError(
                f"the ledger at {self.masked_url} has no schema yet",
                hint="run `govflow db upgrade` with write access to create it",
            )
        if current != head:
            raise MigrationError(
                f"the ledger at {self.masked_url} is at schema revision {current}; "
                f"this govflow reads revision {head}",
                hint="run `govflow db upgrade` with write access, or the govflow that wrote it",
            )

    def ensure_schema(self) -> None:
        """Upgrade to the newest migration once per process and URL."""
        if self.read_only:
            raise LedgerError(f"the ledger at {self.masked_url} was opened read-only")
        with self._upgrade_lock:
            if self.url in self._upgraded:
                return
            from govflow.ledger.migrate import upgrade_to_head

            upgrade_to_head(self)
            self._upgraded.add(self.url)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Yield a write session in one transaction: committed on success, rolled back on error."""
        if self.read_only:
            raise LedgerError(f"the ledger at {self.masked_url} was opened read-only")
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
            raise _unreachable(masked_url, reason) from exc
        raise


def _unreachable(masked_url: str, reason: str) -> LedgerUnavailable:
    return LedgerUnavailable(
        f"cannot reach the ledger at {masked_url}: {reason}",
        hint="check GOVFLOW_DATABASE_URL and that the database server is running",
    )


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
