"""A blob store that cannot be written: a coded 507, nothing half-done, /healthz says so."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from docexchange.services.container import Services
from docexchange.storage.blobs import STALE_TMP_SECONDS, BlobStore
from docexchange.web.app import create_app
from tests.conftest import auth, error_code, login_token
from tests.web.test_documents import upload


def test_an_upload_to_a_broken_store_is_a_507_and_leaves_nothing(
    services: Services, demo: None, tmp_path: Path
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the store's folder should be")  # writes there fail
    broken = replace(services, blobs=BlobStore(blocked / "blobs"))
    client = create_app(services=broken).test_client()
    clerk = auth(login_token(client, "pt.vanthu"))
    refused = upload(client, clerk)
    assert (refused.status_code, error_code(refused)) == (507, "storage_unavailable")
    assert "không có dữ liệu nào bị mất" in refused.get_json()["error"]["message_vi"]
    assert client.get("/api/v1/documents", headers=clerk).get_json()["items"] == []
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.get_json()["blobs"]["writable"] is False


def test_healthz_wants_room_to_spare(services: Services, client: Any) -> None:
    fine = client.get("/healthz").get_json()
    assert fine["status"] == "ok" and fine["blobs"]["ready"] is True
    crowded = replace(
        services,
        settings=services.settings.with_overrides(min_free_mib=fine["blobs"]["free_mib"] + 1),
    )
    answer = create_app(services=crowded).test_client().get("/healthz")
    assert answer.status_code == 503 and answer.get_json()["blobs"]["ready"] is False


def test_unfinished_temporary_files_are_cleaned_only_when_stale(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    digest = store.put(b"%PDF-1.7 kept")
    folder = tmp_path / "blobs" / digest[:2] / digest[2:4]
    stale, fresh = folder / ".tmp-killed", folder / ".tmp-writing"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"half")
    old = time.time() - STALE_TMP_SECONDS - 60
    os.utime(stale, (old, old))
    assert store.clean_temporary() == 1
    assert not stale.exists() and fresh.exists()  # another process may still be writing it
    assert store.get(digest) == b"%PDF-1.7 kept"
