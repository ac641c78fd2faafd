"""Set-based bulk writes: raw driver ``executemany`` on SQLite, ``COPY`` on Postgres.

These paths bypass the ORM on purpose: a million items must cost about what the database
driver alone costs. Conflicts on content-addressed keys are ignored, which makes every bulk
write idempotent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy.orm import Session

from govflow.errors import LedgerError

__all__ = ["db_time", "insert_ignoring_conflicts", "lock_key"]

CHUNK_ROWS = 50_000


def db_time(session: Session, when: datetime) -> Any:
    """Render a timestamp for a raw bulk insert (which skips SQLAlchemy's type processing).

    SQLite stores its own text form; Postgres takes the datetime as is.
    """
    if session.connection().dialect.name == "sqlite":
        return when.strftime("%Y-%m-%d %H:%M:%S.%f")
    return when


def _chunks(rows: Sequence[tuple[Any, ...]], size: int):  # type: ignore[no-untyped-def]
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def lock_key(*, session: Session, key: str) -> None:
    """Serialize writers of the same content key until the transaction ends.

    SQLite writers already hold the database's write lock (BEGIN IMMEDIATE); on Postgres a
    transaction-scoped advisory lock keeps two processes from racing on one key.
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (key,))


def insert_ignoring_conflicts(
    *,
    session: Session,
    table: str,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    conflict_columns: Sequence[str],
) -> None:
    """Insert ``rows`` into ``table``; rows whose key already exists are skipped."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect.name
    cols = ", ".join(columns)
    if dialect == "sqlite":
        marks = ", ".join("?" for _ in columns)
        sql = f"INSERT OR IGNORE INTO {table} ({cols}) VALUES ({marks})"
        for chunk in _chunks(rows, CHUNK_ROWS):
            connection.exec_driver_sql(sql, chunk)
    elif dialect == "postgresql":
        _copy_ignoring_conflicts(session, table, columns, rows, conflict_columns)
    else:
        raise LedgerError(f"bulk writes are not supported on {dialect}; use SQLite or Postgres")


def _copy_ignoring_conflicts(
    session: Session,
    table: str,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    conflict_columns: Sequence[str],
) -> None:
    driver_connection = session.connection().connection.driver_connection
    cols = ", ".join(columns)
    staging = f"_govflow_stage_{table}"
    with driver_connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {staging} "
            f"(LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP"
        )
        cursor.execute(f"TRUNCATE {staging}")
        with cursor.copy(f"COPY {staging} ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {staging} "
            f"ON CONFLICT ({', '.join(conflict_columns)}) DO NOTHING"
        )
        cursor.execute(f"TRUNCATE {staging}")
