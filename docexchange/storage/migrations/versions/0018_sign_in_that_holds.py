"""sign-in that holds: failed sign-ins by account and address, forced password change,
a second factor (TOTP) with recovery codes

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 15:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from docexchange.storage.base import UTCDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=200), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    op.create_index(
        "ix_login_failures_user_client_at", "login_failures", ["username", "client", "at"]
    )
    op.create_index("ix_login_failures_client_at", "login_failures", ["client", "at"])
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column(
                "must_change_password", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
        batch.add_column(sa.Column("totp_secret", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("totp_confirmed_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("recovery_codes", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        for name in ("recovery_codes", "totp_confirmed_at", "totp_secret", "must_change_password"):
            batch.drop_column(name)
    op.drop_index("ix_login_failures_client_at", table_name="login_failures")
    op.drop_index("ix_login_failures_user_client_at", table_name="login_failures")
    op.drop_table("login_failures")
