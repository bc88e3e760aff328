"""document verification report

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 10:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import docexchange.storage.base


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('verification', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('verified_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('verified_at', docexchange.storage.base.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_column('verified_at')
        batch_op.drop_column('verified_sha256')
        batch_op.drop_column('verification')
