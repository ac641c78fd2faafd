"""initial ledger schema

Revision ID: 0001
Revises: -
Create Date: 2026-11-27 19:12:34.750224
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_events_hash")),
        sa.UniqueConstraint("prev_hash", name=op.f("uq_audit_events_prev_hash")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_subject"), ["subject"], unique=False)

    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.create_table(
        "gold_items",
        sa.Column("project", sa.String(length=200), nullable=False),
        sa.Column("item_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("project", "item_hash", name=op.f("pk_gold_items")),
    )
    op.create_table(
        "guideline_versions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("project", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("label_set", sa.JSON(), nullable=False),
        sa.Column("is_ordinal", sa.Boolean(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("examples", sa.JSON(), nullable=False),
        sa.Column("changelog", sa.Text(), nullable=False),
        sa.Column("parent_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("prompted_by", sa.String(length=200), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["guideline_versions.id"],
            name=op.f("fk_guideline_versions_parent_id_guideline_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guideline_versions")),
        sa.UniqueConstraint(
            "project", "version", name=op.f("uq_guideline_versions_project_version")
        ),
    )
    op.create_table(
        "items",
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column(
            "origin",
            sa.Enum("organic", "synthetic", name="origin", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("first_version_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("content_hash", name=op.f("pk_items")),
    )
    op.create_table(
        "people",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "disabled",
                "needs_calibration",
                name="person_status",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
    )
    op.create_table(
        "sources",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("uri", sa.Text(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sources")),
    )
    op.create_table(
        "dataset_versions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("stage", sa.String(length=64), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=True),
        sa.Column("flow_run_id", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("transformations", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_dataset_versions_source_id_sources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_versions")),
        sa.UniqueConstraint(
            "name",
            "stage",
            "content_hash",
            name=op.f("uq_dataset_versions_name_stage_content_hash"),
        ),
    )
    with op.batch_alter_table("dataset_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dataset_versions_name"), ["name"], unique=False)

    op.create_table(
        "annotation_rounds",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("project", sa.String(length=200), nullable=False),
        sa.Column("dataset_version_id", sa.String(length=64), nullable=False),
        sa.Column("guideline_version_id", sa.String(length=64), nullable=False),
        sa.Column("overlap", sa.Integer(), nullable=False),
        sa.Column("gold_rate", sa.Double(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deadline_policy", sa.String(length=32), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_version_id"],
            ["dataset_versions.id"],
            name=op.f("fk_annotation_rounds_dataset_version_id_dataset_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["guideline_version_id"],
            ["guideline_versions.id"],
            name=op.f("fk_annotation_rounds_guideline_version_id_guideline_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annotation_rounds")),
    )
    with op.batch_alter_table("annotation_rounds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_annotation_rounds_project"), ["project"], unique=False)

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

    op.create_table(
        "dataset_version_parents",
        sa.Column("version_id", sa.String(length=64), nullable=False),
        sa.Column("parent_id", sa.String(length=64), nullable=False),
        sa.Column("relation", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["dataset_versions.id"],
            name=op.f("fk_dataset_version_parents_parent_id_dataset_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["dataset_versions.id"],
            name=op.f("fk_dataset_version_parents_version_id_dataset_versions"),
        ),
        sa.PrimaryKeyConstraint("version_id", "parent_id", name=op.f("pk_dataset_version_parents")),
    )
    with op.batch_alter_table("dataset_version_parents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dataset_version_parents_parent_id"), ["parent_id"], unique=False
        )

    op.create_table(
        "review_tasks",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("flow_run_id", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("dataset_version_id", sa.String(length=64), nullable=True),
        sa.Column("guideline_version_id", sa.String(length=64), nullable=True),
        sa.Column("payload_hash", sa.String(length=64), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_version_id"],
            ["dataset_versions.id"],
            name=op.f("fk_review_tasks_dataset_version_id_dataset_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["guideline_version_id"],
            ["guideline_versions.id"],
            name=op.f("fk_review_tasks_guideline_version_id_guideline_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_tasks")),
    )
    with op.batch_alter_table("review_tasks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_review_tasks_flow_run_id"), ["flow_run_id"], unique=False
        )

    op.create_table(
        "validation_runs",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("dataset_version_id", sa.String(length=64), nullable=False),
        sa.Column("suite_name", sa.String(length=200), nullable=False),
        sa.Column("suite_hash", sa.String(length=64), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("expectations_evaluated", sa.Integer(), nullable=False),
        sa.Column("rows_in", sa.BigInteger(), nullable=False),
        sa.Column("rows_passed", sa.BigInteger(), nullable=False),
        sa.Column("rows_quarantined", sa.BigInteger(), nullable=False),
        sa.Column("statistics", sa.JSON(), nullable=False),
        sa.Column("flow_run_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_version_id"],
            ["dataset_versions.id"],
            name=op.f("fk_validation_runs_dataset_version_id_dataset_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_validation_runs")),
    )
    with op.batch_alter_table("validation_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_validation_runs_dataset_version_id"),
            ["dataset_version_id"],
            unique=False,
        )

    op.create_table(
        "annotations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("round_id", sa.String(length=64), nullable=False),
        sa.Column("dataset_version_id", sa.String(length=64), nullable=False),
        sa.Column("item_hash", sa.String(length=64), nullable=False),
        sa.Column("annotator_id", sa.String(length=100), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("guideline_version_id", sa.String(length=64), nullable=False),
        sa.Column("is_excluded", sa.Boolean(), nullable=False),
        sa.Column("exclusion_reason", sa.Text(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["annotator_id"], ["people.id"], name=op.f("fk_annotations_annotator_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["dataset_version_id"],
            ["dataset_versions.id"],
            name=op.f("fk_annotations_dataset_version_id_dataset_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["guideline_version_id"],
            ["guideline_versions.id"],
            name=op.f("fk_annotations_guideline_version_id_guideline_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["annotation_rounds.id"],
            name=op.f("fk_annotations_round_id_annotation_rounds"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annotations")),
        sa.UniqueConstraint(
            "round_id",
            "item_hash",
            "annotator_id",
            name=op.f("uq_annotations_round_id_item_hash_annotator_id"),
        ),
    )
    with op.batch_alter_table("annotations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_annotations_item_hash"), ["item_hash"], unique=False)

    op.create_table(
        "assignments",
        sa.Column("round_id", sa.String(length=64), nullable=False),
        sa.Column("item_hash", sa.String(length=64), nullable=False),
        sa.Column("annotator_id", sa.String(length=100), nullable=False),
        sa.Column("is_gold", sa.Boolean(), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["annotator_id"], ["people.id"], name=op.f("fk_assignments_annotator_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["annotation_rounds.id"],
            name=op.f("fk_assignments_round_id_annotation_rounds"),
        ),
        sa.PrimaryKeyConstraint(
            "round_id", "item_hash", "annotator_id", name=op.f("pk_assignments")
        ),
    )
    op.create_table(
        "quarantined_rows",
        sa.Column("validation_run_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("item_hash", sa.String(length=64), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["validation_run_id"],
            ["validation_runs.id"],
            name=op.f("fk_quarantined_rows_validation_run_id_validation_runs"),
        ),
        sa.PrimaryKeyConstraint("validation_run_id", "position", name=op.f("pk_quarantined_rows")),
    )
    op.create_table(
        "review_decisions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("review_task_id", sa.String(length=64), nullable=False),
        sa.Column("item_key", sa.String(length=200), nullable=False),
        sa.Column("choice", sa.String(length=200), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("reviewer_id", sa.String(length=100), nullable=True),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("guideline_version_id", sa.String(length=64), nullable=True),
        sa.Column("payload_hash", sa.String(length=64), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["guideline_version_id"],
            ["guideline_versions.id"],
            name=op.f("fk_review_decisions_guideline_version_id_guideline_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["review_task_id"],
            ["review_tasks.id"],
            name=op.f("fk_review_decisions_review_task_id_review_tasks"),
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["people.id"], name=op.f("fk_review_decisions_reviewer_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_decisions")),
        sa.UniqueConstraint(
            "review_task_id", "item_key", name=op.f("uq_review_decisions_review_task_id_item_key")
        ),
    )
    with op.batch_alter_table("review_decisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_review_decisions_review_task_id"), ["review_task_id"], unique=False
        )

    op.create_table(
        "waivers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("validation_run_id", sa.String(length=64), nullable=False),
        sa.Column("expectation", sa.String(length=300), nullable=False),
        sa.Column("reviewer_id", sa.String(length=100), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("review_task_id", sa.String(length=64), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["review_task_id"],
            ["review_tasks.id"],
            name=op.f("fk_waivers_review_task_id_review_tasks"),
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["people.id"], name=op.f("fk_waivers_reviewer_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["validation_run_id"],
            ["validation_runs.id"],
            name=op.f("fk_waivers_validation_run_id_validation_runs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waivers")),
        sa.UniqueConstraint(
            "validation_run_id",
            "expectation",
            name=op.f("uq_waivers_validation_run_id_expectation"),
        ),
    )
    with op.batch_alter_table("waivers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_waivers_validation_run_id"), ["validation_run_id"], unique=False
        )

    # The chain starts at a genesis hash; every append locks and advances this one row.
    op.bulk_insert(
        sa.table("audit_head", sa.column("id"), sa.column("seq"), sa.column("hash")),
        [{"id": 1, "seq": 0, "hash": "0" * 64}],
    )


def downgrade() -> None:
    with op.batch_alter_table("waivers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_waivers_validation_run_id"))

    op.drop_table("waivers")
    with op.batch_alter_table("review_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_decisions_review_task_id"))

    op.drop_table("review_decisions")
    op.drop_table("quarantined_rows")
    op.drop_table("assignments")
    with op.batch_alter_table("annotations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_annotations_item_hash"))

    op.drop_table("annotations")
    with op.batch_alter_table("validation_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_validation_runs_dataset_version_id"))

    op.drop_table("validation_runs")
    with op.batch_alter_table("review_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_tasks_flow_run_id"))

    op.drop_table("review_tasks")
    with op.batch_alter_table("dataset_version_parents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_version_parents_parent_id"))

    op.drop_table("dataset_version_parents")
    with op.batch_alter_table("dataset_version_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_version_items_item_hash"))

    op.drop_table("dataset_version_items")
    with op.batch_alter_table("annotation_rounds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_annotation_rounds_project"))

    op.drop_table("annotation_rounds")
    with op.batch_alter_table("dataset_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_versions_name"))

    op.drop_table("dataset_versions")
    op.drop_table("sources")
    op.drop_table("people")
    op.drop_table("items")
    op.drop_table("guideline_versions")
    op.drop_table("gold_items")
    op.drop_table("audit_head")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_subject"))
        batch_op.drop_index(batch_op.f("ix_audit_events_action"))

    op.drop_table("audit_events")
