"""Upload, personal signature, issue with number and seal: through the API, on real tokens."""

from __future__ import annotations

import io
import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from flask import Flask
from flask.testing import FlaskClient
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import select

from docexchange.services.container import Services
from docexchange.storage.base import Base
from docexchange.storage.models import AuditEvent
from tests.conftest import error_code
from tests.data.samples import MINIMAL_PDF, encrypted_pdf, make_pdf
from tests.pdfsig import pdfsig

PIN = "123456"

pytestmark = pytest.mark.usefixtures("signing_tokens")


def upload(
    client: FlaskClient, headers: dict[str, str], pdf: bytes = MINIMAL_PDF, **meta: Any
) -> Any:
    metadata = {"subject": "Về việc thử nghiệm ký số", "doc_type": "QĐ", **meta}
    return client.post(
        "/api/v1/documents",
        data={"file": (io.BytesIO(pdf), "vanban.pdf"), "metadata": json.dumps(metadata)},
        headers=headers,
        content_type="multipart/form-data",
    )


def signed_and_issued(
    client: FlaskClient, as_user: Any, pdf: bytes = MINIMAL_PDF, **meta: Any
) -> dict[str, Any]:
    clerk, leader = as_user("pt.vanthu"), as_user("pt.lanhdao")
    created = upload(client, clerk, pdf, **meta)
    assert created.status_code == 201, created.get_json()
    doc_id = created.get_json()["id"]
    signed = client.post(f"/api/v1/documents/{doc_id}/sign", json={"pin": PIN}, headers=leader)
    assert signed.status_code == 200, signed.get_json()
    issued = client.post(f"/api/v1/documents/{doc_id}/issue", json={"pin": PIN}, headers=clerk)
    assert issued.status_code == 200, issued.get_json()
    body: dict[str, Any] = issued.get_json()
    return body


def _validation_context(services: Services) -> ValidationContext:
    ca = services.keys.ca
    der = lambda c: asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))  # noqa: E731
    return ValidationContext(trust_roots=[der(ca.root)], other_certs=[der(ca.intermediate)])


