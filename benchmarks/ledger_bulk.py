"""What registering a dataset version costs now that its rows live in a Parquet snapshot.

The ledger no longer writes a row per item: registering a version writes one
``dataset_versions`` row (plus its parents and an audit event) and one content-addressed
Parquet snapshot. This benchmark therefore compares, per backend (SQLite always; Postgres
when GOVFLOW_BENCH_POSTGRES_URL or GOVFLOW_TEST_POSTGRES_URL is set, or 127.0.0.1:5432
answers) and size (100k, 1M rows of a pandas frame):

- govflow: ``register_frame`` of the frame as a raw version into a freshly migrated ledger
  (row hashes, canonical encoding, Parquet, SHA-256 of the file, publish, ledger rows, commit);
- baseline: ``DataFrame.to_parquet`` of the same frame to a file (what storing the rows costs
  without any governance);
- derived: registering a subset of the raw version (every other row, by mask: no row is
  hashed again; its rows are taken from the parent snapshot), against ``to_parquet`` of that
  subset.

Last line: ``ledger_bulk: register/to_parquet at 1M rows = X.XXx (sqlite), derived = X.XXx,
ledger rows for both versions = N`` (N counts the dataset_versions, dataset_version_parents
and dataset.registered audit rows the two registrations wrote).

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

import numpy as np
import pandas as pd
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from govflow.ledger.datasets import PreparedItems, register_dataset_version, register_frame
from govflow.ledger.engine import Ledger
from govflow.ledger.models import AuditEvent, DatasetVersion, DatasetVersionParent

TEXTS = ["refund not received", "app crashes on login", "how do I export", "great support!"]


def make_frame(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    ids = np.arange(n)
    return pd.DataFrame(
        {
            "id": ids,
            "text": [f"{TEXTS[i % 4]} #{i}" for i in range(n)],
            "label": np.array(["billing", "bug", "howto"])[ids % 3],
            "confidence": rng.random(n).round(4),
        }
    )


def sqlite_factory(folder: Path):
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


def time_to_parquet(frame: pd.DataFrame, folder: Path) -> float:
    t0 = time.perf_counter()
    frame.to_parquet(folder / f"{uuid.uuid4().hex}.parquet", index=False)
    return time.perf_counter() - t0


def time_register(url: str, frame: pd.DataFrame) -> tuple[float, float, int]:
    """Register the frame, then every other row of it; return both times and ledger rows."""
    ledger = Ledger.open(url)
    try:
        t0 = time.perf_counter()
        with ledger.session() as session:
            raw, hashes = register_frame(
                session=session, frame=frame, name="bench", stage="raw", actor="bench"
            )
            raw_id = raw.id
        raw_s = time.perf_counter() - t0
        keep = [i % 2 == 0 for i in range(len(hashes))]
        t0 = time.perf_counter()
        with ledger.session() as session:
            register_dataset_version(
                session=session,
                name="bench",
                stage="validated",
                items=PreparedItems(hashes=hashes).subset(keep),
                actor="bench",
                parent_ids=[raw_id],
            )
        derived_s = time.perf_counter() - t0
        with ledger.reader() as session:
            rows = sum(
                session.scalar(select(func.count()).select_from(model))
                for model in (DatasetVersion, DatasetVersionParent, AuditEvent)
            )
    finally:
        ledger.dispose()
    return raw_s, derived_s, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    folder = Path(tempfile.mkdtemp(prefix="govflow-bench-"))
    os.environ["GOVFLOW_SNAPSHOT_URL"] = str(folder / "snapshots")
    backends = {"sqlite": sqlite_factory(folder)}
    pg = postgres_url()
    if pg:
        backends["postgres"] = postgres_factory(pg)
    else:
        print("postgres: not reachable, skipped")
    results: dict[tuple[str, int], tuple[float, float, int]] = {}
    for n in sizes:
        frame = make_frame(n)
        plain = time_to_parquet(frame, folder)
        subset = frame.iloc[::2]
        plain_subset = time_to_parquet(subset, folder)
        print(f"\n{n:,} rows: to_parquet {plain:.2f} s, of every other row {plain_subset:.2f} s")
        for backend, (new_url, drop) in backends.items():
            os.environ["GOVFLOW_SNAPSHOT_URL"] = str(folder / f"snapshots-{uuid.uuid4().hex}")
            url = new_url()
            try:
                raw_s, derived_s, rows = time_register(url, frame)
            finally:
                drop(url)
            results[(backend, n)] = (raw_s / plain, derived_s / plain_subset, rows)
            print(
                f"  {backend:<8} register {raw_s:6.2f} s ({n / raw_s:>9,.0f} rows/s, "
                f"{raw_s / plain:.2f}x to_parquet) | derived {derived_s:6.2f} s "
                f"({derived_s / plain_subset:.2f}x) | ledger rows {rows}"
            )
    largest = max(sizes)
    label = "1M" if largest == 1_000_000 else f"{largest:,}"
    ratio, derived, rows = results[("sqlite", largest)]
    print(
        f"ledger_bulk: register/to_parquet at {label} rows = {ratio:.2f}x (sqlite), "
        f"derived = {derived:.2f}x, ledger rows for both versions = {rows}"
    )


if __name__ == "__main__":
    main()
