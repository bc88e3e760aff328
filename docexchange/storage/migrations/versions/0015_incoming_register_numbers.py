"""incoming register numbers for electronic arrivals and paper received

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 13:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_TABLES = (
    ("inbox_entries", "recipient_code", "inbox_incoming_number"),
    ("paper_records", "unit_code", "paper_incoming_number"),
)


def upgrade() -> None:
    for table, unit, constraint in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("incoming_year", sa.Integer(), nullable=True))
            batch.add_column(sa.Column("incoming_number", sa.Integer(), nullable=True))
            batch.create_unique_constraint(
                constraint, [unit, "incoming_year", "incoming_number"]
            )


def downgrade() -> None:
    for table, _unit, constraint in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(constraint, type_="unique")
            batch.drop_column("incoming_number")
            batch.drop_column("incoming_year")
