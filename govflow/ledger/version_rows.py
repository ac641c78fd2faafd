"""A version's rows in its snapshot: write them, read them back, find items by hash.

The ledger row of a version (``DatasetVersion.snapshot_*``) says where its snapshot is and
the SHA-256 of its bytes; every read checks the bytes first, so a missing or altered
snapshot is one clear ``SnapshotError`` naming the version and the URI.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

from govflow.errors import SnapshotError
from govflow.ledger.models import DatasetVersion
from govflow.snapshots.encode import HASH_COLUMN, decode_table
from govflow.snapshots.files import read_table, snapshot_schema, write_snapshot
from govflow.snapshots.store import SnapshotStore, read_snapshot_bytes

__all__ = [
    "SnapshotProblem",
    "StoredRows",
    "distinct_hashes",
    "find_rows",
    "forget_verified",
    "known_hashes",
    "read_hashes",
    "read_records",
    "read_version_table",
    "take_rows",
    "verify_snapshots",
    "versions_containing",
    "write_rows",
]


@dataclass(frozen=True)
class StoredRows:
    """Where a version's rows were stored: the snapshot's URI, hash, size and schema."""

    uri: str
    sha256: str
    size: int
    schema: dict[str, Any]


def write_rows(
    *, hashes: Sequence[str], table: pa.Table, what: str, store: SnapshotStore | None = None
) -> StoredRows:
    """Write rows as a snapshot (named by its bytes' hash) and return where it is."""
    store = store or SnapshotStore.from_settings()
    data = write_snapshot(hashes, table)
    stored = store.publish(data, what=what)
    return StoredRows(
        uri=stored.uri, sha256=stored.sha256, size=stored.size, schema=snapshot_schema(table)
    )


def _what(version: DatasetVersion) -> str:
    return f"version {version.id} ({version.name} [{version.stage}])"


# Snapshots this process has hashed, by (URI, hash): the file's size, inode and mtime then.
# A file unchanged since needs no second full read; any change makes readers hash it again.
_VERIFIED: dict[tuple[str, str], tuple[int, int, int]] = {}


def read_version_table(
    version: DatasetVersion, *, columns: Sequence[str] | None = None
) -> pa.Table:
    """Return a version's snapshot as an Arrow table (``_hash`` first), after checking it.

    The first read in a process hashes every byte; later reads of an unchanged local file
    read only the columns asked for. ``govflow audit verify --data`` always hashes all.
    """
    uri, sha256 = version.snapshot_uri, version.snapshot_sha256
    stamp = _local_stamp(uri)
    try:
        if stamp is not None and _VERIFIED.get((uri, sha256)) == stamp:
            table = pq.read_table(uri, columns=list(columns) if columns else None)
        else:
            data = read_snapshot_bytes(uri=uri, sha256=sha256, what=_what(version))
            table = read_table(data, columns=columns)
            if stamp is not None:
                _VERIFIED[(uri, sha256)] = stamp
    except (OSError, pa.ArrowInvalid) as exc:
        raise SnapshotError(
            f"the snapshot of {_what(version)} at {uri} is not readable: {exc}"
        ) from exc
    if table.num_rows != version.row_count:
        raise SnapshotError(
            f"the snapshot of {_what(version)} at {uri} holds "
            f"{table.num_rows} rows, the ledger says {version.row_count}"
        )
    return table


def _local_stamp(uri: str) -> tuple[int, int, int] | None:
    if "://" in uri and not uri.startswith("file://"):
        return None
    try:
        found = os.stat(uri.removeprefix("file://"))
    except OSError:
        return None  # the full read reports it
    return found.st_size, found.st_ino, found.st_mtime_ns


def forget_verified() -> None:
    """Make every reader in this process hash snapshots again (``audit verify --data``)."""
    _VERIFIED.clear()


def read_records(version: DatasetVersion) -> list[dict[str, Any]]:
    """Return a version's records in row order."""
    return decode_table(read_version_table(version))


def read_hashes(version: DatasetVersion) -> list[str]:
    """Return a version's row hashes in row order."""
    return read_version_table(version, columns=[HASH_COLUMN]).column(HASH_COLUMN).to_pylist()


def _snapshots(session: Session, *, first: Sequence[str] = ()) -> list[DatasetVersion]:
    """Return one version per distinct snapshot, the versions named in ``first`` first."""
    versions = list(session.scalars(select(DatasetVersion).order_by(DatasetVersion.created_at)))
    rank = {vid: i for i, vid in enumerate(first)}
    versions.sort(key=lambda v: rank.get(v.id, len(rank)))
    seen: dict[str, DatasetVersion] = {}
    for version in versions:
        seen.setdefault(version.snapshot_sha256, version)
    return list(seen.values())


def versions_containing(*, session: Session, item_hash: str) -> list[str]:
    """Return the ids of every version holding a row with this hash, sorted."""
    holders = []
    for version in _snapshots(session):
        hashes = read_version_table(version, columns=[HASH_COLUMN]).column(HASH_COLUMN)
        if pc.any(pc.equal(hashes, item_hash)).as_py():
            holders.append(version.snapshot_sha256)
    return sorted(
        session.scalars(
            select(DatasetVersion.id).where(DatasetVersion.snapshot_sha256.in_(holders))
        )
    )


def find_rows(
    *, session: Session, hashes: Iterable[str], first: Sequence[str] = ()
) -> dict[str, dict[str, Any]]:
    """Return the stored record of each hash found in any snapshot (``first`` searched first)."""
    wanted = set(hashes)
    found: dict[str, dict[str, Any]] = {}
    for version in _snapshots(session, first=first):
        if not wanted:
            break
        table = read_version_table(version)
        column = table.column(HASH_COLUMN)
        mask = pc.is_in(column, pa.array(sorted(wanted), pa.string()))
        if not pc.any(mask).as_py():
            continue
        hits = table.filter(mask)
        for item_hash, record in zip(
            hits.column(HASH_COLUMN).to_pylist(), decode_table(hits), strict=True
        ):
            if item_hash in wanted:
                found[item_hash] = record
                wanted.discard(item_hash)
    return found


def take_rows(
    *, session: Session, hashes: Sequence[str], first: Sequence[str] = ()
) -> pa.Table | None:
    """Return rows of one snapshot holding every hash, in the order given, or None."""
    wanted = pa.array(list(hashes), pa.string())
    for version in _snapshots(session, first=first):
        column = read_version_table(version, columns=[HASH_COLUMN]).column(HASH_COLUMN)
        positions = pc.index_in(wanted, value_set=column)
        if positions.null_count:
            continue
        table = read_version_table(version)
        return table.take(positions).drop_columns([HASH_COLUMN])
    return None


@dataclass(frozen=True)
class SnapshotProblem:
    """A version whose snapshot is missing, altered or unreadable."""

    version_id: str
    uri: str
    reason: str


def verify_snapshots(*, session: Session) -> tuple[int, list[SnapshotProblem]]:
    """Hash every snapshot byte; return how many versions were checked and what failed."""
    versions = list(session.scalars(select(DatasetVersion).order_by(DatasetVersion.id)))
    forget_verified()
    problems = []
    for version in versions:
        try:
            read_version_table(version, columns=[HASH_COLUMN])
        except SnapshotError as exc:
            problems.append(
                SnapshotProblem(version_id=version.id, uri=version.snapshot_uri, reason=str(exc))
            )
    return len(versions), problems


def distinct_hashes(*, session: Session) -> set[str]:
    """Return every distinct row hash stored in any snapshot."""
    hashes: set[str] = set()
    for version in _snapshots(session):
        column = read_version_table(version, columns=[HASH_COLUMN]).column(HASH_COLUMN)
        hashes.update(pc.unique(column).to_pylist())
    return hashes


def known_hashes(*, session: Session, hashes: Iterable[str]) -> set[str]:
    """Return which of ``hashes`` some snapshot holds."""
    wanted = pa.array(sorted(set(hashes)), pa.string())
    known: set[str] = set()
    if not len(wanted):
        return known
    for version in _snapshots(session):
        column = read_version_table(version, columns=[HASH_COLUMN]).column(HASH_COLUMN)
        known.update(wanted.filter(pc.is_in(wanted, value_set=column)).to_pylist())
    return known
