"""Content-addressed file store for PDFs: ``<root>/ab/cd/<sha256>``, written atomically.

A blob is written to a ``.tmp-`` file beside its place and renamed into it: a reader never
sees half a file. A full or read-only disk is a :class:`StorageUnavailable` (507), and what
was stored before stays as it was.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from docexchange.domain.operations import BlobStoreKind
from docexchange.errors import StorageUnavailable

__all__ = ["BlobStore", "Blobs", "StoreStatus"]

logger = logging.getLogger(__name__)

#: A temporary file older than this belongs to no write still under way (a write takes
#: seconds; processes killed mid-write leave theirs behind).
STALE_TMP_SECONDS = 3600


@dataclass(frozen=True)
class StoreStatus:
    """What the health check found about the blob store."""

    writable: bool
    free_mib: int
    min_free_mib: int

    @property
    def ready(self) -> bool:
        return self.writable and self.free_mib >= self.min_free_mib

    def as_dict(self) -> dict[str, object]:
        return {
            "writable": self.writable,
            "free_mib": self.free_mib,
            "min_free_mib": self.min_free_mib,
            "ready": self.ready,
        }


class Blobs(Protocol):
    """What the application asks of a blob store (filesystem, database, later S3)."""

    #: ``filesystem`` or ``database``: whether a backup copies files or the rows carry them.
    kind: BlobStoreKind

    def put(self, data: bytes) -> str: ...
    def get(self, digest: str) -> bytes: ...
    def digests(self) -> Iterator[str]: ...
    def status(self, *, min_free_mib: int) -> StoreStatus: ...
    def clean_temporary(self, *, older_than: float = ...) -> int: ...


class BlobStore:
    """Immutable blobs named by their SHA-256; a blob once written is never changed."""

    kind = BlobStoreKind.FILESYSTEM

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, digest: str) -> Path:
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError("not a SHA-256 hex digest")
        path = (self.root / digest[:2] / digest[2:4] / digest).resolve()
        if self.root not in path.parents:  # containment, belt and braces
            raise ValueError("blob path escapes the store")
        return path

    def put(self, data: bytes) -> str:
        """Store ``data`` and return its SHA-256 (a no-op when it is already stored)."""
        digest = hashlib.sha256(data).hexdigest()
        path = self._path(digest)
        if path.exists():
            return digest
        tmp = ""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException as exc:
            if tmp:
                Path(tmp).unlink(missing_ok=True)
            if isinstance(exc, OSError):  # full, read-only, gone: said plainly, nothing lost
                logger.error("blob store cannot write: %s", exc.strerror or type(exc).__name__)
                raise StorageUnavailable("storage_unavailable") from None
            raise
        return digest

    def status(self, *, min_free_mib: int) -> StoreStatus:
        """Whether a file can be written here now, and how much room is left; never raises."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.root, prefix=".tmp-probe-"):
                pass
            writable = True
        except OSError:
            writable = False
        try:
            free = shutil.disk_usage(self.root).free // (1024 * 1024)
        except OSError:
            free = 0
        return StoreStatus(writable=writable, free_mib=int(free), min_free_mib=min_free_mib)

    def clean_temporary(self, *, older_than: float = STALE_TMP_SECONDS) -> int:
        """Remove ``.tmp-`` files left by writes that never finished; how many went."""
        if not self.root.is_dir():
            return 0
        limit, removed = time.time() - older_than, 0
        for tmp in self.root.rglob(".tmp-*"):
            try:
                if tmp.stat().st_mtime < limit:
                    tmp.unlink()
                    removed += 1
            except OSError:
                continue
        if removed:
            logger.info("blob store: removed %d unfinished temporary files", removed)
        return removed

    def digests(self) -> Iterator[str]:
        """The digest of every stored blob (not the temporary files of writes under way)."""
        if not self.root.is_dir():
            return
        for path in sorted(self.root.glob("??/??/*")):
            name = path.name
            if len(name) == 64 and path.is_file() and not name.startswith(".tmp-"):
                yield name

    def get(self, digest: str) -> bytes:
        """The bytes stored under ``digest``, checked against it.

        :raises FileNotFoundError: nothing stored.
        :raises ValueError: the stored bytes no longer match their name.
        """
        data = self._path(digest).read_bytes()
        if hashlib.sha256(data).hexdigest() != digest:
            raise ValueError("blob content does not match its digest")
        return data
