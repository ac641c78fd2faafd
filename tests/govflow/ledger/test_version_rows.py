"""Every reader of version rows checks the snapshot: missing or altered ones are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from govflow.errors import SnapshotError
from govflow.ledger.datasets import (
    count_items,
    prepare_items,
    read_version_hashes,
    read_version_records,
    register_dataset_version,
)
from govflow.ledger.version_rows import find_rows, verify_snapshots, versions_containing

RECORDS = [{"id": i, "text": f"ticket {i}"} for i in range(6)]


def _register(ledger, records=RECORDS, stage="raw", parents=()):
    items = prepare_items(records)
    with ledger.session() as session:
        version = register_dataset_version(
            session=session,
            name="tickets",
            stage=stage,
            items=items,
            actor="t",
            parent_ids=list(parents),
        ).version
        return version.id, version.snapshot_uri, items


READERS = {
    "records": lambda s, v: read_version_records(session=s, version_id=v),
    "hashes": lambda s, v: read_version_hashes(session=s, version_id=v),
    "find": lambda s, v: find_rows(session=s, hashes=["x"]),
    "contains": lambda s, v: versions_containing(session=s, item_hash="x"),
    "count": lambda s, v: count_items(session=s),
}


@pytest.mark.parametrize("reader", sorted(READERS))
def test_a_missing_snapshot_is_refused_by_every_reader(ledger, reader):
    version_id, uri, _ = _register(ledger)
    Path(uri).unlink()

    with ledger.reader() as session, pytest.raises(SnapshotError) as caught:
        READERS[reader](session, version_id)

    assert (
        str(caught.value)
        == f"the snapshot of version {version_id} (tickets [raw]) is missing at {uri}"
    )


@pytest.mark.parametrize("reader", sorted(READERS))
def test_an_altered_snapshot_is_refused_by_every_reader(ledger, reader):
    version_id, uri, _ = _register(ledger)
    data = bytearray(Path(uri).read_bytes())
    data[-20] ^= 0xFF
    Path(uri).write_bytes(bytes(data))

    with (
        ledger.reader() as session,
        pytest.raises(SnapshotError, match="does not match its recorded hash"),
    ):
        READERS[reader](session, version_id)


def test_item_lookups_answer_from_the_snapshots(ledger):
    raw_id, _, items = _register(ledger)
    child = items.subset([i % 2 == 0 for i in range(6)])
    with ledger.session() as session:
        child_id = register_dataset_version(
            session=session,
            name="tickets",
            stage="validated",
            items=child,
            actor="t",
            parent_ids=[raw_id],
        ).version.id
        kept = register_dataset_version(
            session=session,
            name="tickets",
            stage="preprocessed",
            items=type(items)(hashes=items.hashes),
            actor="t",
            parent_ids=[raw_id],
        ).version

    with ledger.reader() as session:
        assert versions_containing(session=session, item_hash=items.hashes[2]) == sorted(
            [raw_id, child_id, kept.id]
        )
        assert versions_containing(session=session, item_hash=items.hashes[1]) == sorted(
            [raw_id, kept.id]
        )
        assert find_rows(session=session, hashes=[items.hashes[4], "nope"]) == {
            items.hashes[4]: RECORDS[4]
        }
        assert read_version_records(session=session, version_id=child_id) == RECORDS[::2]
        raw = session.get(type(kept), raw_id)
        # Keeping every row reuses the parent's snapshot.
        assert kept.snapshot_sha256 == raw.snapshot_sha256
        assert verify_snapshots(session=session) == (3, [])
