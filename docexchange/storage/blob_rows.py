"""The database blob store: files as content-addressed rows (``stored_blobs``) of the same
database, so that every app server on it serves every document, and a backup or a replica
of the database carries the files with the rows that name them.

Same contract as :class:`docexchange.storage.blobs.BlobStore`: a blob is committed in a
transaction of its own before the caller's row that names it, and read back checked
against its name. An S3-compatible store would be a third class with these five methods.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from docexchange.domain.operations import BlobStoreKind
from docexchange.errors import StorageUnavailable
from docexchange.storage.base import utcnow
from docexchange.storage.blobs import StoreStatus
from docexchange.storage.models import StoredBlob

__all__ = ["DatabaseBlobStore"]

logger = logging.getLogger(__name__)


class DatabaseBlobStore:
    """Immutable blobs named by their SHA-256, in the ``stored_blobs`` table."""

    kind = BlobStoreKind.DATABASE

    def __init__(self, engine: Engine, *, spool: Path) -> None:
        self.engine = engine
        #: A local folder whose disk the health check watches (logs, temporary files).
        self.spool = spool

    def put(self, data: bytes) -> str:
        """Store ``data`` (committed at once) and return its SHA-256."""
        digest = hashlib.sha256(data).hexdigest()
        try:
            with self.engine.begin() as conn:
                exists = conn.execute(
                    select(StoredBlob.sha256).where(StoredBlob.sha256 == digest)
                ).first()
                if exists is None:
                    conn.execute(
                        insert(StoredBlob).values(
                            sha256=digest, size=len(data), data=data, created_at=utcnow()
                        )
                    )
        except IntegrityError:
            pass  # another process stored the same bytes at the same moment
        except SQLAlchemyError as exc:
            logger.error("database blob store cannot write: %s", type(exc).__name__)
            raise StorageUnavailable("storage_unavailable") from None
        return digest

    def get(self, digest: str) -> bytes:
        """The bytes stored under ``digest``, checked against it.

        :raises FileNotFoundError: nothing stored.
        :raises ValueError: the stored bytes no longer match their name.
        """
        with self.engine.connect() as conn:
            data = conn.execute(select(StoredBlob.data).where(StoredBlob.sha256 == digest)).scalar()
        if data is None:
            raise FileNotFoundError(digest)
        data = bytes(data)
        if hashlib.sha256(data).hexdigest() != digest:
            raise ValueError("blob content does not match its digest")
        return data

    def digests(self) -> Iterator[str]:
        """The digest of every stored blob."""
        with self.engine.connect() as conn:
            yield from conn.execute(select(StoredBlob.sha256).order_by(StoredBlob.sha256)).scalars()

    def status(self, *, min_free_mib: int) -> StoreStatus:
        """Whether the table answers, and the room left on the local disk; never raises."""
        try:
            with self.engine.connect() as conn:
                conn.execute(select(StoredBlob.sha256).limit(1))
            writable = True
        except SQLAlchemyError:
            writable = False
        try:
            self.spool.mkdir(parents=True, exist_ok=True)
            free = shutil.disk_usage(self.spool).free // (1024 * 1024)
        except OSError:
            free = 0
        return StoreStatus(writable=writable, free_mib=int(free), min_free_mib=min_free_mib)

    def clean_temporary(self, *, older_than: float = 0) -> int:
        """Nothing is half-written here (a row is committed whole or not at all)."""
        return 0