def test_sign_then_issue_gives_two_valid_timestamped_signatures(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    body = signed_and_issued(client, as_user)
    assert body["state"] == "issued"
    assert body["number"] == "01/QĐ-UBND"
    assert body["document_id"].startswith("000.00.00.H45,") and body["document_id"].endswith(
        ",01/QĐ-UBND"
    )
    assert [(s["kind"], s["signer"]) for s in body["signatures"]] == [
        ("personal", "pt.lanhdao"),
        ("organization", "pt.vanthu"),
    ]
    pdf = client.get(f"/api/v1/documents/{body['id']}/file", headers=as_user("pt.vanthu")).data
    reader = PdfFileReader(io.BytesIO(pdf))
    signatures = reader.embedded_signatures
    assert len(signatures) == 2
    context = _validation_context(services)
    names = []
    for embedded in signatures:
        status = validate_pdf_signature(embedded, context)
        assert status.intact and status.valid and status.trusted, status.summary()
        assert status.timestamp_validity is not None and status.timestamp_validity.trusted
        assert status.docmdp_ok is not False
        assert status.bottom_line
        names.append(status.signing_cert.subject.native["common_name"])
    assert names == ["Nguyễn Văn Tỉnh", "UBND tỉnh Phú Thọ"]


def test_a_changed_byte_in_the_signed_range_is_detected(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    body = signed_and_issued(client, as_user)
    pdf = bytearray(
        client.get(f"/api/v1/documents/{body['id']}/file", headers=as_user("pt.vanthu")).data
    )
    index = pdf.index(b"trang 1")
    pdf[index] = ord("T")
    status = validate_pdf_signature(
        PdfFileReader(io.BytesIO(bytes(pdf))).embedded_signatures[0], _validation_context(services)
    )
    assert not status.intact and not status.bottom_line


def test_numbers_run_per_series_and_never_repeat(client: FlaskClient, as_user: Any) -> None:
    first = signed_and_issued(client, as_user)
    second = signed_and_issued(client, as_user)
    letter = signed_and_issued(client, as_user, doc_type="CV", drafting_unit="VP")
    notice = signed_and_issued(client, as_user, doc_type="TB")
    assert [first["number"], second["number"], letter["number"], notice["number"]] == [
        "01/QĐ-UBND",
        "02/QĐ-UBND",
        "01/UBND-VP",
        "01/TB-UBND",
    ]
    again = client.post(
        f"/api/v1/documents/{first['id']}/issue", json={"pin": PIN}, headers=as_user("pt.vanthu")
    )
    assert (again.status_code, error_code(again)) == (409, "document_not_issuable")


def test_uploads_are_checked(client: FlaskClient, as_user: Any) -> None:
    clerk = as_user("pt.vanthu")
    cases = [
        (b"hello, not a pdf", {}, "pdf_not_pdf"),
        (b"%PDF-1.7\n garbage without structure", {}, "pdf_broken"),
        (encrypted_pdf(), {}, "pdf_encrypted"),
        (MINIMAL_PDF, {"doc_type": "XYZ"}, "invalid_doc_type"),
        (MINIMAL_PDF, {"doc_type": "CV"}, "missing_field"),
        (MINIMAL_PDF, {"urgency": "very"}, "invalid_field"),
        (MINIMAL_PDF, {"recipients": ["village:1"]}, "invalid_selector"),
        (MINIMAL_PDF, {"subject": ""}, "missing_field"),
    ]
    for pdf, meta, code in cases:
        response = upload(client, clerk, pdf, **meta)
        assert (response.status_code, error_code(response)) == (422, code), meta
    no_file = client.post("/api/v1/documents", data={"metadata": "{}"}, headers=clerk)
    assert (no_file.status_code, error_code(no_file)) == (422, "missing_field")
    auditor = upload(client, as_user("thanhtra"))
    assert (auditor.status_code, error_code(auditor)) == (403, "role_required")


def test_an_upload_is_parsed_only_in_a_worker_and_absurd_page_trees_are_refused(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    """A 5,000-level page tree is refused at upload (not accepted, then failing at signing),
    and a file that overruns the workers' limits is refused without being stored."""
    from pki.isolation import Limits
    from tests.unit.test_hostile_input import _tree

    clerk = as_user("pt.vanthu")
    deep = upload(client, clerk, _tree(5000))
    assert (deep.status_code, error_code(deep)) == (422, "pdf_malformed")
    for absurd in (_tree(1, count=10**20), _tree(2, cycle=True)):
        refused = upload(client, clerk, absurd)
        assert (refused.status_code, error_code(refused)) == (422, "pdf_malformed")
    assert deep.get_json()["error"]["message_vi"].startswith("Cấu trúc trang của tệp PDF bị lỗi")
    verifier, limits = services.verifier, services.verifier.limits
    verifier.close()
    # Workers that may map no more than they already have: any allocation fails.
    verifier.limits = Limits(memory_bytes=16 * 1024 * 1024, workers=1, fetch_online=False)
    try:
        starved = upload(client, clerk, make_pdf(padding=400 * 1024))
    finally:
        verifier.close()
        verifier.limits = limits
    assert (starved.status_code, error_code(starved)) == (422, "pdf_limits_exceeded")
    listed = client.get("/api/v1/documents", headers=clerk).get_json()
    assert listed["items"] == []
    assert upload(client, clerk).status_code == 201


def test_only_the_units_own_signer_signs_and_own_clerk_issues(
    client: FlaskClient, as_user: Any
) -> None:
    doc_id = upload(client, as_user("pt.vanthu")).get_json()["id"]
    other_leader = client.post(
        f"/api/v1/documents/{doc_id}/sign", json={"pin": PIN}, headers=as_user("cm.lanhdao")
    )
    assert (other_leader.status_code, error_code(other_leader)) == (404, "document_not_found")
    clerk_signs = client.post(
        f"/api/v1/documents/{doc_id}/sign", json={"pin": PIN}, headers=as_user("pt.vanthu")
    )
    assert (clerk_signs.status_code, error_code(clerk_signs)) == (403, "role_required")
    unsigned = client.post(
        f"/api/v1/documents/{doc_id}/issue", json={"pin": PIN}, headers=as_user("pt.vanthu")
    )
    assert (unsigned.status_code, error_code(unsigned)) == (409, "document_not_issuable")


def test_wrong_pins_lock_the_token_until_an_admin_unlocks_it(
    client: FlaskClient,
    as_user: Any,
    app: Flask,
    services: Services,
    caplog: pytest.LogCaptureFixture,
) -> None:
    wrong = "Wrong-PIN-7731"
    leader = as_user("pt.lanhdao")
    doc_id = upload(client, as_user("pt.vanthu")).get_json()["id"]
    answers = []
    for _ in range(5):
        response = client.post(
            f"/api/v1/documents/{doc_id}/sign", json={"pin": wrong}, headers=leader
        )
        answers.append((response.status_code, error_code(response)))
        assert wrong not in response.get_data(as_text=True)
    assert answers == [(403, "pin_incorrect")] * 4 + [(423, "token_locked")]
    # Locked means locked, even with the right PIN and in a freshly started app.
    from docexchange.web.app import create_app

    restarted = create_app(services=services).test_client()
    locked = restarted.post(f"/api/v1/documents/{doc_id}/sign", json={"pin": PIN}, headers=leader)
    assert (locked.status_code, error_code(locked)) == (423, "token_locked")
    unlock = client.post("/api/v1/tokens/u:pt.lanhdao/unlock", headers=as_user("admin"))
    assert unlock.status_code == 204
    assert (
        client.post(
            f"/api/v1/documents/{doc_id}/sign", json={"pin": PIN}, headers=leader
        ).status_code
        == 200
    )
    with services.sessions() as s:
        actions = s.scalars(
            select(AuditEvent.action).where(AuditEvent.target == "u:pt.lanhdao")
        ).all()
        assert actions.count("token.pin_failure") == 5
        assert "token.locked_attempt" in actions and "token.unlock" in actions
        # The PIN is nowhere in the database ...
        for table in Base.metadata.sorted_tables:
            for row in s.execute(select(table)).all():
                assert wrong not in str(row) and PIN not in str(row), table.name
    # ... nor in the logs.
    assert wrong not in caplog.text and PIN not in caplog.text


def test_a_revoked_certificate_cannot_sign(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    admin = as_user("admin")
    created = client.post(
        "/api/v1/users",
        json={
            "username": "pt.phochutich",
            "password": "a-long-password-1",
            "full_name": "Phó Chủ tịch",
            "unit_code": "000.00.00.H45",
            "roles": ["signer"],
        },
        headers=admin,
    )
    assert created.status_code == 201
    made = client.post("/api/v1/users/pt.phochutich/token", json={"pin": "246810"}, headers=admin)
    if (
        made.status_code == 409
    ):  # left by an earlier run on the same machine? never: instance is per run
        pytest.fail("token already exists")
    assert made.status_code == 201, made.get_json()
    certificate = x509.load_pem_x509_certificate(made.get_json()["certificate_pem"].encode())
    assert "246810" not in made.get_data(as_text=True)
    services.keys.ca.revoke(certificate)
    doc_id = upload(client, as_user("pt.vanthu")).get_json()["id"]
    token = client.post(
        "/api/v1/auth/login", json={"username": "pt.phochutich", "password": "a-long-password-1"}
    ).get_json()["token"]
    refused = client.post(
        f"/api/v1/documents/{doc_id}/sign",
        json={"pin": "246810"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert (refused.status_code, error_code(refused)) == (409, "certificate_revoked")
    assert (
        client.get(f"/api/v1/documents/{doc_id}", headers=as_user("pt.vanthu")).get_json()["state"]
        == "draft"
    )


def test_concurrent_issues_get_distinct_consecutive_numbers(
    app: Flask, client: FlaskClient, as_user: Any
) -> None:
    clerk, leader = as_user("pt.vanthu"), as_user("pt.lanhdao")
    ids = []
    for n in range(20):
        doc_id = upload(client, clerk, pdf=make_pdf(text=f"Van ban {n}")).get_json()["id"]
        assert (
            client.post(
                f"/api/v1/documents/{doc_id}/sign", json={"pin": PIN}, headers=leader
            ).status_code
            == 200
        )
        ids.append(doc_id)
    results: list[tuple[int, str | None]] = []
    lock = threading.Lock()

    def issue(doc_id: str) -> None:
        own = app.test_client()
        response = own.post(f"/api/v1/documents/{doc_id}/issue", json={"pin": PIN}, headers=clerk)
        with lock:
            results.append((response.status_code, (response.get_json() or {}).get("number")))

    threads = [threading.Thread(target=issue, args=(doc_id,)) for doc_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(status for status, _ in results) == [200] * 20
    numbers = sorted(int(str(number).split("/")[0]) for _, number in results)
    assert numbers == list(range(1, 21))


def test_poppler_pdfsig_independently_reports_both_signatures_valid(
    client: FlaskClient, as_user: Any, services: Services, tmp_path: Path, pki_server: str
) -> None:
    """An independent validator (poppler + NSS, not pyHanko) with the demo root trusted."""
    body = signed_and_issued(client, as_user)
    pdf = client.get(f"/api/v1/documents/{body['id']}/file", headers=as_user("pt.vanthu")).data
    output = pdfsig(pdf, services, tmp_path)
    assert output.count("Signature Validation: Signature is Valid.") == 2, output
    assert output.count("Certificate Validation: Certificate is Trusted.") == 2, output
    assert "Nguyễn Văn Tỉnh" in output and "UBND tỉnh Phú Thọ" in output
    if os.environ.get("DX_KEEP_PDF"):
        Path(os.environ["DX_KEEP_PDF"]).write_bytes(pdf)


def test_revocation_is_checked_online_through_our_ocsp_responder(
    client: FlaskClient, as_user: Any, services: Services, pki_server: str
) -> None:
    """pyHanko fetches revocation status from the demo CA's OCSP responder on loopback."""
    body = signed_and_issued(client, as_user)
    pdf = client.get(f"/api/v1/documents/{body['id']}/file", headers=as_user("pt.vanthu")).data
    ca = services.keys.ca
    der = lambda c: asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))  # noqa: E731
    context = ValidationContext(
        trust_roots=[der(ca.root)],
        other_certs=[der(ca.intermediate)],
        allow_fetching=True,
        revocation_mode="hard-fail",
    )
    personal = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0]
    status = validate_pdf_signature(personal, context)
    assert status.trusted and status.bottom_line, status.summary()


def test_two_hundred_concurrent_signing_requests_from_several_leaders(
    app: Flask, client: FlaskClient, as_user: Any
) -> None:
    """Threads share one process: every PKCS#11 call must go through the process lock."""
    units = {"pt": "pt.vanthu", "dh": "dh.vanthu", "cm": "cm.vanthu", "ml": "ml.vanthu"}
    jobs: list[tuple[str, dict[str, str]]] = []
    for prefix, clerk in units.items():
        clerk_headers, leader_headers = as_user(clerk), as_user(f"{prefix}.lanhdao")
        for n in range(50):
            doc = upload(client, clerk_headers, pdf=make_pdf(text=f"{prefix} {n}"))
            assert doc.status_code == 201
            jobs.append((doc.get_json()["id"], leader_headers))
    failures: list[tuple[int, object]] = []
    queue = list(jobs)
    guard = threading.Lock()

    def worker() -> None:
        own = app.test_client()
        while True:
            with guard:
                if not queue:
                    return
                doc_id, headers = queue.pop()
            response = own.post(
                f"/api/v1/documents/{doc_id}/sign", json={"pin": PIN}, headers=headers
            )
            if response.status_code != 200:
                with guard:
                    failures.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert failures == []
    for clerk in units.values():
        listed = client.get("/api/v1/documents?state=signed", headers=as_user(clerk)).get_json()
        assert len(listed["items"]) == 50, clerk


def test_issued_documents_carry_their_revocation_data_pades_b_lt(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    """Validated offline, years later: the CRLs travel inside the PDF (DSS)."""
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    body = signed_and_issued(client, as_user)
    pdf = client.get(f"/api/v1/documents/{body['id']}/file", headers=as_user("pt.vanthu")).data
    reader = PdfFileReader(io.BytesIO(pdf))
    dss = reader.root["/DSS"]
    # One CRL (the one CA issues every certificate here); the certificates of both paths.
    assert (len(dss["/CRLs"]), len(dss["/Certs"])) == (1, 4)
    ca = services.keys.ca
    der = lambda c: asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))  # noqa: E731
    # Revocation must be checked (hard-fail) with nothing but what the file carries.
    offline = DocumentSecurityStore.read_dss(reader).as_validation_context(
        {"trust_roots": [der(ca.root)], "allow_fetching": False, "revocation_mode": "hard-fail"}
    )
    for embedded in reader.embedded_signatures:
        status = validate_pdf_signature(embedded, offline)
        assert status.intact and status.trusted and status.bottom_line, status.summary()


def _png(colour: tuple[int, int, int, int], *, mode: str = "RGBA") -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new(mode, (240, 120), (0, 0, 0, 0) if mode == "RGBA" else (255, 255, 255))
    ImageDraw.Draw(image).ellipse((20, 10, 220, 110), outline=colour[: len(mode)], width=6)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_signature_and_seal_images_appear_in_the_signed_pdf(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    admin = as_user("admin")
    blue, red = _png((20, 40, 200, 255)), _png((210, 20, 20, 255))

    def put(path, data):
        return client.put(path, data=data, headers={**admin, "Content-Type": "image/png"})

    assert put("/api/v1/users/pt.lanhdao/signature-image", blue).status_code == 200
    assert put("/api/v1/units/000.00.00.H45/seal-image", red).status_code == 200
    opaque = put("/api/v1/units/000.00.00.H45/seal-image", _png((0, 0, 0, 255), mode="RGB"))
    assert (opaque.status_code, error_code(opaque)) == (422, "image_not_transparent")
    not_png = put("/api/v1/users/pt.lanhdao/signature-image", b"GIF89a not a png")
    assert (not_png.status_code, error_code(not_png)) == (422, "image_invalid")
    clerk_try = client.put(
        "/api/v1/units/000.00.00.H45/seal-image",
        data=red,
        headers={**as_user("pt.vanthu"), "Content-Type": "image/png"},
    )
    assert (clerk_try.status_code, error_code(clerk_try)) == (403, "role_required")

    body = signed_and_issued(client, as_user)
    pdf = client.get(f"/api/v1/documents/{body['id']}/file", headers=as_user("pt.vanthu")).data
    reader = PdfFileReader(io.BytesIO(pdf))
    page = reader.root["/Pages"]["/Kids"][0].get_object()
    images = 0
    for annotation in page["/Annots"]:
        appearance = annotation.get_object()["/AP"]["/N"].get_object()
        for xobject in appearance["/Resources"].get("/XObject", {}).values():
            inner = xobject.get_object()
            nested = inner.get("/Resources", {}).get("/XObject", {})
            kinds = [inner.get("/Subtype")] + [
                x.get_object().get("/Subtype") for x in nested.values()
            ]
            images += kinds.count("/Image")
    assert images == 2  # the leader's signature image and the unit's seal
    context = _validation_context(services)
    for embedded in reader.embedded_signatures:
        assert validate_pdf_signature(embedded, context).bottom_line
    if os.environ.get("DX_KEEP_PDF"):
        Path(os.environ["DX_KEEP_PDF"]).write_bytes(pdf)


def test_the_token_doctor_page_lists_tokens_and_unlocks(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    from tests.web.test_ui import _csrf, _login

    leader = as_user("pt.lanhdao")
    doc_id = upload(client, as_user("pt.vanthu")).get_json()["id"]
    for _ in range(5):
        client.post(f"/api/v1/documents/{doc_id}/sign", json={"pin": "9999"}, headers=leader)
    _login(client, "pt.vanthu")
    assert client.get("/admin/tokens").status_code == 403
    client.post("/logout", data={"csrf_token": _csrf(client.get("/").get_data(as_text=True))})
    _login(client, "admin")
    page = client.get("/admin/tokens").get_data(as_text=True)
    assert "o:000.00.00.H45" in page and "u:pt.lanhdao" in page
    assert "Nguyễn Văn Tỉnh" in page and "tạm dừng do nhập sai PIN" in page
    done = client.post(
        "/admin/tokens/u:pt.lanhdao/unlock", data={"csrf_token": _csrf(page)}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Đã gỡ tạm dừng do sai PIN cho thiết bị ký u:pt.lanhdao." in done
    assert (
        client.post(
            f"/api/v1/documents/{doc_id}/sign", json={"pin": PIN}, headers=leader
        ).status_code
        == 200
    )


def test_the_signature_page_is_chosen_at_upload(client: FlaskClient, as_user: Any) -> None:
    clerk = as_user("pt.vanthu")
    too_far = upload(client, clerk, pdf=make_pdf(pages=2), signature_page=3)
    assert (too_far.status_code, error_code(too_far)) == (422, "invalid_field")
    body = signed_and_issued(client, as_user)  # default: the last page
    first = upload(client, clerk, pdf=make_pdf(pages=3), signature_page=1).get_json()
    assert first["signature_page"] == 1
    leader = as_user("pt.lanhdao")
    assert (
        client.post(
            f"/api/v1/documents/{first['id']}/sign", json={"pin": PIN}, headers=leader
        ).status_code
        == 200
    )
    for doc_id, page_index in ((first["id"], 0), (body["id"], 0)):
        pdf = client.get(f"/api/v1/documents/{doc_id}/file", headers=clerk).data
        kids = PdfFileReader(io.BytesIO(pdf)).root["/Pages"]["/Kids"]
        annotated = [n for n, kid in enumerate(kids) if "/Annots" in kid.get_object()]
        assert annotated == [page_index if doc_id == first["id"] else len(kids) - 1]


def test_an_ecdsa_token_signs_as_well(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    """ECDSA P-256 keys on SoftHSM2 sign through the raw mechanism (PKCS11-NOTES.md §5.6)."""
    admin = as_user("admin")
    user = {
        "username": "pt.phochutich.ec",
        "password": "a-long-password-1",
        "full_name": "Phó Chủ tịch Ec",
        "unit_code": "000.00.00.H45",
        "roles": ["signer"],
    }
    assert client.post("/api/v1/users", json=user, headers=admin).status_code == 201
    bad = client.post(
        "/api/v1/users/pt.phochutich.ec/token",
        json={"pin": "2468", "algorithm": "dsa"},
        headers=admin,
    )
    assert (bad.status_code, error_code(bad)) == (422, "invalid_field")
    made = client.post(
        "/api/v1/users/pt.phochutich.ec/token",
        json={"pin": "2468", "algorithm": "ec-p256"},
        headers=admin,
    )
    assert made.status_code == 201, made.get_json()
    certificate = x509.load_pem_x509_certificate(made.get_json()["certificate_pem"].encode())
    assert certificate.public_key().key_size == 256
    token = client.post(
        "/api/v1/auth/login", json={"username": user["username"], "password": user["password"]}
    )
    signer = {"Authorization": f"Bearer {token.get_json()['token']}"}
    doc_id = upload(client, as_user("pt.vanthu")).get_json()["id"]
    signed = client.post(f"/api/v1/documents/{doc_id}/sign", json={"pin": "2468"}, headers=signer)
    assert signed.status_code == 200, signed.get_json()
    pdf = client.get(f"/api/v1/documents/{doc_id}/file", headers=signer).data
    status = validate_pdf_signature(
        PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0], _validation_context(services)
    )
    assert status.intact and status.trusted and status.bottom_line
    assert status.signing_cert.public_key.algorithm == "ec"


@pytest.mark.usefixtures("signing_tokens", "registered_certificates")
def test_a_secret_document_has_its_own_number_series_and_no_exchange_identifier(
    client: FlaskClient, as_user: Any
) -> None:
    ordinary = signed_and_issued(client, as_user)
    secret = signed_and_issued(client, as_user, secrecy="mat")
    assert ordinary["number"] == secret["number"] == "01/QĐ-UBND"
    assert ordinary["document_id"] is not None and secret["document_id"] is None


def test_a_download_is_named_by_its_number_and_day_of_issue(
    client: FlaskClient, as_user: Any
) -> None:
    from datetime import datetime

    from docexchange.domain.timeutil import VN_TZ

    clerk = as_user("pt.vanthu")
    draft = upload(client, clerk).get_json()["id"]
    answer = client.get(f"/api/v1/documents/{draft}/file", headers=clerk)
    assert answer.headers["Content-Disposition"] == f'inline; filename="du-thao_{draft}.pdf"'
    body = signed_and_issued(client, as_user)
    day = datetime.fromisoformat(body["issued_at"]).astimezone(VN_TZ).date().isoformat()
    issued = client.get(f"/api/v1/documents/{body['id']}/file", headers=clerk)
    assert issued.headers["Content-Disposition"] == f'inline; filename="01-QD-UBND_{day}.pdf"'


def test_the_preview_shows_each_page_as_a_picture(client: FlaskClient, as_user: Any) -> None:
    clerk = as_user("pt.vanthu")
    doc_id = upload(client, clerk, make_pdf(2)).get_json()["id"]
    from tests.web.test_ui import _login

    _login(client, "pt.vanthu")
    second = client.get(f"/documents/{doc_id}/pages/2.png")
    assert (second.status_code, second.mimetype) == (200, "image/png")
    assert second.data.startswith(b"\x89PNG")
    assert client.get(f"/documents/{doc_id}/pages/3.png").status_code == 404
    page = client.get(f"/documents/{doc_id}").get_data(as_text=True)
    assert page.index('id="preview"') < page.index('id="submit-form"')  # read, then act
    other = upload(client, as_user("cm.vanthu")).get_json()["id"]
    assert client.get(f"/documents/{other}/pages/1.png").status_code == 404
