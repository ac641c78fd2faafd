"""Sources, content-addressed dataset versions, their items and lineage edges."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govflow.domain import Relation, SourceKind, Stage
from govflow.errors import InputError, NotFound
from govflow.hashing import canonical_json, combine_hashes, content_hash, sha256_text
from govflow.ledger.audit import append_event
from govflow.ledger.bulk import insert_ignoring_conflicts, lock_key
from govflow.ledger.models import (
    DatasetVersion,
    DatasetVersionItem,
    DatasetVersionParent,
    Item,
    Origin,
    Source,
)

__all__ = [
    "PreparedItems",
    "Registration",
    "SourceSpec",
    "count_items",
    "get_version",
    "insert_items",
    "list_versions",
    "parent_ids",
    "prepare_items",
    "read_version_hashes",
    "read_version_records",
    "register_dataset_version",
    "register_frame",
    "version_id_for",
]


@dataclass(frozen=True)
class PreparedItems:
    """Records serialized once: canonical JSON payloads and their content hashes, in order.

    ``payloads`` is None for a subset of an already registered version (see ``subset``): its
    items are stored already, so only the new version's membership rows are written.
    """

    hashes: list[str]
    payloads: list[str] | None

    def __len__(self) -> int:
        return len(self.hashes)

    @property
    def content_hash(self) -> str:
        return combine_hashes(self.hashes)

    def subset(self, keep: Sequence[bool]) -> PreparedItems:
        """Return the kept rows, in order, as payload-less items of the same stored content."""
        if len(keep) != len(self.hashes):
            raise ValueError(f"mask of {len(keep)} rows for {len(self.hashes)} items")
        return PreparedItems(
            hashes=[h for h, kept in zip(self.hashes, keep, strict=True) if kept], payloads=None
        )


def prepare_items(records: Iterable[Mapping[str, Any]]) -> PreparedItems:
    """Serialize each record canonically and hash it."""
    payloads = [canonical_json(record) for record in records]
    return PreparedItems(hashes=[sha256_text(p) for p in payloads], payloads=payloads)


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
    from govflow.records import frame_to_records

    items = prepare_items(frame_to_records(frame))
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
    )
    session.add(version)
    session.add_all(
        DatasetVersionParent(
            version_id=version_id, parent_id=parent_id, relation=Relation.DERIVED_FROM
        )
        for parent_id in dict.fromkeys(parent_ids)
    )
    session.flush()
    insert_items(session=session, version_id=version_id, items=items, origin=origin)
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
        },
    )
    return Registration(version=version, is_new=True)


def insert_items(
    *, session: Session, version_id: str, items: PreparedItems, origin: Origin = Origin.ORGANIC
) -> None:
    """Store the items (once per content hash) and the version's membership rows, in bulk."""
    if items.payloads is not None:
        _insert_item_rows(session=session, version_id=version_id, items=items, origin=origin)
    insert_ignoring_conflicts(
        session=session,
        table=DatasetVersionItem.__tablename__,
        columns=("version_id", "position", "item_hash"),
        rows=[(version_id, pos, h) for pos, h in enumerate(items.hashes)],
        conflict_columns=("version_id", "position"),
    )


def _insert_item_rows(
    *, session: Session, version_id: str, items: PreparedItems, origin: Origin
) -> None:
    assert items.payloads is not None
    insert_ignoring_conflicts(
        session=session,
        table=Item.__tablename__,
        columns=("content_hash", "payload", "origin", "first_version_id"),
        rows=[
            (h, p, origin.value, version_id)
            for h, p in zip(items.hashes, items.payloads, strict=True)
        ],
        conflict_columns=("content_hash",),
    )


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
    """Count distinct stored items, or the membership rows of one version."""
    if version_id is None:
        return session.scalar(select(func.count()).select_from(Item)) or 0
    return (
        session.scalar(
            select(func.count())
            .select_from(DatasetVersionItem)
            .where(DatasetVersionItem.version_id == version_id)
        )
        or 0
    )


def read_version_records(*, session: Session, version_id: str) -> list[dict[str, Any]]:
    """Return a version's records in row order (decoded payloads)."""
    import json

    rows = session.execute(
        select(Item.payload)
        .join(DatasetVersionItem, DatasetVersionItem.item_hash == Item.content_hash)
        .where(DatasetVersionItem.version_id == version_id)
        .order_by(DatasetVersionItem.position)
    ).scalars()
    return [json.loads(payload) for payload in rows]


def read_version_hashes(*, session: Session, version_id: str) -> list[str]:
    """Return a version's item hashes in row order."""
    return list(
        session.scalars(
            select(DatasetVersionItem.item_hash)
            .where(DatasetVersionItem.version_id == version_id)
            .order_by(DatasetVersionItem.position)
        )
    )
