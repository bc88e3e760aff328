"""A leader signs a morning's queue with one PIN entry (``POST /api/v1/signing-batches``)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from docexchange.services.container import Services
from docexchange.services.verification import verify_document
from docexchange.storage.models import AuditEvent, DocumentSignature, TokenState
from docexchange.web.app import create_app
from tests.conftest import error_code
from tests.web.test_documents import PIN, upload

pytestmark = pytest.mark.usefixtures("signing_tokens")


def _drafts(client: FlaskClient, headers: dict[str, str], count: int) -> list[str]:
    return [
        upload(client, headers, subject=f"Văn bản số {n} trong lượt ký").get_json()["id"]
        for n in range(count)
    ]


def test_one_pin_signs_the_batch_and_a_document_that_cannot_be_signed_is_reported(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    clerk, leader = as_user("pt.vanthu"), as_user("pt.lanhdao")
    ids = _drafts(client, clerk, 19)
    other_unit = upload(client, as_user("cm.vanthu")).get_json()["id"]
    answer = client.post(
        "/api/v1/signing-batches",
        json={"document_ids": [*ids[:10], other_unit, *ids[10:]], "pin": PIN},
        headers=leader,
    )
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["signed"] == 19
    results = {r["document_id"]: r for r in body["results"]}
    assert [r["document_id"] for r in body["results"]] == [*ids[:10], other_unit, *ids[10:]]
    assert all(results[d]["ok"] and results[d]["error"] is None for d in ids)
    refused = results[other_unit]
    assert refused["ok"] is False and refused["error"]["code"] == "document_not_found"
    assert refused["error"]["message_vi"]
    assert "Nguyễn Văn Tỉnh" in body["certificate"]["subject"]
    with services.sessions() as session:
        serials = set(session.scalars(select(DocumentSignature.certificate_serial)))
        audited = session.scalar(select(func.count()).where(AuditEvent.action == "document.sign"))
    assert serials == {body["certificate"]["serial"]}  # one certificate for the batch
    assert audited == 19  # each document audited on its own
    for doc_id in (ids[0], ids[-1]):
        state = client.get(f"/api/v1/documents/{doc_id}", headers=leader).get_json()["state"]
        assert state == "signed"
        pdf = client.get(f"/api/v1/documents/{doc_id}/file", headers=leader).data
        report = verify_document(pdf, services=services)
        assert [s.indication for s in report.signatures] == ["TOTAL_PASSED"]
    # A second batch over the same documents signs nothing again: each is reported.
    again = client.post(
        "/api/v1/signing-batches", json={"document_ids": ids[:2], "pin": PIN}, headers=leader
    ).get_json()
    assert again["signed"] == 0
    assert {r["error"]["code"] for r in again["results"]} == {"document_already_signed"}


def test_a_wrong_pin_signs_none_and_counts_once(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    ids = _drafts(client, as_user("pt.vanthu"), 3)
    wrong = client.post(
        "/api/v1/signing-batches",
        json={"document_ids": ids, "pin": "000000"},
        headers=as_user("pt.lanhdao"),
    )
    assert (wrong.status_code, error_code(wrong)) == (403, "pin_incorrect")
    with services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(DocumentSignature)) == 0
        state = session.get(TokenState, "u:pt.lanhdao")
        assert state is not None and state.failures == 1


def test_a_batch_is_limited_and_only_for_leaders(
    services: Services, as_user: Any, client: FlaskClient
) -> None:
    small = replace(services, settings=services.settings.with_overrides(max_signing_batch=2))
    limited = create_app(services=small).test_client()
    ids = _drafts(client, as_user("pt.vanthu"), 3)
    over = limited.post(
        "/api/v1/signing-batches",
        json={"document_ids": ids, "pin": PIN},
        headers=as_user("pt.lanhdao"),
    )
    assert (over.status_code, error_code(over)) == (422, "invalid_field")
    assert over.get_json()["error"]["field"] == "document_ids"
    clerk = client.post(
        "/api/v1/signing-batches",
        json={"document_ids": ids, "pin": PIN},
        headers=as_user("pt.vanthu"),
    )
    assert (clerk.status_code, error_code(clerk)) == (403, "role_required")
