"""Run the ledger's Alembic migrations programmatically."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from govflow.errors import MigrationError

if TYPE_CHECKING:
    from govflow.ledger.engine import Ledger

MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant works; it only has to be the same for every govflow process.
_PG_MIGRATION_LOCK = 0x60F10


def _config(connection=None):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """Return the newest migration's revision id."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(ledger: Ledger) -> str | None:
    """Return the revision the database is at, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with ledger.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _check_foreign_keys(conn) -> None:  # type: ignore[no-untyped-def]
    """Fail the migration (rolling it back) if it left a dangling reference behind."""
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        tables = ", ".join(sorted({str(row[0]) for row in broken}))
        raise MigrationError(f"the migration left rows with dangling references in {tables}")


def upgrade_to_head(ledger: Ledger) -> tuple[str | None, str]:
    """Upgrade the ledger to the newest revision; return (before, after). Idempotent."""
    from alembic import command

    from govflow.ledger.engine import translate_db_errors

    with translate_db_errors(ledger.masked_url):
        before = current_revision(ledger)
        head = head_revision()
        if before == head:
            return before, head
        try:
            with ledger._write_engine.connect() as conn:
                if ledger.dialect == "sqlite":
                    # SQLite alters a table by copying it into a new one; with foreign keys
                    # enforced, dropping the old copy fails while other tables refer to it.
                    # The pragma only takes effect outside a transaction (SQLite's rule), so
                    # it is set on the driver connection before the migration's transaction.
                    conn.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")
                try:
                    with conn.begin():
                        if ledger.dialect == "postgresql":
                            # Two processes starting on an empty database must not both migrate.
                            conn.execute(
                                text("SELECT pg_advisory_xact_lock(:k)"),
                                {"k": _PG_MIGRATION_LOCK},
                            )
                        command.upgrade(_config(conn), "head")
                        if ledger.dialect == "sqlite":
                            _check_foreign_keys(conn)
                finally:
                    if ledger.dialect == "sqlite":
                        conn.connection.driver_connection.execute("PRAGMA foreign_keys = ON")
        except DBAPIError as exc:
            raise MigrationError(
                f"cannot upgrade the ledger at {ledger.masked_url}: {exc.orig}"
            ) from exc
    return before, head
