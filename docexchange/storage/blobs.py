"""Content-addressed file store for PDFs: ``<root>/ab/cd/<sha256>``, written atomically."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

__all__ = ["BlobStore"]


class BlobStore:
    """Immutable blobs named by their SHA-256; a blob once written is never changed."""

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
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def get(self, digest: str) -> bytes:
        """The bytes stored under ``digest``, checked against it.

        :raises FileNotFoundError: nothing stored.
        :raises ValueError: the stored bytes no longer match their name.
        """
        data = self._path(digest).read_bytes()
        if hashlib.sha256(data).hexdigest() != digest:
            raise ValueError("blob content does not match its digest")
        return data
