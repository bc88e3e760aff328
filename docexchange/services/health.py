"""Readiness: the database answers and its schema is at the newest migration."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from docexchange.domain.exchange import DeliveryState, OutboxState
from docexchange.storage.blobs import Blobs
from docexchange.storage.models import Delivery, StatusOutbox, TokenState

__all__ = [
    "DatabaseStatus",
    "alembic_config",
    "database_status",
    "head_revision",
    "operational_state",
]

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


_VERSION = text("SELECT version_num FROM alembic_version")


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
            try:  # the common case, in one cached statement
                revision = conn.execute(_VERSION).scalar()
            except SQLAlchemyError:  # no version table yet: Alembic tells (None)
                conn.rollback()
                revision = MigrationContext.configure(conn).get_current_revision()
    except SQLAlchemyError as exc:
        logger.warning("database not reachable: %s", type(exc).__name__)
        return DatabaseStatus(reachable=False, revision=None, expected=expected)
    return DatabaseStatus(reachable=True, revision=revision, expected=expected)


def operational_state(
    session: Session, blobs: Blobs, *, min_free_mib: int
) -> dict[str, tuple[str, float]]:
    """The gauges ``/metrics`` reports, read now: queues, failures, locks, free space."""

    def count(query: Any) -> float:
        return float(session.scalar(select(func.count()).select_from(query.subquery())) or 0)

    store = blobs.status(min_free_mib=min_free_mib)
    state = {
        "docexchange_deliveries_pending": (
            "Deliveries waiting to be handed over.",
            count(select(Delivery.id).where(Delivery.state == DeliveryState.PENDING)),
        ),
        "docexchange_deliveries_failed": (
            "Deliveries given up after every attempt (an admin may queue them again).",
            count(select(Delivery.id).where(Delivery.state == DeliveryState.FAILED)),
        ),
        "docexchange_status_messages_pending": (
            "Status messages waiting to be sent to peers.",
            count(select(StatusOutbox.id).where(StatusOutbox.state == OutboxState.PENDING)),
        ),
        "docexchange_tokens_locked": (
            "Tokens suspended after too many wrong PINs.",
            count(select(TokenState.label).where(TokenState.locked_at.is_not(None))),
        ),
        "docexchange_blob_store_free_bytes": (
            "Free space where the files are kept.",
            float(store.free_mib) * 1024 * 1024,
        ),
        "docexchange_blob_store_ready": ("1 when files can be written.", float(store.ready)),
    }
    session.rollback()  # a read: no transaction stays open
    return state
