"""acquire() from real SQLite and Postgres tables; errors name the database by masked URL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from govflow.errors import SourceError
from govflow.ledger.engine import mask_url
from govflow.sources.acquire import acquire
from govflow.sources.config import DatasetConfig

# '%' and ':' in the query must reach the database as written (no bind-parameter parsing).
QUERY = (
    "SELECT id, text, score, created_at, is_open FROM tickets "
    "WHERE text LIKE '%' AND text <> 'a:b' ORDER BY id"
)
COLUMNS = [
    {"name": "id", "type": "integer"},
    {"name": "text", "type": "string"},
    {"name": "score", "type": "float"},
    {"name": "created_at", "type": "datetime"},
    {"name": "is_open", "type": "boolean"},
]


def config(url: str, query: str = QUERY, **options: Any) -> DatasetConfig:
    return DatasetConfig.model_validate(
        {
            "name": "tickets",
            "source": {"kind": "sql", "url": url, "query": query},
            "columns": COLUMNS,
            **options,
        }
    )


def fill(url: str, create: str, rows: list[dict[str, Any]]) -> None:
    """Create the tickets table and insert ``rows`` with a short-lived engine."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(create))
            if not rows:
                return
            conn.execute(
                text(
                    "INSERT INTO tickets (id, text, score, created_at, is_open) "
                    "VALUES (:id, :text, :score, :created_at, :is_open)"
                ),
                rows,
            )
    finally:
        engine.dispose()


def assert_checked(url: str, raw_third_row: str) -> None:
    """Check the outcome shared by both backends: rows 1, 2 and 4 pass, row 3 is quarantined."""
    result = acquire(config(url, chunk_size=2))

    assert result.quarantined == [
        {
            "source_row": 3,
            "reasons": [{"check": "wrong_type", "column": "score", "observed": "high"}],
            "raw": raw_third_row,
        }
    ]
    frame = result.frame
    assert frame["id"].tolist() == [1, 2, 4]
    assert frame["text"].tolist() == ["first", "second", "fourth"]
    assert frame["score"].tolist() == [0.5, 0.25, 1.0]
    assert frame["created_at"].tolist() == [
        pd.Timestamp("2026-01-01", tz="UTC"),
        pd.Timestamp("2026-01-02", tz="UTC"),
        pd.Timestamp("2026-01-04", tz="UTC"),
    ]
    assert frame["is_open"].tolist() == [True, False, True]
    assert frame["_source_row"].tolist() == [1, 2, 4]
    assert "_source_file" not in frame.columns
    assert result.rows_in == 4
    assert result.source.kind == "sql"
    assert result.source.uri == mask_url(url)
    assert result.source.params == {"query": QUERY}
    assert acquire(config(url)).fingerprint == result.fingerprint


