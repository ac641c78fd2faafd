"""models under governance: model versions, evaluation suites and runs, red-team findings,
sign-offs, promotion certificates and aliases

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evaluation_suite_versions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("project", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("parent_id", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("authors", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["evaluation_suite_versions.id"],
            name=op.f("fk_evaluation_suite_versions_parent_id_evaluation_suite_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_suite_versions")),
        sa.UniqueConstraint("content_hash", name=op.f("uq_evaluation_suite_versions_content_hash")),
        sa.UniqueConstraint(
            "project", "version", name=op.f("uq_evaluation_suite_versions_project_version")
        ),
    )
    op.create_table(
        "model_versions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("project", sa.String(length=200), nullable=False),
        sa.Column("adapter", sa.String(length=32), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("training_version_id", sa.String(length=64), nullable=True),
        sa.Column("label_set", sa.JSON(), nullable=False),
        sa.Column("artifact_uri", sa.Text(), nullable=True),
        sa.Column("artifact_sha256", sa.String(length=64), nullable=True),
        sa.Column("artifact_size", sa.BigInteger(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("flow_run_id", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["training_version_id"],
            ["dataset_versions.id"],
            name=op.f("fk_model_versions_training_version_id_dataset_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_versions")),
    )
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_model_versions_project"), ["project"], unique=False)

    op.create_table(
        "evaluation_runs",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("project", sa.String(length=200), nullable=False),
        sa.Column("model_version_id", sa.String(length=64), nullable=False),
        sa.Column("suite_version_id", sa.String(length=64), nullable=False),
        sa.Column("production_model_version_id", sa.String(length=64), nullable=True),
        sa.Column("data_versions", sa.JSON(), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "govflow", "inspect_ai", name="evaluation_source", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "passed",
                "failed",
                "insufficient_evidence",
                name="evaluation_status",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("results", sa.JSON(), nullable=False),
        sa.Column("flow_run_id", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_versions.id"],
            name=op.f("fk_evaluation_runs_model_version_id_model_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["production_model_version_id"],
            ["model_versions.id"],
            name=op.f("fk_evaluation_runs_production_model_version_id_model_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["suite_version_id"],
            ["evaluation_suite_versions.id"],
            name=op.f("fk_evaluation_runs_suite_version_id_evaluation_suite_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_runs")),
    )
    with op.batch_alter_table("evaluation_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evaluation_runs_model_version_id"), ["model_version_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_evaluation_runs_project"), ["project"], unique=False)

    op.create_table(
        "promotion_certificates",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("promotion", "rollback", name="certificate_kind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("project", sa.String(length=200), nullable=False),
        sa.Column("alias", sa.String(length=64), nullable=False),
        sa.Column("model_version_id", sa.String(length=64), nullable=False),
        sa.Column("previous_model_version_id", sa.String(length=64), nullable=True),
        sa.Column("evaluation_run_id", sa.String(length=64), nullable=True),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["evaluation_run_id"],
            ["evaluation_runs.id"],
            name=op.f("fk_promotion_certificates_evaluation_run_id_evaluation_runs"),
        ),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_versions.id"],
            name=op.f("fk_promotion_certificates_model_version_id_model_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["previous_model_version_id"],
            ["model_versions.id"],
            name=op.f("fk_promotion_certificates_previous_model_version_id_model_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotion_certificates")),
    )
    with op.batch_alter_table("promotion_certificates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_promotion_certificates_project"), ["project"], unique=False
        )

    op.create_table(
        "redteam_findings",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("evaluation_run_id", sa.String(length=64), nullable=False),
        sa.Column("probe", sa.String(length=200), nullable=False),
        sa.Column("source_item_hash", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("expected_label", sa.String(length=200), nullable=False),
        sa.Column("answer", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "real_weakness",
                "invalid_probe",
                name="finding_status",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("review_task_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["evaluation_run_id"],
            ["evaluation_runs.id"],
            name=op.f("fk_redteam_findings_evaluation_run_id_evaluation_runs"),
        ),
        sa.ForeignKeyConstraint(
            ["review_task_id"],
            ["review_tasks.id"],
            name=op.f("fk_redteam_findings_review_task_id_review_tasks"),
        ),
        sa.PrimaryKeyConstraint("id", "evaluation_run_id", name=op.f("pk_redteam_findings")),
    )
    op.create_table(
        "signoffs",
        sa.Column("evaluation_run_id", sa.String(length=64), nullable=False),
        sa.Column("signer_id", sa.String(length=100), nullable=False),
        sa.Column(
            "decision",
            sa.Enum("approve", "reject", name="signoff_decision", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("waived", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("review_task_id", sa.String(length=64), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["evaluation_run_id"],
            ["evaluation_runs.id"],
            name=op.f("fk_signoffs_evaluation_run_id_evaluation_runs"),
        ),
        sa.ForeignKeyConstraint(
            ["review_task_id"],
            ["review_tasks.id"],
            name=op.f("fk_signoffs_review_task_id_review_tasks"),
        ),
        sa.ForeignKeyConstraint(
            ["signer_id"], ["people.id"], name=op.f("fk_signoffs_signer_id_people")
        ),
        sa.PrimaryKeyConstraint("evaluation_run_id", "signer_id", name=op.f("pk_signoffs")),
    )
    op.create_table(
        "model_aliases",
        sa.Column("project", sa.String(length=200), nullable=False),
        sa.Column("alias", sa.String(length=64), nullable=False),
        sa.Column("model_version_id", sa.String(length=64), nullable=False),
        sa.Column("certificate_id", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["promotion_certificates.id"],
            name=op.f("fk_model_aliases_certificate_id_promotion_certificates"),
        ),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_versions.id"],
            name=op.f("fk_model_aliases_model_version_id_model_versions"),
        ),
        sa.PrimaryKeyConstraint("project", "alias", name=op.f("pk_model_aliases")),
    )


def downgrade() -> None:
    raise NotImplementedError("govflow ledgers are upgraded forward only")
