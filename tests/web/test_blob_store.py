"""The database blob store (PostgreSQL): two app servers with different instance folders on
one database serve each other's documents; a blob is one row, checked when read. On SQLite
the configuration refuses it (one file serves one machine, whose folder holds the files)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from docexchange.errors import ConfigurationError
from docexchange.services.container import Services
from docexchange.settings import Settings
from docexchange.storage.blob_rows import DatabaseBlobStore
from docexchange.storage.models import StoredBlob
from docexchange.web.app import create_app
from tests.data.samples import make_pdf
from tests.web.test_documents import upload


def _refused_on_sqlite(services: Services) -> bool:
    """On SQLite: asserts that the configuration refuses the store, and says so."""
    if not services.settings.is_sqlite:
        return False
    with pytest.raises(ConfigurationError) as refused:
        replace(services.settings, blob_store="database")
    assert refused.value.code == "config_blob_store_needs_postgresql"
    return True


def _server(services: Services, instance: Path) -> Any:
    settings = replace(services.settings, instance_dir=instance, blob_store="database")
    blobs = DatabaseBlobStore(services.engine, spool=instance)
    return create_app(services=replace(services, settings=settings, blobs=blobs)).test_client()


def test_two_servers_on_one_database_serve_each_others_documents(
    services: Services, as_user: Any, tmp_path: Path
) -> None:
    if _refused_on_sqlite(services):
        return
    first, second = _server(services, tmp_path / "a"), _server(services, tmp_path / "b")
    clerk = as_user("pt.vanthu")
    pdf = make_pdf(text="Luu trong co so du lieu")
    made = upload(first, clerk, pdf)
    assert made.status_code == 201, made.get_json()
    served = second.get(f"/api/v1/documents/{made.get_json()['id']}/file", headers=clerk)
    assert served.status_code == 200 and served.data == pdf
    # Nothing went to either server's folder: the row is the file.
    assert not (tmp_path / "a" / "blobs").exists() and not (tmp_path / "b" / "blobs").exists()
    with services.sessions() as s:
        stored = s.get(StoredBlob, hashlib.sha256(pdf).hexdigest())
        assert stored is not None and stored.size == len(pdf)
    health = second.get("/healthz").get_json()
    assert health["status"] == "ok", health


def test_a_blob_row_is_written_once_and_checked_when_read(
    services: Services, tmp_path: Path
) -> None:
    if _refused_on_sqlite(services):
        return
    store = DatabaseBlobStore(services.engine, spool=tmp_path)
    digest = store.put(b"van ban")
    assert store.put(b"van ban") == digest == hashlib.sha256(b"van ban").hexdigest()
    assert store.get(digest) == b"van ban" and digest in list(store.digests())
    with services.sessions() as s:
        assert s.scalar(select(func.count()).select_from(StoredBlob)) == 1
        s.execute(update(StoredBlob).values(data=b"van bam"))
        s.commit()
    with pytest.raises(ValueError, match="does not match"):
        store.get(digest)
    with pytest.raises(FileNotFoundError):
        store.get("0" * 64)


def test_the_blob_store_is_named_by_configuration(tmp_path: Path) -> None:
    assert Settings(instance_dir=tmp_path).blob_store == "filesystem"
    with pytest.raises(ConfigurationError):
        Settings(instance_dir=tmp_path, blob_store="s3")