def test_acquire_reads_a_sqlite_table_and_quarantines_a_wrong_type(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tickets.db'}"
    # SQLite stores whatever it is given: 'high' in a REAL column, booleans as 0/1.
    rows = [
        {"id": 1, "text": "first", "score": 0.5, "created_at": "2026-01-01T00:00:00Z",
         "is_open": 1},
        {"id": 2, "text": "second", "score": 0.25, "created_at": "2026-01-02", "is_open": 0},
        {"id": 3, "text": "third", "score": "high", "created_at": "2026-01-03 00:00:00",
         "is_open": 0},
        {"id": 4, "text": "fourth", "score": 1, "created_at": "2026-01-04T02:00:00+02:00",
         "is_open": 1},
        {"id": 5, "text": "a:b", "score": 1, "created_at": "2026-01-05", "is_open": 1},
    ]  # fmt: skip
    fill(
        url,
        "CREATE TABLE tickets (id INTEGER PRIMARY KEY, text TEXT, score REAL, "
        "created_at TEXT, is_open INTEGER)",
        rows,
    )

    assert_checked(
        url,
        '{"created_at":"2026-01-03 00:00:00","id":3,"is_open":0,"score":"high","text":"third"}',
    )


@pytest.mark.postgres
def test_acquire_reads_a_postgres_table_and_quarantines_a_wrong_type(postgres_url: str) -> None:
    def at(day: int, hour: int = 0) -> datetime:
        return datetime(2026, 1, day, hour, tzinfo=UTC)

    rows = [
        {"id": 1, "text": "first", "score": "0.5", "created_at": at(1), "is_open": True},
        {"id": 2, "text": "second", "score": "0.25", "created_at": at(2), "is_open": False},
        {"id": 3, "text": "third", "score": "high", "created_at": at(3), "is_open": False},
        {"id": 4, "text": "fourth", "score": "1", "created_at": at(4), "is_open": True},
        {"id": 5, "text": "a:b", "score": "1", "created_at": at(5), "is_open": True},
    ]
    # Postgres is strict, so the wrong type lives in a text column declared as float.
    fill(
        postgres_url,
        "CREATE TABLE tickets (id integer PRIMARY KEY, text text, score text, "
        "created_at timestamptz, is_open boolean)",
        rows,
    )

    assert_checked(
        postgres_url,
        '{"created_at":"2026-01-03T00:00:00.000000Z","id":3,"is_open":false,'
        '"score":"high","text":"third"}',
    )


def test_acquire_names_the_sqlite_database_when_the_table_is_missing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"

    with pytest.raises(SourceError) as caught:
        acquire(config(url, query="SELECT * FROM missing"))

    assert str(caught.value) == f"{url}: query failed: no such table: missing"


@pytest.mark.postgres
def test_acquire_masks_the_password_when_a_postgres_query_fails(postgres_url: str) -> None:
    # The test server trusts local connections, so any password gets in.
    url = make_url(postgres_url).set(password="s3cret-pw").render_as_string(hide_password=False)

    with pytest.raises(SourceError) as caught:
        acquire(config(url, query="SELECT * FROM missing"))

    message = str(caught.value)
    assert message == f'{mask_url(url)}: query failed: relation "missing" does not exist'
    assert "***" in message
    assert "s3cret" not in message


def test_acquire_masks_the_password_when_the_database_is_unreachable() -> None:
    url = "postgresql+psycopg://govflow:s3cret-pw@127.0.0.1:1/tickets"

    with pytest.raises(SourceError) as caught:
        acquire(config(url))

    error = caught.value
    assert error.source == "postgresql+psycopg://govflow:***@127.0.0.1:1/tickets"
    assert error.problem.startswith("cannot connect: ")
    assert "s3cret" not in str(error)


def test_acquire_returns_an_empty_typed_frame_for_a_query_without_rows(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tickets.db'}"
    fill(
        url,
        "CREATE TABLE tickets (id INTEGER, text TEXT, score REAL, created_at TEXT, "
        "is_open INTEGER)",
        [],
    )

    result = acquire(config(url))

    assert result.rows_in == 0
    assert result.quarantined == []
    assert result.notes == ["the query returned no rows"]
    assert {name: str(dtype) for name, dtype in result.frame.dtypes.items()} == {
        "id": "Int64",
        "text": "string",
        "score": "Float64",
        "created_at": "datetime64[us, UTC]",
        "is_open": "boolean",
        "_source_row": "int64",
    }


@pytest.mark.postgres
def test_acquire_quarantines_a_postgres_json_value_holding_a_surrogate(postgres_url: str) -> None:
    # The json type keeps its text as written, so "\ud800" reaches Python as a lone surrogate.
    query = (
        "SELECT 1 AS id, 'fine' AS text, '{\"a\": \"ok\"}'::json AS payload "
        "UNION ALL SELECT 2, 'bad', '{\"a\": \"x\\ud800\"}'::json ORDER BY id"
    )
    columns = [{"name": "id", "type": "integer"}, {"name": "text", "type": "string"}]

    result = acquire(config(postgres_url, query=query, columns=columns))

    assert result.frame["id"].tolist() == [1]
    assert result.quarantined == [
        {
            "source_row": 2,
            "reasons": [
                {
                    "check": "invalid_unicode",
                    "column": "payload",
                    "observed": "surrogate code point U+D800 at character 2",
                }
            ],
            "raw": '{"id":2,"payload":{"a":"x\\ud800"},"text":"bad"}',
        }
    ]
    assert acquire(config(postgres_url, query=query, columns=columns)).fingerprint == (
        result.fingerprint
    )


@pytest.mark.postgres
def test_acquire_names_the_rows_a_too_deep_postgres_json_value_stops(postgres_url: str) -> None:
    deep = (
        "SELECT id, doc::json AS text FROM (VALUES (1, '\"fine\"'), "
        "(2, repeat('[', 5000) || repeat(']', 5000))) AS t (id, doc) ORDER BY id"
    )

    with pytest.raises(SourceError) as caught:
        acquire(config(postgres_url, query=deep, chunk_size=1))

    assert str(caught.value) == (
        f"{mask_url(postgres_url)}: cannot read the rows after row 1: a JSON value is "
        "nested too deeply for Python to read"
    )
