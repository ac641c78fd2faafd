"""typed states: enums for status and kind columns, the wait state machine in columns

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 23:00:00

Status and kind columns become enums (stored as the same strings, so existing values stay
valid; a value outside the enum stops the upgrade with the value named). The state machine
that lived in JSON ``details`` moves to typed columns, upgraded in place:

- ``review_tasks.attempt`` and ``last_rejection`` (were ``details.attempt`` and
  ``details.last_rejection``);
- ``annotation_rounds.kind``, ``waits`` and ``flow_run_id`` (were ``details.kind``,
  ``details.waits`` and ``details.flow_run_id``); a calibration round's list of people moves
  from ``details.annotators`` to ``details.people``;
- ``assignments.superseded`` (was the ``details.superseded`` list of [item, annotator]).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from govflow.errors import MigrationError

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The enums as they are at this revision (a migration must not follow later code changes).
ENUMS: dict[tuple[str, str], tuple[str, tuple[str, ...], int]] = {
    ("sources", "kind"): ("source_kind", ("file", "http", "sql"), 32),
    ("dataset_versions", "stage"): (
        "stage",
        (
            "raw",
            "validated",
            "preprocessed",
            "curated",
            "annotated",
            "labeled",
            "reannotation",
            "calibration",
        ),
        64,
    ),
    ("dataset_version_parents", "relation"): ("relation", ("derived_from",), 64),
    ("guideline_versions", "status"): ("guideline_status", ("published", "draft"), 32),
    ("annotation_rounds", "status"): (
        "round_status",
        ("open", "collecting", "collected"),
        32,
    ),
    ("annotation_rounds", "deadline_policy"): ("deadline_policy", ("proceed", "reassign"), 32),
    ("review_tasks", "kind"): (
        "review_kind",
        (
            "contested_annotation",
            "edge_case",
            "production_output",
            "validation_failure",
            "synthetic_sample",
            "evaluation_signoff",
            "promotion_approval",
        ),
        64,
    ),
    ("review_tasks", "status"): ("gate_status", ("open", "decided", "timed_out"), 32),
    ("review_decisions", "outcome"): ("outcome", ("decided", "timed_out"), 32),
}
OLD_LENGTH = {
    ("dataset_versions", "stage"): 64,
    ("dataset_version_parents", "relation"): 64,
    ("review_tasks", "kind"): 64,
}


def _enum(name: str, values: tuple[str, ...], length: int) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=length)


def _check_values(conn: sa.Connection) -> None:
    for (table, column), (_, values, _) in ENUMS.items():
        found = {
            row[0]
            for row in conn.execute(sa.text(f"SELECT DISTINCT {column} FROM {table}"))
            if row[0] is not None
        }
        unknown = sorted(found - set(values))
        if unknown:
            raise MigrationError(
                f"{table}.{column} holds values govflow does not know: {', '.join(unknown)} "
                f"(allowed: {', '.join(values)}); correct them, then upgrade again"
            )


def _move_review_state(conn: sa.Connection) -> None:
    tasks = sa.table(
        "review_tasks",
        sa.column("id", sa.String),
        sa.column("details", sa.JSON),
        sa.column("attempt", sa.Integer),
        sa.column("last_rejection", sa.Text),
    )
    for task_id, details in conn.execute(sa.select(tasks.c.id, tasks.c.details)).all():
        details = dict(details or {})
        attempt = int(details.pop("attempt", 1))
        rejection = details.pop("last_rejection", None)
        conn.execute(
            tasks.update()
            .where(tasks.c.id == task_id)
            .values(details=details, attempt=attempt, last_rejection=rejection)
        )


def _move_round_state(conn: sa.Connection) -> None:
    rounds = sa.table(
        "annotation_rounds",
        sa.column("id", sa.String),
        sa.column("details", sa.JSON),
        sa.column("kind", sa.String),
        sa.column("waits", sa.Integer),
        sa.column("flow_run_id", sa.String),
    )
    assignments = sa.table(
        "assignments",
        sa.column("round_id", sa.String),
        sa.column("item_hash", sa.String),
        sa.column("annotator_id", sa.String),
        sa.column("superseded", sa.Boolean),
    )
    for round_id, details in conn.execute(sa.select(rounds.c.id, rounds.c.details)).all():
        details = dict(details or {})
        kind = details.pop("kind", "annotation")
        if kind == "calibration" and isinstance(details.get("annotators"), list):
            details["people"] = details.pop("annotators")
        waits = int(details.pop("waits", 0))
        flow_run_id = details.pop("flow_run_id", None)
        for item_hash, annotator_id in details.pop("superseded", []):
            conn.execute(
                assignments.update()
                .where(
                    assignments.c.round_id == round_id,
                    assignments.c.item_hash == item_hash,
                    assignments.c.annotator_id == annotator_id,
                )
                .values(superseded=True)
            )
        conn.execute(
            rounds.update()
            .where(rounds.c.id == round_id)
            .values(details=details, kind=kind, waits=waits, flow_run_id=flow_run_id)
        )


def upgrade() -> None:
    conn = op.get_bind()
    _check_values(conn)
    with op.batch_alter_table("review_tasks") as batch:
        batch.add_column(sa.Column("attempt", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("last_rejection", sa.Text(), nullable=True))
    with op.batch_alter_table("annotation_rounds") as batch:
        batch.add_column(
            sa.Column(
                "kind",
                _enum("round_kind", ("annotation", "calibration"), 32),
                nullable=False,
                server_default="annotation",
            )
        )
        batch.add_column(sa.Column("waits", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("flow_run_id", sa.String(length=64), nullable=True))
    with op.batch_alter_table("assignments") as batch:
        batch.add_column(
            sa.Column("superseded", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    _move_review_state(conn)
    _move_round_state(conn)
    tables: dict[str, list[tuple[str, sa.Enum, int]]] = {}
    for (table, column), (name, values, length) in ENUMS.items():
        old = OLD_LENGTH.get((table, column), 32)
        tables.setdefault(table, []).append((column, _enum(name, values, length), old))
    for table, columns in tables.items():
        with op.batch_alter_table(table) as batch:
            for column, new_type, old_length in columns:
                batch.alter_column(
                    column,
                    existing_type=sa.String(length=old_length),
                    type_=new_type,
                    existing_nullable=False,
                )


def downgrade() -> None:
    raise NotImplementedError("govflow ledgers are upgraded forward only")
