"""Migrations: head equals the models; every revision goes up and down cleanly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from docexchange.services.health import alembic_config
from docexchange.services.schema import downgrade, migrate
from docexchange.storage.base import Base, compared_on, make_engine
from tests.conftest import Database, make_settings

REVISIONS = [
    rev.revision
    for rev in reversed(list(ScriptDirectory.from_config(alembic_config()).walk_revisions()))
]


@pytest.fixture
def fresh_engine(fresh_database: Database, tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(make_settings(tmp_path, fresh_database))
    yield engine
    engine.dispose()


def _revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def test_head_matches_the_models(fresh_engine: Engine) -> None:
    migrate(fresh_engine)
    with fresh_engine.connect() as conn:
        opts = {"compare_type": True, "include_object": compared_on(conn.dialect.name)}
        context = MigrationContext.configure(conn, opts=opts)
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


@pytest.mark.parametrize("revision", REVISIONS)
def test_each_revision_upgrades_and_downgrades(fresh_engine: Engine, revision: str) -> None:
    index = REVISIONS.index(revision)
    previous = REVISIONS[index - 1] if index else "base"
    if previous != "base":
        migrate(fresh_engine, previous)
    before = set(inspect(fresh_engine).get_table_names())
    migrate(fresh_engine, revision)
    assert _revision(fresh_engine) == revision
    added = set(inspect(fresh_engine).get_table_names()) - before
    assert added - {"alembic_version"} <= set(Base.metadata.tables)
    downgrade(fresh_engine, previous)
    assert _revision(fresh_engine) == (None if previous == "base" else previous)
    assert set(inspect(fresh_engine).get_table_names()) - {"alembic_version"} == before - {
        "alembic_version"
    }
    migrate(fresh_engine, revision)
    assert _revision(fresh_engine) == revision


def test_the_audit_chain_head_is_seeded(fresh_engine: Engine) -> None:
    migrate(fresh_engine)
    with fresh_engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT id, seq, hash FROM audit_head").all()
    assert rows == [(1, 0, "0" * 64)]


def test_deliveries_made_before_forwarding_name_their_sender(fresh_engine: Engine) -> None:
    """0011: ``from_code`` of existing deliveries is their document's issuer."""
    migrate(fresh_engine, "0010")
    now = "2026-11-26 08:00:00"
    with fresh_engine.begin() as conn:
        for code in ("000.00.00.H45", "000.21.12.H45"):
            conn.exec_driver_sql(
                "INSERT INTO units (code, name, abbreviation, level, created_at, updated_at) "
                f"VALUES ('{code}', 'x', 'UBND', 'province', '{now}', '{now}')"
            )
        conn.exec_driver_sql(
            "INSERT INTO documents (id, sender_code, created_by, subject, doc_type, urgency, "
            "secrecy, paper_copy, recipients, state, pages, original_sha256, current_sha256, "
            f"created_at) VALUES ('d1', '000.00.00.H45', 'u', 's', 'CV', 'normal', 'none', "
            f"false, '[]', 'issued', 1, 'a', 'a', '{now}')"
        )
        conn.exec_driver_sql(
            "INSERT INTO deliveries (id, document_id, recipient_code, consignment_id, "
            "urgency_rank, state, attempts, next_attempt_at, created_at) VALUES "
            f"('x1', 'd1', '000.21.12.H45', 'c1', 3, 'delivered', 0, '{now}', '{now}')"
        )
    migrate(fresh_engine, "0011")
    with fresh_engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT id, from_code, source_entry_id FROM deliveries").all()
    assert rows == [("x1", "000.00.00.H45", None)]
