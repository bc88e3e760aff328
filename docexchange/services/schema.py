"""Bring a database to the newest schema revision."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from alembic import command
from sqlalchemy import Connection, Engine

from docexchange.services.health import alembic_config

__all__ = ["downgrade", "migrate"]

logger = logging.getLogger(__name__)


@contextmanager
def _migrating(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction for Alembic.

    SQLite alters a table by copying it into a new one and dropping the old (Alembic's batch
    mode); with foreign keys enforced, dropping a table that other rows refer to fails. So
    enforcement is off while migrating, every reference is checked before the transaction
    commits, and enforcement is on again before the connection goes back to the pool.
    """
    with engine.connect() as connection:
        sqlite = engine.dialect.name == "sqlite"
        raw = connection.connection.dbapi_connection
        if sqlite and raw is not None:
            raw.execute("PRAGMA foreign_keys=OFF")  # outside a transaction, or it is ignored
        try:
            with connection.begin():
                yield connection
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"migration left broken references: {broken[:5]}")
        finally:
            if sqlite and raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")


def migrate(engine: Engine, revision: str = "head") -> None:
    """Run Alembic migrations up to ``revision`` on ``engine``."""
    config = alembic_config()
    with _migrating(engine) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    logger.info("database migrated to %s", revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Run Alembic migrations down to ``revision`` (tests and rollbacks)."""
    config = alembic_config()
    with _migrating(engine) as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
