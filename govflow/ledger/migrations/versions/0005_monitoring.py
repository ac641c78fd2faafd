"""production monitoring: monitoring runs, alerts, interventions, production-output reviews

The ``production`` and ``feedback`` dataset stages need no DDL: stages are stored as strings.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 02:43:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "monitoring_runs",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("project", sa.String(length=200), nullable=False),
        sa.Column("model_version_id", sa.String(length=64), nullable=False),
        sa.Column("production_version_id", sa.String(length=64), nullable=False),
        sa.Column("reference", sa.JSON(), nullable=False),
        sa.Column("config_hash", sa.String(length=64), nullable=False),
        sa.Column("is_drifted", sa.Boolean(), nullable=False),
        sa.Column("n_rows", sa.BigInteger(), nullable=False),
        sa.Column("n_to_people", sa.BigInteger(), nullable=False),
        sa.Column("results", sa.JSON(), nullable=False),
        sa.Column("flow_run_id", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_versions.id"],
            name=op.f("fk_monitoring_runs_model_version_id_model_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["production_version_id"],
            ["dataset_versions.id"],
            name=op.f("fk_monitoring_runs_production_version_id_dataset_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_runs")),
    )
    with op.batch_alter_table("monitoring_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_monitoring_runs_model_version_id"), ["model_version_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_monitoring_runs_project"), ["project"], unique=False)

    op.create_table(
        "output_reviews",
        sa.Column("production_version_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("item_hash", sa.String(length=64), nullable=False),
        sa.Column("model_version_id", sa.String(length=64), nullable=False),
        sa.Column("predicted_label", sa.String(length=200), nullable=True),
        sa.Column(
            "verdict",
            sa.Enum(
                "approved",
                "corrected",
                "withheld",
                "escalated",
                name="output_verdict",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reviewer_id", sa.String(length=100), nullable=True),
        sa.Column("review_task_id", sa.String(length=64), nullable=True),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_versions.id"],
            name=op.f("fk_output_reviews_model_version_id_model_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["production_version_id"],
            ["dataset_versions.id"],
            name=op.f("fk_output_reviews_production_version_id_dataset_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["review_task_id"],
            ["review_tasks.id"],
            name=op.f("fk_output_reviews_review_task_id_review_tasks"),
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["people.id"], name=op.f("fk_output_reviews_reviewer_id_people")
        ),
        sa.PrimaryKeyConstraint(
            "production_version_id", "position", name=op.f("pk_output_reviews")
        ),
    )
    with op.batch_alter_table("output_reviews", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_output_reviews_item_hash"), ["item_hash"], unique=False
        )

    op.create_table(
        "monitoring_alerts",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("project", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "drift",
                "expected_accuracy",
                "realized_accuracy",
                "redteam_weakness",
                "label_errors",
                name="alert_kind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("model_version_id", sa.String(length=64), nullable=True),
        sa.Column("monitoring_run_id", sa.String(length=64), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_versions.id"],
            name=op.f("fk_monitoring_alerts_model_version_id_model_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["monitoring_run_id"],
            ["monitoring_runs.id"],
            name=op.f("fk_monitoring_alerts_monitoring_run_id_monitoring_runs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_alerts")),
    )
    with op.batch_alter_table("monitoring_alerts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_monitoring_alerts_monitoring_run_id"),
            ["monitoring_run_id"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_monitoring_alerts_project"), ["project"], unique=False)

    op.create_table(
        "interventions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("project", sa.String(length=200), nullable=False),
        sa.Column("alert_id", sa.String(length=64), nullable=False),
        sa.Column(
            "trigger",
            sa.Enum(
                "drift",
                "expected_accuracy",
                "realized_accuracy",
                "redteam_weakness",
                "label_errors",
                name="alert_kind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("model_version_id", sa.String(length=64), nullable=True),
        sa.Column("slice", sa.JSON(), nullable=False),
        sa.Column("slice_version_id", sa.String(length=64), nullable=True),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column(
            "status",
            sa.Enum("open", "closed", name="intervention_status", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("reannotation_round_id", sa.String(length=64), nullable=True),
        sa.Column("suite_version_id", sa.String(length=64), nullable=True),
        sa.Column("suite_version_hash", sa.String(length=64), nullable=True),
        sa.Column("evaluation_run_id", sa.String(length=64), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["monitoring_alerts.id"],
            name=op.f("fk_interventions_alert_id_monitoring_alerts"),
        ),
        sa.ForeignKeyConstraint(
            ["evaluation_run_id"],
            ["evaluation_runs.id"],
            name=op.f("fk_interventions_evaluation_run_id_evaluation_runs"),
        ),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_versions.id"],
            name=op.f("fk_interventions_model_version_id_model_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["reannotation_round_id"],
            ["annotation_rounds.id"],
            name=op.f("fk_interventions_reannotation_round_id_annotation_rounds"),
        ),
        sa.ForeignKeyConstraint(
            ["slice_version_id"],
            ["dataset_versions.id"],
            name=op.f("fk_interventions_slice_version_id_dataset_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["suite_version_id"],
            ["evaluation_suite_versions.id"],
            name=op.f("fk_interventions_suite_version_id_evaluation_suite_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interventions")),
        sa.UniqueConstraint("alert_id", name=op.f("uq_interventions_alert_id")),
    )
    with op.batch_alter_table("interventions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_interventions_project"), ["project"], unique=False)


def downgrade() -> None:
    raise NotImplementedError("govflow ledgers are upgraded forward only")
