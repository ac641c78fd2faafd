"""Migration 0007 moves a pre-snapshot ledger's items into Parquet snapshots.

The fixture (tests/fixtures/ledger_0004, written by make_fixture.py with the code of schema
0004) holds a registered frame, a subset by mask, records with differing keys, an empty
version, synthetic items, a round with assignments and labels, gold items, a re-annotation
queue and a quarantine.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import MetaData, create_engine, func, inspect, select, text

from govflow.errors import MigrationError
from govflow.ledger.annotations import export_assignments
from govflow.ledger.audit import verify_chain
from govflow.ledger.datasets import read_version_hashes, read_version_records
from govflow.ledger.engine import Ledger
from govflow.ledger.migrate import _config, current_revision, head_revision, upgrade_to_head
from govflow.ledger.models import AnnotationRound, Base, DatasetVersion
from tests.support.snapshots import snapshot_files

FIXTURE = Path(__file__).parents[2] / "fixtures" / "ledger_0004"
EXPECTED = json.loads((FIXTURE / "expected.json").read_text())
DROPPED = {"items", "dataset_version_items"}


def _copy_fixture(tmp_path: Path) -> str:
    shutil.copy(FIXTURE / "ledger.db", tmp_path / "ledger.db")
    return f"sqlite:///{tmp_path / 'ledger.db'}"


def _load_into_postgres(postgres_url: str) -> str:
    """Copy the fixture's rows into a Postgres ledger at revision 0004."""
    ledger = Ledger.open(postgres_url, upgrade=False)
    with ledger._write_engine.begin() as conn:
        command.upgrade(_config(conn), "0004")
    ledger.dispose()
    source = create_engine(f"sqlite:///{FIXTURE / 'ledger.db'}")
    target = create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://", 1))
    source_tables, target_tables = MetaData(), MetaData()
    source_tables.reflect(source)
    target_tables.reflect(target)
    with source.connect() as read, target.begin() as write:
        write.execute(text("DELETE FROM audit_head"))
        for table in target_tables.sorted_tables:
            if table.name == "alembic_version":
                continue
            rows = [
                dict(r._mapping) for r in read.execute(select(source_tables.tables[table.name]))
            ]
            if rows:
                write.execute(table.insert(), rows)
    source.dispose()
    target.dispose()
    return postgres_url


@pytest.fixture(params=["sqlite", "postgres"])
def old_ledger_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return _copy_fixture(tmp_path)
    return _load_into_postgres(request.getfixturevalue("postgres_url"))


def test_upgrade_moves_every_version_into_a_snapshot_and_drops_the_item_tables(
    old_ledger_url, snapshot_store
):
    ledger = Ledger.open(old_ledger_url, upgrade=False)
    assert current_revision(ledger) == EXPECTED["revision"] == "0004"

    assert upgrade_to_head(ledger) == ("0004", head_revision())

    tables = set(inspect(ledger.engine).get_table_names())
    assert tables & DROPPED == set()
    with ledger.reader() as session:
        counts = {
            t.name: session.scalar(select(func.count()).select_from(t))
            for t in Base.metadata.sorted_tables
        }
        # Tables added after 0004 start empty; every other table keeps its rows.
        assert counts == dict.fromkeys(counts, 0) | {
            k: v for k, v in EXPECTED["tables"].items() if k not in DROPPED
        }
        for version_id, want in EXPECTED["versions"].items():
            version = session.get(DatasetVersion, version_id)
            assert (version.name, version.stage, version.content_hash) == (
                want["name"],
                want["stage"],
                want["content_hash"],
            )
            assert read_version_hashes(session=session, version_id=version_id) == want["hashes"]
            assert read_version_records(session=session, version_id=version_id) == want["records"]
            assert version.origin == (
                "synthetic" if want["origins"] == ["synthetic"] else "organic"
            )
            assert version.snapshot_uri.startswith(str(snapshot_store))
        # Every version has its own rows here: one snapshot each.
        assert snapshot_files(snapshot_store) == len(EXPECTED["versions"])
        assert verify_chain(session=session).is_intact
        # Item-level governance still finds its rows: every assignment exports with its data.
        rounds = session.scalars(select(AnnotationRound.id)).all()
        exported = sum(
            len(export_assignments(session=session, round_id=r).splitlines()) for r in rounds
        )
        assert exported == EXPECTED["tables"]["assignments"]
    ledger.dispose()


def test_upgrade_refuses_a_row_altered_in_the_ledger_and_changes_nothing(tmp_path, snapshot_store):
    url = _copy_fixture(tmp_path)
    engine = create_engine(url)
    with engine.begin() as conn:
        target = conn.execute(text("SELECT content_hash FROM items LIMIT 1")).scalar_one()
        conn.execute(
            text("UPDATE items SET payload = :p WHERE content_hash = :h"),
            {"h": target, "p": '{"tampered":true}'},
        )
    engine.dispose()
    ledger = Ledger.open(url, upgrade=False)

    with pytest.raises(MigrationError, match=f"the stored row of item {target} does not match"):
        upgrade_to_head(ledger)

    assert current_revision(ledger) == "0004"
    assert {"items", "dataset_version_items"} <= set(inspect(ledger.engine).get_table_names())
    ledger.dispose()
