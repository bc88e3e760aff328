"""Readiness: the database answers and its schema is at the newest migration."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

__all__ = ["DatabaseStatus", "alembic_config", "database_status", "head_revision"]

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "storage" / "migrations"


def alembic_config() -> Config:
    """An Alembic config pointing at our migrations (no ini file needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


@functools.cache
def head_revision() -> str | None:
    """The newest migration revision shipped with this code (read once per process: the
    files do not change under a running server, and reading them took most of /healthz)."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


@dataclass(frozen=True)
class DatabaseStatus:
    """What the readiness check found."""

    reachable: bool
    revision: str | None
    expected: str | None

    @property
    def ready(self) -> bool:
        """Reachable and migrated to head."""
        return self.reachable and self.revision == self.expected

    def as_dict(self) -> dict[str, object]:
        """For the health endpoint."""
        return {
            "reachable": self.reachable,
            "revision": self.revision,
            "expected_revision": self.expected,
            "ready": self.ready,
        }


def database_status(engine: Engine) -> DatabaseStatus:
    """Ask the database for its migration revision; never raises."""
    expected = head_revision()
    try:
        with engine.connect() as conn:
            revision = MigrationContext.configure(conn).get_current_revision()
    except SQLAlchemyError as exc:
        logger.warning("database not reachable: %s", type(exc).__name__)
        return DatabaseStatus(reachable=False, revision=None, expected=expected)
    return DatabaseStatus(reachable=True, revision=revision, expected=expected)
