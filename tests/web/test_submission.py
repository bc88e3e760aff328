"""Submit a draft to one leader ("trình ký") and return it to the drafter ("trả lại")."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from docexchange.services import documents
from docexchange.services.accounts import actor_for
from docexchange.services.container import Services
from docexchange.storage.models import AuditEvent, User
from tests.conftest import DEMO_PASSWORD, error_code
from tests.web.test_documents import PIN, upload

pytestmark = pytest.mark.usefixtures("signing_tokens")


def _queue(services: Services, username: str) -> list[str]:
    with services.sessions() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        return [d.subject for d in documents.signing_queue(session, actor=actor_for(user))]


def test_a_submitted_draft_tops_one_leaders_queue_and_only_that_leader_signs_it(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    clerk, leader, admin = as_user("pt.vanthu"), as_user("pt.lanhdao"), as_user("admin")
    created = client.post(
        "/api/v1/users",
        json={
            "username": "pt.phochutich",
            "password": DEMO_PASSWORD,
            "full_name": "Phan Văn Phó",
            "position": "Phó Chủ tịch",
            "unit_code": "000.00.00.H45",
            "roles": ["signer"],
        },
        headers=admin,
    )
    assert created.status_code == 201, created.get_json()
    deputy = as_user("pt.phochutich")
    ids = {}
    for subject, urgency in (("Cũ, thường", "normal"), ("Khẩn", "khan"), ("Trình riêng", "normal")):
        made = upload(client, clerk, subject=subject, urgency=urgency)
        ids[subject] = made.get_json()["id"]

    submitted = client.post(
        f"/api/v1/documents/{ids['Trình riêng']}/submit",
        json={"signer": "pt.lanhdao", "note": "Kính trình Chủ tịch ký trong ngày"},
        headers=clerk,
    )
    assert submitted.status_code == 200, submitted.get_json()
    body = submitted.get_json()["submitted"]
    assert (body["to"], body["by"], body["note"]) == (
        "pt.lanhdao",
        "pt.vanthu",
        "Kính trình Chủ tịch ký trong ngày",
    )
    # The leader's queue: the one submitted to them first, then urgent, then the rest.
    assert _queue(services, "pt.lanhdao") == ["Trình riêng", "Khẩn", "Cũ, thường"]
    # The deputy does not see it, and cannot sign or return it.
    assert _queue(services, "pt.phochutich") == ["Khẩn", "Cũ, thường"]
    signed = client.post(
        f"/api/v1/documents/{ids['Trình riêng']}/sign", json={"pin": PIN}, headers=deputy
    )
    assert (signed.status_code, error_code(signed)) == (409, "document_submitted_to_another")
    returned = client.post(
        f"/api/v1/documents/{ids['Trình riêng']}/return", json={"reason": "x"}, headers=deputy
    )
    assert (returned.status_code, error_code(returned)) == (409, "document_submitted_to_another")
    # Only a signer of the unit may be named; only a clerk or specialist submits.
    for signer in ("pt.vanthu", "cm.lanhdao", "nobody"):
        refused = client.post(
            f"/api/v1/documents/{ids['Khẩn']}/submit", json={"signer": signer}, headers=clerk
        )
        assert (refused.status_code, error_code(refused)) == (422, "invalid_field"), signer
        assert refused.get_json()["error"]["field"] == "signer"
    by_leader = client.post(
        f"/api/v1/documents/{ids['Khẩn']}/submit", json={"signer": "pt.lanhdao"}, headers=leader
    )
    assert (by_leader.status_code, error_code(by_leader)) == (403, "role_required")


def test_a_leader_returns_a_draft_with_a_reason_the_drafter_sees(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    clerk, leader = as_user("pt.vanthu"), as_user("pt.lanhdao")
    doc_id = upload(client, clerk, subject="Cần sửa").get_json()["id"]
    client.post(f"/api/v1/documents/{doc_id}/submit", json={"signer": "pt.lanhdao"}, headers=clerk)
    no_reason = client.post(f"/api/v1/documents/{doc_id}/return", json={}, headers=leader)
    assert (no_reason.status_code, error_code(no_reason)) == (422, "invalid_field")
    assert "lý do" in no_reason.get_json()["error"]["message_vi"]
    returned = client.post(
        f"/api/v1/documents/{doc_id}/return",
        json={"reason": "Sửa lại căn cứ pháp lý ở đoạn 2"},
        headers=leader,
    )
    assert returned.status_code == 200, returned.get_json()
    body = returned.get_json()
    assert body["state"] == "draft" and body["submitted"] is None
    assert (body["returned"]["by"], body["returned"]["reason"]) == (
        "pt.lanhdao",
        "Sửa lại căn cứ pháp lý ở đoạn 2",
    )
    assert "Cần sửa" not in _queue(services, "pt.lanhdao")  # out of every queue
    with services.sessions() as session:
        trail = select(AuditEvent).where(AuditEvent.target == doc_id).order_by(AuditEvent.seq)
        actions = [e.action for e in session.scalars(trail)]
    assert actions == ["document.create", "document.submit", "document.return"]
    # Submitted again, it is back in the queue and the return is cleared.
    again = client.post(
        f"/api/v1/documents/{doc_id}/submit", json={"signer": "pt.lanhdao"}, headers=clerk
    )
    assert again.get_json()["returned"] is None
    assert _queue(services, "pt.lanhdao")[0] == "Cần sửa"
    # A signed document is no longer a draft: neither submitted nor returned.
    client.post(f"/api/v1/documents/{doc_id}/sign", json={"pin": PIN}, headers=leader)
    late = client.post(f"/api/v1/documents/{doc_id}/return", json={"reason": "x"}, headers=leader)
    assert (late.status_code, error_code(late)) == (409, "document_not_a_draft")
