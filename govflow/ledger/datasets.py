"""Sources, content-addressed dataset versions, their rows and lineage edges.

A version's rows are stored once, as a Parquet snapshot (``govflow.snapshots``); its ledger
row points to it. The snapshot is published before the ledger row is written, so no row ever
points to a snapshot that does not exist.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from govflow.domain import Origin, Relation, SourceKind, Stage
from govflow.errors import InputError, NotFound
from govflow.hashing import combine_hashes, content_hash, sha256_text
from govflow.ledger.audit import append_event
from govflow.ledger.bulk import lock_key
from govflow.ledger.models import DatasetVersion, DatasetVersionParent, Source
from govflow.ledger.version_rows import (
    StoredRows,
    find_rows,
    read_hashes,
    read_records,
    take_rows,
    write_rows,
)

__all__ = [
    "PreparedItems",
    "Registration",
    "SourceSpec",
    "count_items",
    "get_version",
    "list_versions",
    "parent_ids",
    "prepare_frame",
    "prepare_items",
    "read_version_hashes",
    "read_version_records",
    "register_dataset_version",
    "register_frame",
    "version_id_for",
]


@dataclass(frozen=True)
class PreparedItems:
    """Rows hashed once, in order: their hashes and, for new content, their encoded table.

    Without a ``table`` the rows are stored already (a subset of a registered version, items
    named by hash): registration takes them from the parents' snapshots, then from any other.
    """

    hashes: list[str]
    table: pa.Table | None = None

    def __len__(self) -> int:
        return len(self.hashes)

    @property
    def content_hash(self) -> str:
        return combine_hashes(self.hashes)

    def subset(self, keep: Sequence[bool]) -> PreparedItems:
        """Return the kept rows, in order."""
        if len(keep) != len(self.hashes):
            raise ValueError(f"mask of {len(keep)} rows for {len(self.hashes)} items")
        hashes = [h for h, kept in zip(self.hashes, keep, strict=True) if kept]
        if self.table is None or not self.table.num_columns:
            return PreparedItems(hashes=hashes)
        return PreparedItems(hashes=hashes, table=self.table.filter(pa.array(list(keep))))


def prepare_items(records: Sequence[Mapping[str, Any]]) -> PreparedItems:
    """Serialize each record canonically, hash it and encode the rows as a table."""
    from govflow.snapshots.encode import encode_records

    encoded = encode_records(list(records))
    return PreparedItems(hashes=encoded.hashes, table=encoded.table)


def prepare_frame(frame: Any) -> PreparedItems:
    """Prepare a frame's rows as ``frame_to_records`` renders them, a column at a time."""
    from govflow.snapshots.encode import encode_frame

    encoded = encode_frame(frame)
    return PreparedItems(hashes=encoded.hashes, table=encoded.table)


@dataclass(frozen=True)
class SourceSpec:
    """Where a version's data came from."""

    kind: SourceKind
    uri: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        kind = SourceKind(self.kind).value
        return "src-" + content_hash({"kind": kind, "uri": self.uri, "params": self.params})[:24]


@dataclass(frozen=True)
class Registration:
    """The outcome of registering a version: the version and whether it is new."""

    version: DatasetVersion
    is_new: bool


def version_id_for(*, name: str, stage: Stage | str, content_hash: str) -> str:
    """Return the deterministic id of the version of ``name`` at ``stage`` with this content."""
    return "dv-" + sha256_text(f"{name}\n{_stage(stage).value}\n{content_hash}")[:24]


def _stage(stage: Stage | str) -> Stage:
    try:
        return Stage(stage)
    except ValueError:
        known = ", ".join(s.value for s in Stage)
        raise InputError(f"unknown stage {stage!r}", hint=f"stages are {known}") from None


def register_frame(
    *,
    session: Session,
    frame: Any,
    name: str,
    stage: Stage | str,
    actor: str,
    parent_ids: Sequence[str] = (),
    flow_run_id: str | None = None,
    transformations: Sequence[Mapping[str, Any]] = (),
) -> tuple[DatasetVersion, list[str]]:
    """Register a frame's rows as a version (idempotent); return it and the row hashes.

    Rows are stored as ``govflow.records.frame_to_records`` renders them.
    """
    items = prepare_frame(frame)
    version = register_dataset_version(
        session=session,
        name=name,
        stage=stage,
        items=items,
        actor=actor,
        parent_ids=parent_ids,
        flow_run_id=flow_run_id,
        transformations=transformations,
    ).version
    return version, items.hashes


