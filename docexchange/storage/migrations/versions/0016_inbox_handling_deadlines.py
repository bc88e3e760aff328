"""the instruction and deadline of an assignment, and the sender's deadline, on inbox entries

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 13:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbox_entries") as batch:
        batch.add_column(sa.Column("instruction", sa.String(length=1000), nullable=True))
        batch.add_column(sa.Column("handling_due", sa.Date(), nullable=True))
        batch.add_column(sa.Column("due_date", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbox_entries") as batch:
        for name in ("due_date", "handling_due", "instruction"):
            batch.drop_column(name)
