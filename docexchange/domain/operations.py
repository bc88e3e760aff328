"""Kinds an operator chooses between: where files are kept, which database holds the rows."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["BlobStoreKind", "DatabaseKind"]


class BlobStoreKind(StrEnum):
    """``DOCEXCHANGE_BLOB_STORE``: the instance folder, or rows of the database."""

    FILESYSTEM = "filesystem"
    DATABASE = "database"


class DatabaseKind(StrEnum):
    """The database a URL names (and a backup holds)."""

    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"

    @classmethod
    def of(cls, url: str) -> DatabaseKind:
        return cls.SQLITE if url.startswith("sqlite") else cls.POSTGRESQL
