"""Attacks crafted at test time on documents our own system signed, and foreign signers.

Each builds what an attacker outside the system could: an incremental update after issuing
(new content, a hiding overlay, a replacing overlay), or a signature by a certificate we do
not trust, one that has expired, or one revoked after signing.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from flask.testing import FlaskClient
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from docexchange.services.container import Services
from docexchange.services.verification import verify_document
from pki.demo_ca import PersonSubject, new_citizen_id
from pki.isolation import IsolatedVerifier, Limits
from pki.report import ValidationReport
from tests.data.samples import make_pdf
from tests.web.test_verify import _issued_pdf

pytestmark = pytest.mark.usefixtures("signing_tokens")


def _update(pdf: bytes, change: Callable[[IncrementalPdfFileWriter], None]) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _last(report: ValidationReport) -> tuple[str, str | None, list[str]]:
    last = report.signatures[-1]
    return last.indication, last.sub_indication, last.messages


def _new_content(writer: IncrementalPdfFileWriter) -> None:
    page_ref, _ = writer.find_page_for_modification(0)
    page = page_ref.get_object()
    stream = generic.StreamObject(
        stream_data=b"BT /F1 14 Tf 72 760 Td (So tien: 900.000.000) Tj ET"
    )
    page["/Contents"] = writer.add_object(stream)
    writer.update_container(page)


def _overlay(text: bytes) -> Callable[[IncrementalPdfFileWriter], None]:
    """An annotation with a white box (and optionally other text) over the signed text."""

    def change(writer: IncrementalPdfFileWriter) -> None:
        page_ref, _ = writer.find_page_for_modification(0)
        drawing = b"1 g 0 0 400 30 re f" + (b" 0 g BT /Helv 14 Tf 4 8 Td (" + text + b") Tj ET")
        appearance = generic.StreamObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/XObject"),
                generic.NameObject("/Subtype"): generic.NameObject("/Form"),
                generic.NameObject("/BBox"): generic.ArrayObject(
                    [generic.NumberObject(n) for n in (0, 0, 400, 30)]
                ),
            },
            stream_data=drawing if text else b"1 g 0 0 400 30 re f",
        )
        annotation = generic.DictionaryObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/Annot"),
                generic.NameObject("/Subtype"): generic.NameObject("/Square"),
                generic.NameObject("/Rect"): generic.ArrayObject(
                    [generic.NumberObject(n) for n in (68, 750, 468, 780)]
                ),
                generic.NameObject("/AP"): generic.DictionaryObject(
                    {generic.NameObject("/N"): writer.add_object(appearance)}
                ),
            }
        )
        writer.register_annotation(page_ref, writer.add_object(annotation))

    return change


@pytest.mark.parametrize(
    "attack",
    [
        pytest.param(_new_content, id="incremental-save-new-content"),
        pytest.param(_overlay(b""), id="shadow-hide-white-box"),
        pytest.param(_overlay(b"So tien: 900.000.000"), id="shadow-replace-overlay-text"),
    ],
)
def test_an_update_after_issuing_makes_the_document_not_valid(
    client: FlaskClient, as_user: Any, services: Services, attack: Any
) -> None:
    issued = _issued_pdf(client, as_user)
    assert verify_document(issued, services=services).valid is True
    report = verify_document(_update(issued, attack), services=services)
    assert report.valid is False
    assert _last(report) == ("TOTAL_FAILED", "FORMAT_FAILURE", ["changed_after_signing"])
    # The signatures themselves are intact: only the difference analysis catches this.
    assert all(s.intact for s in report.signatures)


def _software_signer(
    certificate: x509.Certificate, key: rsa.RSAPrivateKey, chain: list[x509.Certificate]
) -> signers.SimpleSigner:
    der = lambda c: asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))  # noqa: E731
    return signers.SimpleSigner(
        signing_cert=der(certificate),
        signing_key=asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
        cert_registry=SimpleCertificateStore.from_certs([der(c) for c in chain]),
    )


def _sign(pdf: bytes, signer: signers.SimpleSigner) -> bytes:
    out = signers.sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(pdf)),
        signers.PdfSignatureMetadata(field_name="ChuKy"),
        signer=signer,
    )
    return out.getvalue()


def _person() -> PersonSubject:
    return PersonSubject(
        full_name="Trần Văn Giả",
        position="Phó Chủ tịch",
        unit_name="UBND tỉnh Phú Thọ",
        province="Phú Thọ",
        citizen_id=new_citizen_id(),
    )


def _key_der(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_a_signature_by_a_certificate_we_do_not_trust_is_indeterminate(
    services: Services,
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Nguyễn Văn Tỉnh")])
    now = datetime.now(UTC)
    self_made = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    report = verify_document(make_pdf_signed(self_made, key, []), services=services)
    assert report.valid is False
    assert _last(report)[0] == "INDETERMINATE"
    assert _last(report)[2] == ["signing_certificate_untrusted"]
    assert report.signatures[-1].signer is not None
    assert report.signatures[-1].signer.name == "Nguyễn Văn Tỉnh"  # named, but not trusted


def make_pdf_signed(
    certificate: x509.Certificate, key: rsa.RSAPrivateKey, chain: list[x509.Certificate]
) -> bytes:
    return _sign(make_pdf(text="Quyet dinh"), _software_signer(certificate, key, chain))


def test_a_certificate_that_expired_without_a_time_stamp_is_indeterminate(
    services: Services,
) -> None:
    ca = services.keys.ca
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    expired = ca.issue_personal(
        _key_der(key), _person(), days=30, valid_from=datetime.now(UTC) - timedelta(days=60)
    )
    report = verify_document(make_pdf_signed(expired, key, [ca.intermediate]), services=services)
    assert report.valid is False
    assert _last(report)[:2] == ("INDETERMINATE", "OUT_OF_BOUNDS_NO_POE")


def test_a_certificate_revoked_after_signing_is_found_online(
    services: Services, pki_server: str
) -> None:
    """No DSS in the file: the verifier asks the demo CA's OCSP/CRL on loopback.

    Fetched answers are reused for the cache lifetime; this pool's lifetime is zero, so the
    second check asks again, as the server's does once its lifetime has passed.
    """
    keys = services.keys
    ca = keys.ca
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    certificate = ca.issue_personal(_key_der(key), _person())
    signed = make_pdf_signed(certificate, key, [ca.intermediate])
    pool = IsolatedVerifier(Limits(workers=1, revocation_cache_seconds=0))
    try:
        before = pool.verify(signed, roots=keys.trust_roots(), other_certs=keys.chain())
        assert before.signatures[-1].indication == "TOTAL_PASSED"
        assert before.signatures[-1].revocation == "good"  # fetched: the file carries none
        ca.revoke(certificate)
        after = pool.verify(signed, roots=keys.trust_roots(), other_certs=keys.chain())
    finally:
        pool.close()
    assert _last(after) == ("TOTAL_FAILED", "REVOKED", ["signing_certificate_revoked"])
    assert after.signatures[-1].revocation == "revoked"


def test_a_document_judged_as_at_a_moment_before_its_certificates_is_not_valid(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    keys = services.keys
    issued = _issued_pdf(client, as_user)
    now = services.verifier.verify(issued, roots=keys.trust_roots(), other_certs=keys.chain())
    assert now.valid is True
    earlier = services.verifier.verify(
        issued,
        roots=keys.trust_roots(),
        other_certs=keys.chain(),
        at=datetime.now(UTC) - timedelta(days=3650),
    )
    assert earlier.valid is False
    assert {s.indication for s in earlier.signatures} == {"INDETERMINATE"}
    # Ten years ago not even the demo CA existed: no valid path at that moment.
    assert {s.sub_indication for s in earlier.signatures} == {"CERTIFICATE_CHAIN_GENERAL_FAILURE"}
