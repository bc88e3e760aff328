"""Verification: our own documents, tampering, missing signatures, and hostile files."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from docexchange.domain.timeutil import utcnow
from docexchange.services.container import Services
from tests.clock import certificates_valid_at, pinned
from tests.conftest import error_code
from tests.data.samples import MINIMAL_PDF
from tests.web.test_documents import PIN, signed_and_issued, upload

pytestmark = pytest.mark.usefixtures("signing_tokens")


def _verify(client: FlaskClient, headers: dict[str, str], pdf: bytes) -> dict[str, Any]:
    response = client.post(
        "/api/v1/verify",
        data={"file": (io.BytesIO(pdf), "check.pdf")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def _issued_pdf(client: FlaskClient, as_user: Any) -> bytes:
    body = signed_and_issued(client, as_user)
    data: bytes = client.get(
        f"/api/v1/documents/{body['id']}/file", headers=as_user("pt.vanthu")
    ).data
    return data


def test_an_issued_document_is_valid_with_both_signatures_named(
    client: FlaskClient, as_user: Any
) -> None:
    report = _verify(client, as_user("cm.vanthu"), _issued_pdf(client, as_user))
    assert report["valid"] is True and report["status"] == "signed"
    kinds = [(s["kind"], s["indication"], s["signer"]["name"]) for s in report["signatures"]]
    assert kinds == [
        ("personal", "TOTAL_PASSED", "Nguyễn Văn Tỉnh"),
        ("organization", "TOTAL_PASSED", "UBND tỉnh Phú Thọ"),
    ]
    organisation = report["signatures"][1]
    assert organisation["signer"]["organization_identifier"] == "000.00.00.H45"
    assert organisation["timestamp_time"] and organisation["revocation"] == "good"


def test_a_personal_signature_alone_is_not_enough(client: FlaskClient, as_user: Any) -> None:
    doc_id = upload(client, as_user("pt.vanthu")).get_json()["id"]
    leader = as_user("pt.lanhdao")
    client.post(f"/api/v1/documents/{doc_id}/sign", json={"pin": PIN}, headers=leader)
    pdf = client.get(f"/api/v1/documents/{doc_id}/file", headers=leader).data
    report = _verify(client, leader, pdf)
    assert report["valid"] is False
    assert report["signatures"][0]["indication"] == "TOTAL_PASSED"
    codes = [m["code"] for m in report["messages"]]
    assert codes == ["no_valid_organisation_signature"]
    assert report["messages"][0]["message_vi"] == "Không có chữ ký số hợp lệ của cơ quan, tổ chức."


def test_tampering_and_trailing_bytes_fail(client: FlaskClient, as_user: Any) -> None:
    pdf = _issued_pdf(client, as_user)
    headers = as_user("pt.vanthu")
    changed = bytearray(pdf)
    changed[changed.index(b"trang 1")] = ord("T")
    report = _verify(client, headers, bytes(changed))
    assert report["valid"] is False
    assert {s["sub_indication"] for s in report["signatures"]} == {"HASH_FAILURE"}
    assert report["signatures"][0]["messages"][0]["message"] == (
        "The signed content was changed after signing."
    )
    # The isa_B pattern: a broken update appended after the last %%EOF.
    appended = pdf + b"\n1 0 obj\n<< /Type /Catalog >>\nendobj\nxref\n0 0\ntrailer\n<< >>\n"
    report = _verify(client, headers, appended)
    assert report["valid"] is False
    assert report["signatures"][-1]["sub_indication"] == "FORMAT_FAILURE"


def test_unsigned_and_unreadable_files_get_a_verdict(client: FlaskClient, as_user: Any) -> None:
    headers = as_user("pt.vanthu")
    unsigned = _verify(client, headers, MINIMAL_PDF)
    assert (unsigned["valid"], unsigned["status"]) == (False, "not_signed")
    junk = _verify(client, headers, b"%PDF-1.7\nthis is not a pdf")
    assert junk["valid"] is False and junk["status"] in {"unreadable", "not_signed"}
    missing = client.post("/api/v1/verify", data={}, headers=headers)
    assert (missing.status_code, error_code(missing)) == (422, "missing_field")


@pytest.mark.usefixtures("registered_certificates")
def test_the_mandate_of_the_sending_unit_is_checked(client: FlaskClient, as_user: Any) -> None:
    """Trusted certificates of someone else do not sign for a unit."""
    pdf = _issued_pdf(client, as_user)
    headers = as_user("cm.vanthu")

    def verify_for(sender: str) -> dict[str, Any]:
        response = client.post(
            f"/api/v1/verify?sender={sender}",
            data={"file": (io.BytesIO(pdf), "check.pdf")},
            headers=headers,
            content_type="multipart/form-data",
        )
        assert response.status_code == 200
        body: dict[str, Any] = response.get_json()
        return body

    assert verify_for("000.00.00.H45")["valid"] is True
    foreign = verify_for("000.21.12.H45")
    assert foreign["valid"] is False
    assert [s["sub_indication"] for s in foreign["signatures"]] == ["SIG_CONSTRAINTS_FAILURE"] * 2
    reason = foreign["signatures"][0]["messages"][-1]
    assert reason["code"] == "signer_not_leader_of_sender"
    assert reason["message_vi"] == (
        "Người ký không phải là lãnh đạo (người ký) của đơn vị gửi tại thời điểm ký."
    )
    assert foreign["signatures"][1]["messages"][-1]["code"] == "seal_of_another_unit"
    unknown = client.post(
        "/api/v1/verify?sender=000.99.99.H45",
        data={"file": (io.BytesIO(pdf), "check.pdf")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert (unknown.status_code, error_code(unknown)) == (404, "unit_not_found")
    for bad_moment in ("yesterday", "2026-11-26T09:30:00"):  # no zone: ambiguous
        bad = client.post(
            f"/api/v1/verify?at={bad_moment}",
            data={"file": (io.BytesIO(pdf), "check.pdf")},
            headers=headers,
            content_type="multipart/form-data",
        )
        assert (bad.status_code, error_code(bad)) == (422, "invalid_field")
    past = client.post(
        "/api/v1/verify?at=2016-01-01T00:00:00%2B07:00",
        data={"file": (io.BytesIO(pdf), "check.pdf")},
        headers=headers,
        content_type="multipart/form-data",
    ).get_json()
    assert past["valid"] is False  # before any of these certificates existed


def test_admins_manage_the_trust_anchors(
    client: FlaskClient, as_user: Any, services: Services, tmp_path: Path
) -> None:
    """A foreign CA's signature is INDETERMINATE until an admin trusts its root."""
    from cryptography.hazmat.primitives import serialization
    from sqlalchemy import select

    from docexchange.storage.models import AuditEvent
    from pki.demo_ca import DemoCA
    from pki.signing import sign_pdf
    from tests.integration.test_pki import _software_signer

    foreign = DemoCA.ensure(tmp_path / "foreign-ca")
    signer, _certificate = _software_signer(foreign)
    signed = sign_pdf(MINIMAL_PDF, signer, field_name="Sig1")
    admin = as_user("admin")

    def personal_indication() -> str:
        report = _verify(client, admin, signed)
        return str(report["signatures"][0]["indication"])

    assert personal_indication() == "INDETERMINATE"
    root_pem = foreign.root.public_bytes(serialization.Encoding.PEM).decode()
    refused = client.post(
        "/api/v1/trust/anchors", json={"certificate_pem": root_pem}, headers=as_user("pt.vanthu")
    )
    assert (refused.status_code, error_code(refused)) == (403, "role_required")
    added = client.post("/api/v1/trust/anchors", json={"certificate_pem": root_pem}, headers=admin)
    assert added.status_code == 201
    fingerprint = added.get_json()["fingerprint"]
    again = client.post("/api/v1/trust/anchors", json={"certificate_pem": root_pem}, headers=admin)
    assert (again.status_code, error_code(again)) == (409, "anchor_exists")
    leaf = _certificate.public_bytes(serialization.Encoding.PEM).decode()
    not_ca = client.post("/api/v1/trust/anchors", json={"certificate_pem": leaf}, headers=admin)
    assert (not_ca.status_code, error_code(not_ca)) == (422, "not_a_ca_certificate")
    listed = client.get("/api/v1/trust/anchors", headers=as_user("thanhtra")).get_json()["items"]
    assert [a["built_in"] for a in listed] == [True, False]
    assert personal_indication() == "TOTAL_PASSED"
    assert client.delete(f"/api/v1/trust/anchors/{fingerprint}", headers=admin).status_code == 204
    assert personal_indication() == "INDETERMINATE"
    gone = client.delete(f"/api/v1/trust/anchors/{fingerprint}", headers=admin)
    assert (gone.status_code, error_code(gone)) == (404, "anchor_not_found")
    with services.sessions() as s:
        actions = s.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.target == fingerprint)
            .order_by(AuditEvent.seq)
        ).all()
    assert actions == ["trust.add", "trust.remove"]


