"""document submission for signature and return to the drafter

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import docexchange.storage.base

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_TEXT = (
    ("submitted_to", 64),
    ("submitted_by", 64),
    ("submit_note", 1000),
    ("returned_reason", 1000),
    ("returned_by", 64),
)


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        for name, length in _TEXT:
            batch.add_column(sa.Column(name, sa.String(length=length), nullable=True))
        for name in ("submitted_at", "returned_at"):
            batch.add_column(
                sa.Column(name, docexchange.storage.base.UTCDateTime(), nullable=True)
            )
        batch.create_index(batch.f("ix_documents_submitted_to"), ["submitted_to"])


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_index(batch.f("ix_documents_submitted_to"))
        for name in ("submitted_at", "returned_at"):
            batch.drop_column(name)
        for name, _length in reversed(_TEXT):
            batch.drop_column(name)
