"""role history

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 10:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import docexchange.storage.base


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('role_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('unit_code', sa.String(length=13), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('valid_from', docexchange.storage.base.UTCDateTime(), nullable=False),
    sa.Column('valid_to', docexchange.storage.base.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_role_history'))
    )
    with op.batch_alter_table('role_history', schema=None) as batch_op:
        batch_op.create_index('ix_role_history_username_role', ['username', 'role'], unique=False)
    # The roles held today, held since the account was made (no earlier history exists).
    op.execute(
        "INSERT INTO role_history (username, unit_code, role, valid_from) "
        "SELECT u.username, u.unit_code, r.role, u.created_at "
        "FROM users u JOIN user_roles r ON r.user_id = u.id"
    )


def downgrade() -> None:
    with op.batch_alter_table('role_history', schema=None) as batch_op:
        batch_op.drop_index('ix_role_history_username_role')

    op.drop_table('role_history')