@pytest.mark.usefixtures("registered_certificates")
def test_a_documents_report_is_kept_with_it_and_rechecked_on_demand(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    from sqlalchemy import select

    from docexchange.storage.models import AuditEvent

    body = signed_and_issued(client, as_user)
    clerk = as_user("pt.vanthu")
    before = client.get(f"/api/v1/documents/{body['id']}", headers=clerk).get_json()
    assert before["verification"] is None
    checked = client.post(f"/api/v1/documents/{body['id']}/verify", headers=clerk)
    assert checked.status_code == 200 and checked.get_json()["valid"] is True
    kept = client.get(f"/api/v1/documents/{body['id']}", headers=clerk).get_json()["verification"]
    assert kept["valid"] is True and kept["current"] is True and kept["verified_at"]
    assert [s["kind"] for s in kept["signatures"]] == ["personal", "organization"]
    assert kept["file_sha256"] == body["sha256"]
    # Someone of another unit cannot see the document, so cannot check it either.
    hidden = client.post(f"/api/v1/documents/{body['id']}/verify", headers=as_user("cm.vanthu"))
    assert (hidden.status_code, error_code(hidden)) == (404, "document_not_found")
    with services.sessions() as s:
        events = s.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "document.verify", AuditEvent.target == body["id"]
            )
        ).all()
    assert len(events) == 1 and events[0].actor == "pt.vanthu"


