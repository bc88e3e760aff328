"""what documents, arrivals and paper records are found by; indexes in each list's order;
the route of each arrival

Each searchable table (and the units, for a search by issuer) gets ``search_text`` (folded: no Vietnamese marks, lower case),
filled in for the rows already there; on PostgreSQL a trigram index (pg_trgm) serves
``LIKE '%word%'`` on it. The inbox, outbox and documents get an index in their list's order.
A status event of an arrival names the unit it came through (``via``).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 15:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from docexchange.domain.documents import DOC_TYPES, number_text
from docexchange.domain.search import search_text

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_TABLES = ("documents", "inbox_entries", "paper_records", "units")


def _fill(table: str, columns: tuple[str, ...], text_of: object) -> None:
    bind = op.get_bind()
    key = "code" if table == "units" else "id"
    rows = bind.execute(sa.text(f"SELECT {key}, {', '.join(columns)} FROM {table}")).all()
    update = sa.text(f"UPDATE {table} SET search_text = :text WHERE {key} = :id")
    for row in rows:
        bind.execute(update, {"id": row[0], "text": text_of(*row[1:])})  # type: ignore[operator]


def upgrade() -> None:
    with op.batch_alter_table("status_events") as batch:
        batch.add_column(sa.Column("via", sa.String(length=13), nullable=True))
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("search_text", sa.Text(), server_default="", nullable=False))
    _fill(
        "documents",
        ("doc_type", "subject", "number", "notation", "document_id"),
        lambda kind, subject, number, notation_, ref: search_text(
            DOC_TYPES.get(kind), subject, number_text(number, notation_), ref
        ),
    )
    _fill(
        "inbox_entries",
        ("doc_type", "subject", "number", "document_ref"),
        lambda kind, subject, number, ref: search_text(DOC_TYPES.get(kind), subject, number, ref),
    )
    _fill("paper_records", ("subject", "number", "counterpart"), search_text)
    _fill("units", ("name", "abbreviation"), search_text)
    op.create_index("ix_documents_sender_created", "documents", ["sender_code", "created_at"])
    op.create_index(
        "ix_inbox_recipient_order",
        "inbox_entries",
        ["recipient_code", "urgency_rank", "received_at"],
        postgresql_include=[
            "id",
            "search_text",
            "status_code",
            "doc_type",
            "sender_code",
            "forwarded_by",
            "handling_due",
            "due_date",
        ],
    )
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_index("ix_deliveries_from_code")
        batch.create_index("ix_deliveries_from_created", ["from_code", "created_at"])
    if op.get_bind().dialect.name == "postgresql":
        where = _trigram_schema()
        for table in _TABLES:
            op.create_index(
                f"ix_{table}_search_trgm",
                table,
                ["search_text"],
                postgresql_using="gin",
                postgresql_ops={"search_text": f'"{where}".gin_trgm_ops'},
            )


def _trigram_schema() -> str:
    """Where pg_trgm lives in this database, installing it in ``public`` when it is not
    there yet: never in docexchange's own schema, which a test or an operator may drop with
    everything in it (and an extension belongs to the whole database)."""
    bind = op.get_bind()
    found = bind.execute(
        sa.text(
            "SELECT n.nspname FROM pg_extension e"
            " JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'"
        )
    ).scalar()
    if found is None:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
        found = "public"
    return str(found)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _TABLES:
            op.drop_index(f"ix_{table}_search_trgm", table_name=table)
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_index("ix_deliveries_from_created")
        batch.create_index("ix_deliveries_from_code", ["from_code"])
    op.drop_index("ix_inbox_recipient_order", table_name="inbox_entries")
    op.drop_index("ix_documents_sender_created", table_name="documents")
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("search_text")
    with op.batch_alter_table("status_events") as batch:
        batch.drop_column("via")
