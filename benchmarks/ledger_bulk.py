"""Bulk item inserts: govflow's ledger path against raw DB-API ``executemany``.

For each backend (SQLite always; Postgres when GOVFLOW_BENCH_POSTGRES_URL or
GOVFLOW_TEST_POSTGRES_URL is set, or 127.0.0.1:5432 answers) and each size (100k, 1M), both
sides insert the same prepared rows (content hash, canonical JSON payload) into the items and
membership tables of a freshly migrated ledger and commit. govflow's side is
``govflow.ledger.datasets.insert_items``; the baseline is the driver's ``executemany``
(sqlite3, psycopg) with plain INSERTs. Target: govflow/executemany <= 1.5x.

Also printed, for information: the full ``register_dataset_version`` call including
serialization and hashing of the records, which the baseline does not do.

Usage: .venv/bin/python benchmarks/ledger_bulk.py [--sizes 100000,1000000]
"""

from __future__ import annotations

import argparse
import os
import socket
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from govflow.ledger.datasets import (
    PreparedItems,
    insert_items,
    prepare_items,
    register_dataset_version,
)
from govflow.ledger.engine import Ledger
from govflow.ledger.models import DatasetVersion

TEXTS = ["refund not received", "app crashes on login", "how do I export", "great support!"]


def make_records(n: int) -> list[dict]:
    return [
        {"id": i, "text": f"{TEXTS[i % 4]} #{i}", "label": ("billing", "bug", "howto")[i % 3]}
        for i in range(n)
    ]


def sqlite_factory():
    folder = Path(tempfile.mkdtemp(prefix="govflow-bench-"))

    def new_url() -> str:
        return f"sqlite:///{folder / (uuid.uuid4().hex + '.db')}"

    return new_url, lambda url: None


def postgres_factory(base_url: str):
    base = make_url(base_url).set(drivername="postgresql+psycopg")
    admin = create_engine(base, isolation_level="AUTOCOMMIT")

    def new_url() -> str:
        name = f"govflow_bench_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        return base.set(database=name).render_as_string(hide_password=False)

    def drop(url: str) -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))

    return new_url, drop


def prepare_schema(url: str) -> None:
    """Migrate a fresh ledger and add the version row the membership rows refer to."""
    ledger = Ledger.open(url)
    with ledger.session() as session:
        session.add(
            DatasetVersion(
                id="dv-bench",
                name="bench",
                stage="raw",
                content_hash="0" * 64,
                row_count=0,
                created_by="bench",
            )
        )
    ledger.dispose()


def time_govflow(url: str, items: PreparedItems) -> float:
    prepare_schema(url)
    ledger = Ledger.open(url)
    start = time.perf_counter()
    with ledger.session() as session:
        insert_items(session=session, version_id="dv-bench", items=items)
    elapsed = time.perf_counter() - start
    ledger.dispose()
    return elapsed


def time_register(url: str, records: list[dict]) -> float:
    ledger = Ledger.open(url)
    start = time.perf_counter()
    with ledger.session() as session:
        register_dataset_version(
            session=session, name="bench", stage="raw", items=prepare_items(records), actor="bench"
        )
    elapsed = time.perf_counter() - start
    ledger.dispose()
    return elapsed


def time_executemany(url: str, items: PreparedItems) -> float:
    prepare_schema(url)  # the same migrated schema and version row as govflow's side
    pairs = zip(items.hashes, items.payloads, strict=True)
    item_rows = [(h, p, "organic", "dv-bench") for h, p in pairs]
    member_rows = [("dv-bench", pos, h) for pos, h in enumerate(items.hashes)]
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        import sqlite3

        conn = sqlite3.connect(parsed.database)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        marks = "?"
    else:
        import psycopg

        conn = psycopg.connect(
            host=parsed.host,
            port=parsed.port,
            user=parsed.username,
            password=parsed.password,
            dbname=parsed.database,
        )
        marks = "%s"
    start = time.perf_counter()
    cur = conn.cursor()
    cur.executemany(
        "INSERT INTO items (content_hash, payload, origin, first_version_id) "
        f"VALUES ({marks}, {marks}, {marks}, {marks})",
        item_rows,
    )
    cur.executemany(
        "INSERT INTO dataset_version_items (version_id, position, item_hash) "
        f"VALUES ({marks}, {marks}, {marks})",
        member_rows,
    )
    conn.commit()
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def postgres_url() -> str | None:
    url = os.environ.get("GOVFLOW_BENCH_POSTGRES_URL") or os.environ.get(
        "GOVFLOW_TEST_POSTGRES_URL"
    )
    if url:
        return url
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
    except OSError:
        return None
    return "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    backends = {"sqlite": sqlite_factory()}
    pg = postgres_url()
    if pg:
        backends["postgres"] = postgres_factory(pg)
    else:
        print("postgres: not reachable, skipped")
    ratios: dict[tuple[str, int], float] = {}
    for n in sizes:
        records = make_records(n)
        t0 = time.perf_counter()
        items = prepare_items(records)
        prep = time.perf_counter() - t0
        print(f"\n{n:,} rows: serialize+hash {prep:.2f} s ({n / prep:,.0f} rows/s)")
        for backend, (new_url, drop) in backends.items():
            urls = [new_url() for _ in range(3)]
            try:
                base = time_executemany(urls[0], items)
                ours = time_govflow(urls[1], items)
                full = time_register(urls[2], records)
            finally:
                for url in urls:
                    drop(url)
            ratios[(backend, n)] = ours / base
            print(
                f"  {backend:<8} executemany {base:6.2f} s ({n / base:>9,.0f} rows/s) | "
                f"govflow {ours:6.2f} s ({n / ours:>9,.0f} rows/s) | ratio {ours / base:.2f}x | "
                f"full register incl. hashing {full:6.2f} s ({n / full:>9,.0f} rows/s)"
            )
    largest = max(sizes)
    summary = ", ".join(
        f"{b} {ratios[(b, largest)]:.2f}x" for b in backends if (b, largest) in ratios
    )
    print(f"\nall backends at {largest:,} rows: {summary}")
    label = "1M" if largest == 1_000_000 else f"{largest:,}"
    print(
        f"ledger_bulk: govflow/executemany at {label} rows = "
        f"{ratios[('sqlite', largest)]:.2f}x (sqlite)"
    )


if __name__ == "__main__":
    main()
