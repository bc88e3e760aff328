"""Bring a database to the newest schema revision."""

from __future__ import annotations

import logging

from alembic import command
from sqlalchemy import Engine

from docexchange.services.health import alembic_config

__all__ = ["downgrade", "migrate"]

logger = logging.getLogger(__name__)


def migrate(engine: Engine, revision: str = "head") -> None:
    """Run Alembic migrations up to ``revision`` on ``engine``."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    logger.info("database migrated to %s", revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Run Alembic migrations down to ``revision`` (tests and rollbacks)."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
