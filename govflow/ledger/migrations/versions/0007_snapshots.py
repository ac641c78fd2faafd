"""dataset versions as Parquet snapshots: items move out of the ledger into snapshot files

Each version's items are written, in row order, as a content-addressed Parquet snapshot in
the store named by GOVFLOW_SNAPSHOT_URL (default GOVFLOW_HOME/snapshots); its ledger row
points to it. Every payload is checked against its hash and every version against its content
hash before anything is dropped. Then ``items`` and ``dataset_version_items`` go.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 03:00:00
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from govflow.errors import MigrationError
from govflow.hashing import combine_hashes, sha256_text

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORIGIN = sa.Enum("organic", "synthetic", name="origin", native_enum=False, length=32)


def upgrade() -> None:
    with op.batch_alter_table("dataset_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("origin", ORIGIN, nullable=True))
        batch_op.add_column(sa.Column("snapshot_uri", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("snapshot_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("snapshot_bytes", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("snapshot_schema", sa.JSON(), nullable=True))
    _move_items_into_snapshots(op.get_bind())
    with op.batch_alter_table("dataset_versions", schema=None) as batch_op:
        for name in ("origin", "snapshot_uri", "snapshot_sha256", "snapshot_bytes"):
            batch_op.alter_column(name, nullable=False)
        batch_op.alter_column("snapshot_schema", nullable=False, existing_type=sa.JSON())
        batch_op.create_index(
            batch_op.f("ix_dataset_versions_snapshot_sha256"), ["snapshot_sha256"], unique=False
        )
    with op.batch_alter_table("dataset_version_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_version_items_item_hash"))
    op.drop_table("dataset_version_items")
    op.drop_table("items")


def _move_items_into_snapshots(conn: sa.Connection) -> None:
    from govflow.ledger.version_rows import write_rows
    from govflow.snapshots.encode import records_table
    from govflow.snapshots.store import SnapshotStore

    store = SnapshotStore.from_settings()
    versions = conn.execute(
        sa.text("SELECT id, name, stage, content_hash, row_count FROM dataset_versions ORDER BY id")
    ).all()
    for version_id, name, stage, digest, row_count in versions:
        rows = conn.execute(
            sa.text(
                "SELECT m.item_hash, i.payload, i.origin FROM dataset_version_items m "
                "LEFT JOIN items i ON i.content_hash = m.item_hash "
                "WHERE m.version_id = :v ORDER BY m.position"
            ),
            {"v": version_id},
        ).all()
        hashes = [row[0] for row in rows]
        for item_hash, payload, _ in rows:
            if payload is None:
                raise MigrationError(f"version {version_id}: item {item_hash} has no stored row")
            if sha256_text(payload) != item_hash:
                raise MigrationError(
                    f"version {version_id}: the stored row of item {item_hash} does not match "
                    "its hash"
                )
        if len(rows) != row_count or combine_hashes(hashes) != digest:
            raise MigrationError(
                f"version {version_id}: its {len(rows)} stored rows do not match its content "
                f"hash and row count ({row_count})"
            )
        origins = {row[2] for row in rows}
        origin = "synthetic" if origins == {"synthetic"} else "organic"
        table = records_table([json.loads(row[1]) for row in rows])
        stored = write_rows(
            hashes=hashes, table=table, what=f"version {version_id} ({name} [{stage}])", store=store
        )
        conn.execute(
            sa.text(
                "UPDATE dataset_versions SET origin = :origin, snapshot_uri = :uri, "
                "snapshot_sha256 = :sha, snapshot_bytes = :size, snapshot_schema = :schema "
                "WHERE id = :v"
            ),
            {
                "origin": origin,
                "uri": stored.uri,
                "sha": stored.sha256,
                "size": stored.size,
                "schema": json.dumps(stored.schema),
                "v": version_id,
            },
        )


def downgrade() -> None:
    from govflow.hashing import canonical_json
    from govflow.snapshots.encode import decode_table
    from govflow.snapshots.files import read_table
    from govflow.snapshots.store import read_snapshot_bytes

    op.create_table(
        "items",
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("origin", ORIGIN, nullable=False),
        sa.Column("first_version_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("content_hash", name=op.f("pk_items")),
    )
    op.create_table(
        "dataset_version_items",
        sa.Column("version_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("item_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["dataset_versions.id"],
            name=op.f("fk_dataset_version_items_version_id_dataset_versions"),
        ),
        sa.PrimaryKeyConstraint("version_id", "position", name=op.f("pk_dataset_version_items")),
    )
    with op.batch_alter_table("dataset_version_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dataset_version_items_item_hash"), ["item_hash"], unique=False
        )
    conn = op.get_bind()
    versions = conn.execute(
        sa.text(
            "SELECT id, origin, snapshot_uri, snapshot_sha256 FROM dataset_versions "
            "ORDER BY created_at, id"
        )
    ).all()
    seen: set[str] = set()
    for version_id, origin, uri, sha in versions:
        table = read_table(read_snapshot_bytes(uri=uri, sha256=sha, what=f"version {version_id}"))
        hashes = table.column("_hash").to_pylist()
        records = decode_table(table)
        new = [
            {"h": h, "p": canonical_json(r), "o": origin, "v": version_id}
            for h, r in zip(hashes, records, strict=True)
            if not (h in seen or seen.add(h))
        ]
        if new:
            conn.execute(
                sa.text(
                    "INSERT INTO items (content_hash, payload, origin, first_version_id) "
                    "VALUES (:h, :p, :o, :v)"
                ),
                new,
            )
        if hashes:
            conn.execute(
                sa.text(
                    "INSERT INTO dataset_version_items (version_id, position, item_hash) "
                    "VALUES (:v, :n, :h)"
                ),
                [{"v": version_id, "n": n, "h": h} for n, h in enumerate(hashes)],
            )
    with op.batch_alter_table("dataset_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_versions_snapshot_sha256"))
        for name in ("snapshot_schema", "snapshot_bytes", "snapshot_sha256", "snapshot_uri"):
            batch_op.drop_column(name)
        batch_op.drop_column("origin")