@pytest.mark.usefixtures("registered_certificates")
def test_the_document_page_checks_signatures_and_shows_the_kept_verdict(
    client: FlaskClient, as_user: Any
) -> None:
    from tests.web.test_ui import _csrf, _login

    body = signed_and_issued(client, as_user)
    _login(client, "pt.vanthu")
    page = client.get(f"/documents/{body['id']}").get_data(as_text=True)
    assert 'id="not-verified"' in page
    shown = client.post(
        f"/documents/{body['id']}/verify", data={"csrf_token": _csrf(page)}, follow_redirects=True
    ).get_data(as_text=True)
    assert 'id="verdict" class="card valid"' in shown
    assert "Hợp lệ" in shown and "Nguyễn Văn Tỉnh" in shown and 'id="verified-at"' in shown
    refused = client.post(f"/documents/{body['id']}/verify", data={})
    assert refused.status_code == 400  # no CSRF token: refused before anything is checked


@pytest.mark.usefixtures("registered_certificates")
def test_the_mandate_looks_at_the_roles_held_when_signing(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    """A leader removed from office keeps the documents signed before; what the old token
    signs afterwards (outside the system) does not count for the unit."""
    from sqlalchemy import select

    from docexchange.storage.models import AuditEvent, RoleHistory
    from pki import tokens
    from pki.signing import sign_pdf
    from tests.data.samples import make_pdf

    before = _issued_pdf(client, as_user)
    admin = as_user("admin")

    def personal_for_province(pdf: bytes) -> dict[str, Any]:
        response = client.post(
            "/api/v1/verify?sender=000.00.00.H45",
            data={"file": (io.BytesIO(pdf), "check.pdf")},
            headers=admin,
            content_type="multipart/form-data",
        )
        assert response.status_code == 200
        signature: dict[str, Any] = response.get_json()["signatures"][0]
        return signature

    refused = client.put(
        "/api/v1/users/pt.lanhdao/roles", json={"roles": ["clerk"]}, headers=as_user("pt.vanthu")
    )
    assert (refused.status_code, error_code(refused)) == (403, "role_required")
    bad = client.put("/api/v1/users/pt.lanhdao/roles", json={"roles": ["king"]}, headers=admin)
    assert (bad.status_code, error_code(bad)) == (422, "invalid_role")
    demoted = client.put(
        "/api/v1/users/pt.lanhdao/roles", json={"roles": ["specialist"]}, headers=admin
    )
    assert demoted.status_code == 200 and demoted.get_json()["roles"] == ["specialist"]

    assert personal_for_province(before)["indication"] == "TOTAL_PASSED"
    # Signing times are stated in whole seconds: sign two seconds after the demotion.
    with pinned(utcnow() + timedelta(seconds=2)):
        with tokens.signing_session(services.keys.ref("u:pt.lanhdao"), PIN) as signer:
            after = sign_pdf(make_pdf(text="Ky sau khi thoi chuc"), signer, field_name="CaNhan9")
        late = personal_for_province(after)
    assert late["indication"] == "TOTAL_FAILED"
    assert late["messages"][-1]["code"] == "signer_not_leader_of_sender"

    with services.sessions() as s:
        rows = s.scalars(
            select(RoleHistory).where(RoleHistory.username == "pt.lanhdao").order_by(RoleHistory.id)
        ).all()
        actions = s.scalars(
            select(AuditEvent.action).where(AuditEvent.target == "pt.lanhdao")
        ).all()
    assert [(r.role, r.valid_to is None) for r in rows] == [
        ("signer", False),
        ("specialist", True),
    ]
    assert "user.roles" in actions


@pytest.mark.usefixtures("registered_certificates")
def test_the_verifier_workers_judge_as_at_the_servers_now(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    """The worker processes keep no time of their own: a day before the certificates
    existed by the server's clock, the same file cannot be valid (it is again after)."""
    from docexchange.services.verification import verify_document

    pdf = _issued_pdf(client, as_user)
    assert verify_document(pdf, services=services).valid is True
    with pinned(utcnow() - timedelta(days=1)):
        early = verify_document(pdf, services=services)
    assert early.valid is False
    # The CA's own certificates were not valid yet: no path to the root at that moment.
    assert {s.sub_indication for s in early.signatures} == {"CERTIFICATE_CHAIN_GENERAL_FAILURE"}
    services.verifier.close()  # its workers fetched revocation data dated "tomorrow"
    assert verify_document(pdf, services=services).valid is True


def test_a_renewed_certificate_is_the_one_the_next_signature_carries(
    signing_tokens: Any, services: Services
) -> None:
    """Same key, new certificate on the token: the server's certificate cache must let the
    old one go (the tests' pinned offices rely on it, and so would a real renewal)."""
    from pki import tokens

    ref = services.keys.ref("u:pt.lanhdao")
    with tokens.signing_session(ref, PIN) as signer:
        before = signer.signing_cert
    later = utcnow() + timedelta(days=400)
    with certificates_valid_at(services, later), tokens.signing_session(ref, PIN) as signer:
        renewed = signer.signing_cert
    with tokens.signing_session(ref, PIN) as signer:
        restored = signer.signing_cert
    assert renewed.serial_number != before.serial_number
    assert renewed.public_key.dump() == before.public_key.dump()
    assert renewed.subject == before.subject
    start = renewed["tbs_certificate"]["validity"]["not_before"].native
    assert start == (later - timedelta(hours=1)).replace(microsecond=0)
    assert restored.serial_number == before.serial_number
