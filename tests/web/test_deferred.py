"""Deferred signing: a token on the leader's own computer, the PDF stays on the server."""

from __future__ import annotations

import base64
import io
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from flask.testing import FlaskClient
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import select, update

from docexchange.services.container import Services
from docexchange.storage.base import utcnow
from docexchange.storage.models import AuditEvent, SigningSession
from tests.conftest import error_code
from tests.web.test_documents import PIN, upload

pytestmark = pytest.mark.usefixtures("signing_tokens")


def _leader_chain(services: Services) -> list[str]:
    from pki import tokens

    ref = services.keys.ref("u:pt.lanhdao")
    certificate = tokens.read_certificate(ref)
    assert certificate is not None
    ders = [certificate, *tokens.read_chain(ref)]
    return [
        x509.load_der_x509_certificate(d).public_bytes(serialization.Encoding.PEM).decode()
        for d in ders
    ]


def test_the_signing_client_signs_with_a_local_token(
    client: FlaskClient, as_user: Any, services: Services, pki_server: str
) -> None:
    clerk = as_user("pt.vanthu")
    as_user("pt.lanhdao")  # the leader's account exists
    doc_id = upload(client, clerk).get_json()["id"]
    base = pki_server.removesuffix("/pki")
    env = {
        **os.environ,
        "SOFTHSM2_CONF": str(services.keys.softhsm.conf_path),
        "DOCEXCHANGE_SIGN_USERNAME": "pt.lanhdao",
        "DOCEXCHANGE_SIGN_PASSWORD": "demo-Password-1",
        "DOCEXCHANGE_SIGN_PIN": PIN,
    }
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "docexchange-sign"),
            "--server", base,
            "--document", doc_id,
            "--module", services.settings.pkcs11_module,
            "--token", "u:pt.lanhdao",
        ],
        env=env, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"document {doc_id} is now signed" in done.stdout
    assert PIN not in done.stdout + done.stderr
    body = client.get(f"/api/v1/documents/{doc_id}", headers=clerk).get_json()
    assert body["state"] == "signed"
    assert body["signatures"][0]["token_label"] == "external"
    pdf = client.get(f"/api/v1/documents/{doc_id}/file", headers=clerk).data
    ca = services.keys.ca
    der = lambda c: asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))  # noqa: E731
    status = validate_pdf_signature(
        PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0],
        ValidationContext(trust_roots=[der(ca.root)], other_certs=[der(ca.intermediate)]),
    )
    assert status.intact and status.trusted and status.bottom_line, status.summary()
    assert status.timestamp_validity is not None and status.timestamp_validity.trusted
    # The clerk can issue it as usual afterwards.
    issued = client.post(f"/api/v1/documents/{doc_id}/issue", json={"pin": PIN}, headers=clerk)
    assert issued.status_code == 200 and issued.get_json()["number"] == "01/QĐ-UBND"


def test_a_signature_that_does_not_verify_is_refused(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    leader = as_user("pt.lanhdao")
    doc_id = upload(client, as_user("pt.vanthu")).get_json()["id"]
    opened = client.post(
        f"/api/v1/documents/{doc_id}/signing-sessions",
        json={"certificate_chain": _leader_chain(services)},
        headers=leader,
    )
    assert opened.status_code == 201, opened.get_json()
    body = opened.get_json()
    assert body["signature_format"] == "rsa-pkcs1v15-digestinfo-sha256"
    assert len(base64.b64decode(body["to_sign"])) == 32
    forged = base64.b64encode(os.urandom(256)).decode()
    refused = client.post(
        f"/api/v1/signing-sessions/{body['session_id']}", json={"signature": forged}, headers=leader
    )
    assert (refused.status_code, error_code(refused)) == (422, "signature_invalid")
    assert client.get(f"/api/v1/documents/{doc_id}", headers=leader).get_json()["state"] == "draft"
    with services.sessions() as s:
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.target == doc_id)).all()
    assert "document.signing_session_refused" in actions
    # Someone else cannot use the session; an expired one cannot be used either.
    other = client.post(
        f"/api/v1/signing-sessions/{body['session_id']}",
        json={"signature": forged},
        headers=as_user("dh.lanhdao"),
    )
    assert (other.status_code, error_code(other)) == (404, "signing_session_not_found")
    with services.sessions() as s:
        s.execute(update(SigningSession).values(expires_at=utcnow() - timedelta(seconds=1)))
        s.commit()
    expired = client.post(
        f"/api/v1/signing-sessions/{body['session_id']}", json={"signature": forged}, headers=leader
    )
    assert (expired.status_code, error_code(expired)) == (409, "signing_session_expired")


def test_an_untrusted_certificate_cannot_open_a_session(client: FlaskClient, as_user: Any) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Kẻ mạo danh")])
    now = utcnow()
    usage = x509.KeyUsage(True, True, False, False, False, False, False, False, False)
    builder = x509.CertificateBuilder().subject_name(name).issuer_name(name)
    builder = builder.public_key(key.public_key()).serial_number(7)
    builder = builder.not_valid_before(now - timedelta(days=1))
    builder = builder.not_valid_after(now + timedelta(days=30))
    self_signed = builder.add_extension(usage, critical=True).sign(key, hashes.SHA256())
    doc_id = upload(client, as_user("pt.vanthu")).get_json()["id"]
    pem = self_signed.public_bytes(serialization.Encoding.PEM).decode()
    refused = client.post(
        f"/api/v1/documents/{doc_id}/signing-sessions",
        json={"certificate_chain": [pem]},
        headers=as_user("pt.lanhdao"),
    )
    assert (refused.status_code, error_code(refused)) == (422, "certificate_untrusted")
    garbage = client.post(
        f"/api/v1/documents/{doc_id}/signing-sessions",
        json={"certificate_chain": ["nonsense"]},
        headers=as_user("pt.lanhdao"),
    )
    assert (garbage.status_code, error_code(garbage)) == (422, "certificate_unreadable")
