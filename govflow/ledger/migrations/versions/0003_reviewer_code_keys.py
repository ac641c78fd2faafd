"""reviewer code keys: one-time gate codes instead of tokens in review forms

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 00:30:00

``people.code_key`` holds a key derived from each person's token that checks the one-time
codes reviewers submit at gates. It can only be derived from the token, which the ledger
never kept: people added before this revision get it when their token is next issued
(``govflow reviewers rotate-token ID``); until then their gate submissions are refused
with that instruction.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.add_column(sa.Column("code_key", sa.String(length=64), nullable=True))


def downgrade() -> None:
    raise NotImplementedError("govflow ledgers are upgraded forward only")
