"""pki without tokens: the demo CA's OCSP/CRL/TSA answers and the signing helper."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509 import ocsp
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from pki.demo_ca import DemoCA, PersonSubject
from pki.errors import SigningFailed
from pki.pdf import PdfRefused, inspect_pdf
from pki.signing import Appearance, sign_pdf
from tests.data.samples import MINIMAL_PDF, make_pdf

PERSON = PersonSubject(
    "Nguyễn Văn Tỉnh", "Chủ tịch", "UBND tỉnh Phú Thọ", "Phú Thọ", "001122334455"
)


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> DemoCA:
    return DemoCA.ensure(tmp_path_factory.mktemp("ca"))


def _der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


def _software_signer(ca: DemoCA) -> tuple[signers.SimpleSigner, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    certificate = ca.issue_personal(public, PERSON)
    signer = signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(_der(certificate)),
        signing_key=asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
        cert_registry=SimpleCertificateStore.from_certs(
            [asn1_x509.Certificate.load(_der(ca.intermediate))]
        ),
    )
    return signer, certificate


def _ocsp_status(ca: DemoCA, certificate: x509.Certificate) -> ocsp.OCSPCertStatus:
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(certificate, ca.intermediate, hashes.SHA256())
        .build()
    )
    response = ocsp.load_der_ocsp_response(
        ca.ocsp_response(request.public_bytes(serialization.Encoding.DER))
    )
    assert response.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    assert response.serial_number == certificate.serial_number
    assert response.responder_key_hash is not None
    return response.certificate_status


def test_ocsp_answers_good_revoked_and_unknown(ca: DemoCA) -> None:
    _signer, certificate = _software_signer(ca)
    assert _ocsp_status(ca, certificate) is ocsp.OCSPCertStatus.GOOD
    ca.revoke(certificate)
    assert _ocsp_status(ca, certificate) is ocsp.OCSPCertStatus.REVOKED
    crl = ca.crl()
    assert crl.get_revoked_certificate_by_serial_number(certificate.serial_number) is not None
    assert crl.is_signature_valid(ca.intermediate.public_key())  # type: ignore[arg-type]
    # A certificate this CA never issued is not vouched for.
    stranger = (
        x509.CertificateBuilder()
        .subject_name(certificate.subject)
        .issuer_name(ca.intermediate.subject)
        .public_key(rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key())
        .serial_number(12345)
        .not_valid_before(datetime.now(UTC) - timedelta(days=1))
        .not_valid_after(datetime.now(UTC) + timedelta(days=365))
        .sign(rsa.generate_private_key(public_exponent=65537, key_size=2048), hashes.SHA256())
    )
    assert _ocsp_status(ca, stranger) is ocsp.OCSPCertStatus.UNKNOWN
    garbage = ocsp.load_der_ocsp_response(ca.ocsp_response(b"not a request"))
    assert garbage.response_status is ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def test_tsa_answers_rfc3161_requests(ca: DemoCA) -> None:
    request = tsp.TimeStampReq(
        {
            "version": 1,
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": b"\x01" * 32,
            },
            "nonce": 42,
            "cert_req": True,
        }
    )
    response = tsp.TimeStampResp.load(ca.tsa_response(request.dump()))
    assert response["status"]["status"].native == "granted"
    info = response["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed
    assert info["nonce"].native == 42
    assert info["message_imprint"]["hashed_message"].native == b"\x01" * 32
    with pytest.raises(ValueError):
        ca.tsa_response(b"garbage")


def test_signing_falls_back_when_the_reserved_room_is_too_small(ca: DemoCA) -> None:
    signer, _certificate = _software_signer(ca)
    signed = sign_pdf(MINIMAL_PDF, signer, field_name="Sig1", bytes_reserved=64)
    context = ValidationContext(
        trust_roots=[asn1_x509.Certificate.load(_der(ca.root))],
        other_certs=[asn1_x509.Certificate.load(_der(ca.intermediate))],
    )
    status = validate_pdf_signature(
        PdfFileReader(io.BytesIO(signed)).embedded_signatures[0], context
    )
    assert status.intact and status.trusted


def test_appearance_renders_vietnamese_with_an_embedded_font(ca: DemoCA) -> None:
    signer, _certificate = _software_signer(ca)
    signed = sign_pdf(
        make_pdf(pages=2),
        signer,
        field_name="Sig1",
        appearance=Appearance(lines=("Chủ tịch", "Nguyễn Văn Tỉnh", "100% điện tử")),
    )
    reader = PdfFileReader(io.BytesIO(signed))
    last_page = reader.root["/Pages"]["/Kids"][1].get_object()
    widget = last_page["/Annots"][0].get_object()
    appearance = widget["/AP"]["/N"].get_object()
    fonts = appearance["/Resources"]["/Font"]
    font = next(iter(fonts.values())).get_object()
    assert font["/Subtype"] == "/Type0"
    descendant = font["/DescendantFonts"][0].get_object()
    assert "/FontFile2" in descendant["/FontDescriptor"]
    # Widths are in thousandths of an em: a serif glyph is never wider than 1.5 em.
    widths = [w for item in descendant["/W"] if isinstance(item, list) for w in item]
    assert widths and max(widths) < 1500


def test_unusable_input_is_refused(ca: DemoCA) -> None:
    signer, _certificate = _software_signer(ca)
    with pytest.raises(SigningFailed):
        sign_pdf(b"%PDF-1.7 nothing", signer, field_name="Sig1")
    for data, reason in [(b"GIF89a", "not_pdf"), (b"%PDF-1.4\n%%EOF", "broken")]:
        with pytest.raises(PdfRefused) as info:
            inspect_pdf(data)
        assert info.value.reason == reason


def test_trust_folder_loads_pem_and_der_and_refuses_junk(ca: DemoCA, tmp_path: Path) -> None:
    from pki.trust import load_certificates

    (tmp_path / "a-root.pem").write_bytes(ca.root.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "b-intermediate.der").write_bytes(_der(ca.intermediate))
    (tmp_path / "notes.txt").write_text("ignored")
    loaded = load_certificates(tmp_path)
    assert [c.subject.native["common_name"] for c in loaded] == [
        "docexchange Demo Root CA",
        "Co quan chung thuc so demo",
    ]
    (tmp_path / "c-broken.crt").write_bytes(b"not a certificate")
    with pytest.raises(ValueError, match=r"c-broken\.crt"):
        load_certificates(tmp_path)