def register_dataset_version(
    *,
    session: Session,
    name: str,
    stage: Stage | str,
    items: PreparedItems,
    actor: str,
    source: SourceSpec | None = None,
    parent_ids: Sequence[str] = (),
    flow_run_id: str | None = None,
    origin: Origin = Origin.ORGANIC,
    transformations: Sequence[Mapping[str, Any]] = (),
    details: Mapping[str, Any] | None = None,
) -> Registration:
    """Register a dataset version; the same name, stage and content returns the existing one."""
    stage = _stage(stage)
    digest = items.content_hash
    version_id = version_id_for(name=name, stage=stage, content_hash=digest)
    lock_key(session=session, key=version_id)
    existing = session.get(DatasetVersion, version_id)
    if existing is not None:
        return Registration(version=existing, is_new=False)
    for parent_id in parent_ids:
        if session.get(DatasetVersion, parent_id) is None:
            raise NotFound("dataset version", parent_id)
    if source is not None:
        # Versions of one source may be registered concurrently (a growing folder, an API
        # whose data changed): serialize on the source so only one inserts its row.
        lock_key(session=session, key=f"source:{source.id}")
        if session.get(Source, source.id) is None:
            session.add(
                Source(
                    id=source.id,
                    kind=SourceKind(source.kind),
                    uri=source.uri,
                    params=source.params,
                )
            )
    stored = _store_rows(
        session=session,
        items=items,
        parent_ids=parent_ids,
        what=f"version {version_id} ({name} [{stage.value}])",
    )
    version = DatasetVersion(
        id=version_id,
        name=name,
        stage=stage,
        content_hash=digest,
        row_count=len(items),
        source_id=source.id if source else None,
        flow_run_id=flow_run_id,
        created_by=actor,
        transformations=[dict(t) for t in transformations],
        details=dict(details or {}),
        origin=origin,
        snapshot_uri=stored.uri,
        snapshot_sha256=stored.sha256,
        snapshot_bytes=stored.size,
        snapshot_schema=stored.schema,
    )
    session.add(version)
    session.add_all(
        DatasetVersionParent(
            version_id=version_id, parent_id=parent_id, relation=Relation.DERIVED_FROM
        )
        for parent_id in dict.fromkeys(parent_ids)
    )
    session.flush()
    append_event(
        session=session,
        actor=actor,
        action="dataset.registered",
        subject=version_id,
        details={
            "name": name,
            "stage": stage.value,
            "content_hash": digest,
            "row_count": len(items),
            "source_id": source.id if source else None,
            "parents": list(parent_ids),
            "flow_run_id": flow_run_id,
            "snapshot_sha256": stored.sha256,
        },
    )
    return Registration(version=version, is_new=True)


def _store_rows(
    *, session: Session, items: PreparedItems, parent_ids: Sequence[str], what: str
) -> StoredRows:
    """Publish the rows' snapshot; rows given by hash are taken from stored snapshots."""
    if items.table is not None:
        return write_rows(hashes=items.hashes, table=items.table, what=what)
    digest = items.content_hash
    for parent_id in parent_ids:
        parent = session.get(DatasetVersion, parent_id)
        if parent is not None and parent.content_hash == digest:
            # Every row kept, in order: the parent's snapshot holds exactly these rows.
            return StoredRows(
                uri=parent.snapshot_uri,
                sha256=parent.snapshot_sha256,
                size=parent.snapshot_bytes,
                schema=parent.snapshot_schema,
            )
    table = take_rows(session=session, hashes=items.hashes, first=parent_ids)
    if table is None:
        found = find_rows(session=session, hashes=items.hashes, first=parent_ids)
        missing = sorted(set(items.hashes) - set(found))
        if missing:
            shown = ", ".join(missing[:3]) + (" ..." if len(missing) > 3 else "")
            raise InputError(f"{len(missing)} items of {what} are in no stored version: {shown}")
        from govflow.snapshots.encode import records_table

        table = records_table([found[h] for h in items.hashes])
    return write_rows(hashes=items.hashes, table=table, what=what)


def get_version(*, session: Session, version_id: str) -> DatasetVersion:
    """Return a version by id (a unique prefix of at least 6 characters also works)."""
    version = session.get(DatasetVersion, version_id)
    if version is not None:
        return version
    if len(version_id) >= 6:
        matches = session.scalars(
            select(DatasetVersion).where(DatasetVersion.id.startswith(version_id)).limit(2)
        ).all()
        if len(matches) == 1:
            return matches[0]
    raise NotFound(
        "dataset version", version_id, hint="run `govflow datasets list` to see version ids"
    )


def list_versions(*, session: Session, name: str | None = None) -> list[DatasetVersion]:
    """Return versions, newest first, optionally for one dataset name."""
    query = select(DatasetVersion).order_by(DatasetVersion.created_at.desc(), DatasetVersion.id)
    if name is not None:
        query = query.where(DatasetVersion.name == name)
    return list(session.scalars(query))


def parent_ids(*, session: Session, version_id: str) -> list[str]:
    """Return the ids of the versions ``version_id`` was derived from."""
    return list(
        session.scalars(
            select(DatasetVersionParent.parent_id)
            .where(DatasetVersionParent.version_id == version_id)
            .order_by(DatasetVersionParent.parent_id)
        )
    )


def count_items(*, session: Session, version_id: str | None = None) -> int:
    """Count distinct stored items (over every snapshot), or the rows of one version."""
    if version_id is not None:
        return get_version(session=session, version_id=version_id).row_count
    from govflow.ledger.version_rows import distinct_hashes

    return len(distinct_hashes(session=session))


def read_version_records(*, session: Session, version_id: str) -> list[dict[str, Any]]:
    """Return a version's records in row order (read from its snapshot, checked)."""
    return read_records(get_version(session=session, version_id=version_id))


def read_version_hashes(*, session: Session, version_id: str) -> list[str]:
    """Return a version's item hashes in row order."""
    return read_hashes(get_version(session=session, version_id=version_id))
