"""Declarative base, engine and session factories for SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, Engine, Enum, MetaData, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

from docexchange.domain.timeutil import utcnow
from docexchange.errors import ConfigurationError
from docexchange.settings import Settings

__all__ = [
    "ONLY_ON",
    "Base",
    "UTCDateTime",
    "compared_on",
    "enum_type",
    "make_engine",
    "make_sessionmaker",
    "utcnow",
]

logger = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


#: ``Index.info`` key: the one dialect an index exists on (its DDL has ``ddl_if`` too).
ONLY_ON = "only_on"


def compared_on(dialect: str) -> Callable[..., bool]:
    """Alembic's ``include_object`` for ``dialect``: leaves out of a comparison of the
    models with a database the indexes that exist only on another dialect."""

    def include(obj: object, _name: str, type_: str, _reflected: bool, _other: object) -> bool:
        only = getattr(obj, "info", {}).get(ONLY_ON) if type_ == "index" else None
        return only in (None, dialect)

    return include


class Base(DeclarativeBase):
    """Base of every table; constraint names follow one convention for migrations."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC on both databases; returns aware UTC datetimes."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def enum_type(kind: type[StrEnum], length: int = 16) -> Enum:
    """A state or kind stored as its value in a VARCHAR (no database enum type, no CHECK:
    a new member needs no migration); rows read back as members of ``kind``."""
    return Enum(
        kind,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # Let SQLAlchemy, not the driver, decide where transactions begin (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


#: True while this thread serves a request that only reads (the web layer sets it for the
#: views marked so): its SQLite transactions then begin deferred, and never wait for the
#: write lock (in WAL mode a reader sees the last commit while a writer works).
READ_ONLY: ContextVar[bool] = ContextVar("read_only", default=False)


def _sqlite_begin(connection: Any) -> None:
    # SQLite has one writer. Taking the write lock when the transaction starts, not at its
    # first write, keeps a transaction that read first from failing with SQLITE_BUSY when it
    # later writes (the audit chain reads its head and then appends). A request that only
    # reads takes no lock at all.
    connection.exec_driver_sql("BEGIN" if READ_ONLY.get() else "BEGIN IMMEDIATE")


def make_engine(settings: Settings) -> Engine:
    """Create the engine for ``settings.database_url``.

    SQLite gets foreign keys, WAL and a busy timeout; PostgreSQL gets the configured schema
    as its ``search_path``.

    :raises ConfigurationError: ``config_invalid_value`` for a bad schema name.
    """
    kwargs: dict[str, Any] = {"future": True}
    connect_args: dict[str, Any] = {}
    if settings.is_sqlite:
        if (
            settings.database_url.startswith("sqlite:///")
            and ":memory:" not in settings.database_url
        ):
            settings.instance_dir.mkdir(parents=True, exist_ok=True)
        connect_args["timeout"] = 30
    else:
        kwargs["pool_pre_ping"] = True
        if settings.database_schema:
            if not _SCHEMA_NAME.match(settings.database_schema):
                raise ConfigurationError(
                    "config_invalid_value",
                    name="DOCEXCHANGE_DATABASE_SCHEMA",
                    value=settings.database_schema,
                )
            connect_args["options"] = f"-csearch_path={settings.database_schema}"
    engine = create_engine(settings.database_url, connect_args=connect_args, **kwargs)
    if settings.is_sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (results are returned to views)."""
    return sessionmaker(bind=engine, expire_on_commit=False)
