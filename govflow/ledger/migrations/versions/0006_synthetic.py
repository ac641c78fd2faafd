"""synthetic data under governance: batches, per-item provenance and spot-checks, mixes

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _status() -> sa.Enum:
    return sa.Enum(
        "spot_check",
        "accepted",
        "quarantined",
        name="synthetic_status",
        native_enum=False,
        length=32,
    )


def upgrade() -> None:
    op.create_table(
        "synthetic_batches",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("project", sa.String(length=200), nullable=False),
        sa.Column("dataset", sa.String(length=200), nullable=False),
        sa.Column("source_version_id", sa.String(length=64), nullable=False),
        sa.Column("generated_version_id", sa.String(length=64), nullable=False),
        sa.Column("passed_version_id", sa.String(length=64), nullable=True),
        sa.Column("validation_run_id", sa.String(length=64), nullable=True),
        sa.Column("review_task_id", sa.String(length=64), nullable=True),
        sa.Column("plan_hash", sa.String(length=64), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("generator", sa.String(length=300), nullable=False),
        sa.Column("generator_version", sa.String(length=64), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("status", _status(), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("rows_requested", sa.Integer(), nullable=False),
        sa.Column("rows_generated", sa.Integer(), nullable=False),
        sa.Column("rows_passed", sa.Integer(), nullable=True),
        sa.Column("rows_accepted", sa.Integer(), nullable=True),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("flow_run_id", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_version_id"],
            ["dataset_versions.id"],
            name=op.f("fk_synthetic_batches_source_version_id_dataset_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["generated_version_id"],
            ["dataset_versions.id"],
            name=op.f("fk_synthetic_batches_generated_version_id_dataset_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["passed_version_id"],
            ["dataset_versions.id"],
            name=op.f("fk_synthetic_batches_passed_version_id_dataset_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["validation_run_id"],
            ["validation_runs.id"],
            name=op.f("fk_synthetic_batches_validation_run_id_validation_runs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_synthetic_batches")),
    )
    op.create_index(
        op.f("ix_synthetic_batches_project"), "synthetic_batches", ["project"], unique=False
    )
    op.create_table(
        "synthetic_items",
        sa.Column("batch_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("item_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("provenance", sa.JSON(), nullable=False),
        sa.Column("passed_checks", sa.Boolean(), nullable=False),
        sa.Column("predicted_label", sa.String(length=200), nullable=True),
        sa.Column("spot_check", sa.String(length=64), nullable=True),
        sa.Column("reviewer_id", sa.String(length=100), nullable=True),
        sa.Column("is_accepted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["synthetic_batches.id"],
            name=op.f("fk_synthetic_items_batch_id_synthetic_batches"),
        ),
        sa.PrimaryKeyConstraint("batch_id", "position", name=op.f("pk_synthetic_items")),
    )
    op.create_index(
        op.f("ix_synthetic_items_item_hash"), "synthetic_items", ["item_hash"], unique=False
    )
    op.create_table(
        "synthetic_mixes",
        sa.Column("version_id", sa.String(length=64), nullable=False),
        sa.Column("organic_version_id", sa.String(length=64), nullable=False),
        sa.Column("batch_ids", sa.JSON(), nullable=False),
        sa.Column("caps", sa.JSON(), nullable=False),
        sa.Column("shares", sa.JSON(), nullable=False),
        sa.Column("violations", sa.JSON(), nullable=False),
        sa.Column("waiver_reviewer_id", sa.String(length=100), nullable=True),
        sa.Column("waiver_reason", sa.Text(), nullable=True),
        sa.Column("waiver_review_task_id", sa.String(length=64), nullable=True),
        sa.Column("waiver_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["dataset_versions.id"],
            name=op.f("fk_synthetic_mixes_version_id_dataset_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["organic_version_id"],
            ["dataset_versions.id"],
            name=op.f("fk_synthetic_mixes_organic_version_id_dataset_versions"),
        ),
        sa.PrimaryKeyConstraint("version_id", name=op.f("pk_synthetic_mixes")),
    )


def downgrade() -> None:
    op.drop_table("synthetic_mixes")
    op.drop_index(op.f("ix_synthetic_items_item_hash"), table_name="synthetic_items")
    op.drop_table("synthetic_items")
    op.drop_index(op.f("ix_synthetic_batches_project"), table_name="synthetic_batches")
    op.drop_table("synthetic_batches")
