"""The web pages through the Flask test client: language, CSRF, login, tree, users."""

from __future__ import annotations

import io
import re
from typing import Any

from flask.testing import FlaskClient

from docexchange.domain.edge import parse_input
from docexchange.domain.inputs import DocumentMetadata
from docexchange.services.demo import DEMO_PASSWORD
from docexchange.storage.models import Document


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "no CSRF token in the form"
    return match.group(1)


def _login(
    client: FlaskClient, username: str, password: str = DEMO_PASSWORD, *, expect: bool = True
) -> str:
    """Sign in through the login form; the page it lands on. Fails unless signed in
    (``expect=False``: unless refused)."""
    page = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": _csrf(page)},
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    signed_in = 'action="/logout"' in html
    assert signed_in is expect, (username, response.status_code, html[:300])
    return html


def test_login_page_is_vietnamese_by_default(client: FlaskClient) -> None:
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="vi">' in html
    assert "Đăng nhập" in html and "Tên đăng nhập" in html and "Mật khẩu" in html


def test_language_switches_to_english_and_back(client: FlaskClient) -> None:
    html = client.get("/lang/en?next=/login", follow_redirects=True).get_data(as_text=True)
    assert '<html lang="en">' in html and "Sign in" in html and "Username" in html
    html = client.get("/lang/vi?next=/login", follow_redirects=True).get_data(as_text=True)
    assert "Đăng nhập" in html


def test_pages_need_a_session(client: FlaskClient) -> None:
    for path in ["/", "/directory", "/users"]:
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


def test_forms_need_a_csrf_token(client: FlaskClient, demo: None) -> None:
    response = client.post("/login", data={"username": "pt.vanthu", "password": DEMO_PASSWORD})
    assert response.status_code == 400
    assert "Biểu mẫu đã hết hạn" in response.get_data(as_text=True)


def test_wrong_password_shows_one_message(client: FlaskClient, demo: None) -> None:
    html = _login(client, "pt.vanthu", "wrong-password", expect=False)
    assert "Sai tên đăng nhập hoặc mật khẩu." in html
    assert client.get("/").status_code == 302


def test_login_then_browse_the_tree(client: FlaskClient, demo: None) -> None:
    html = _login(client, "dh.vanthu")
    assert "Xin chào, Phạm Thị Hùng" in html
    roots = client.get("/directory").get_data(as_text=True)
    assert "UBND tỉnh Phú Thọ" in roots
    district = client.get("/directory?code=000.00.12.H45").get_data(as_text=True)
    assert "UBND xã Chân Mộng" in district and "UBND xã Minh Lương" in district
    assert "UBND tỉnh Phú Thọ" in district  # the path back up
    missing = client.get("/directory?code=000.99.99.H45")
    assert missing.status_code == 404
    assert "Không có đơn vị 000.99.99.H45." in missing.get_data(as_text=True)


def test_users_page_respects_unit_visibility(client: FlaskClient, demo: None) -> None:
    _login(client, "cm.vanthu")
    own = client.get("/users").get_data(as_text=True)
    assert "cm.lanhdao" in own and "pt.vanthu" not in own
    other = client.get("/users?unit=000.22.12.H45")
    assert other.status_code == 403
    assert "Bạn không được xem" in other.get_data(as_text=True)


def test_admin_creates_an_account_from_the_page(client: FlaskClient, demo: None) -> None:
    _login(client, "admin")
    page = client.get("/users?unit=000.21.12.H45").get_data(as_text=True)
    response = client.post(
        "/users?unit=000.21.12.H45",
        data={
            "csrf_token": _csrf(page),
            "username": "cm.chuyenvien",
            "full_name": "Ngô Văn Viên",
            "position": "Chuyên viên",
            "unit_code": "000.21.12.H45",
            "password": "a-long-password-1",
            "roles": ["specialist"],
        },
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "Đã tạo tài khoản cm.chuyenvien." in html
    assert "Ngô Văn Viên" in html


def test_non_admin_cannot_post_the_user_form(client: FlaskClient, demo: None) -> None:
    _login(client, "pt.vanthu")
    page = client.get("/users").get_data(as_text=True)
    response = client.post("/users", data={"csrf_token": _csrf(page), "username": "x"})
    assert response.status_code == 403


def test_login_never_redirects_off_site(client: FlaskClient, demo: None) -> None:
    page = client.get("/login?next=//evil.example/").get_data(as_text=True)
    response = client.post(
        "/login?next=//evil.example/",
        data={"username": "pt.vanthu", "password": DEMO_PASSWORD, "csrf_token": _csrf(page)},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_logout_ends_the_session(client: FlaskClient, demo: None) -> None:
    html = _login(client, "pt.vanthu")
    client.post("/logout", data={"csrf_token": _csrf(html)})
    assert client.get("/").status_code == 302


def test_document_pages_respect_units(client: FlaskClient, demo: None, services: Any) -> None:
    from docexchange.services import accounts, documents
    from tests.data.samples import MINIMAL_PDF

    with services.sessions() as s:
        clerk = accounts.actor_for(accounts.get_user(s, "pt.vanthu"))
        doc = documents.create_document(
            s,
            MINIMAL_PDF,
            parse_input(DocumentMetadata, {"subject": "Thử", "doc_type": "TB"}),
            services=services,
            actor=clerk,
        )
    assert client.get(f"/documents/{doc.id}").status_code == 302  # not signed in
    _login(client, "cm.vanthu")
    other = client.get(f"/documents/{doc.id}/file")
    assert other.status_code == 404
    assert "không tồn tại hoặc bạn không được xem" in other.get_data(as_text=True)
    client.post("/logout", data={"csrf_token": _csrf(client.get("/").get_data(as_text=True))})
    _login(client, "pt.vanthu")
    own = client.get(f"/documents/{doc.id}/file")
    assert own.status_code == 200 and own.data.startswith(b"%PDF")
    assert own.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert client.get("/documents/").headers["X-Frame-Options"] == "DENY"


def test_the_trust_store_page_adds_and_removes_a_root(
    client: FlaskClient, demo: None, services: Any, tmp_path: Any
) -> None:
    from cryptography.hazmat.primitives import serialization

    from pki.demo_ca import DemoCA

    foreign = DemoCA.ensure(tmp_path / "foreign-ca")
    der = foreign.root.public_bytes(serialization.Encoding.DER)
    page = _login(client, "admin")
    page = client.get("/admin/trust").get_data(as_text=True)
    assert "Kho chứng thư tin cậy" in page and "(gắn sẵn)" in page
    added = client.post(
        "/admin/trust",
        data={"csrf_token": _csrf(page), "certificate_file": (io.BytesIO(der), "root.der")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    html = added.get_data(as_text=True)
    assert "Đã tin cậy" in html and "docexchange Demo Root CA" in html
    folder = services.keys.trust_dir
    fingerprint = sorted(folder.glob("*.pem"))[0].stem
    assert fingerprint in html
    junk = client.post(
        "/admin/trust",
        data={"csrf_token": _csrf(html), "certificate_pem": "not a certificate"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert (
        "Chỉ chứng thư số của tổ chức cung cấp dịch vụ chứng thực" in junk
    )  # refused, in Vietnamese
    removed = client.post(
        f"/admin/trust/{fingerprint}/remove",
        data={"csrf_token": _csrf(junk)},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Không còn tin cậy" in removed
    assert not list(folder.glob("*.pem"))


def test_the_trust_store_page_is_read_only_for_auditors(client: FlaskClient, demo: None) -> None:
    page = _login(client, "thanhtra")
    page = client.get("/admin/trust").get_data(as_text=True)
    assert 'id="anchors"' in page and "<textarea" not in page
    refused = client.post("/admin/trust", data={"csrf_token": _csrf(page)})
    assert refused.status_code == 403


def test_a_refused_upload_comes_back_to_the_form_with_what_was_typed(
    services: Any, demo: None
) -> None:
    """Over the limit (here 64 KiB), or with a recipient that names nothing: the form again,
    the values kept, the message by its field, nothing stored."""
    from dataclasses import replace

    from docexchange.web.app import create_app
    from tests.data.samples import make_pdf

    small = replace(services, settings=services.settings.with_overrides(max_upload_bytes=65_536))
    client = create_app(services=small).test_client()
    _login(client, "pt.vanthu")
    page = client.get("/documents/new").get_data(as_text=True)
    assert "Tệp PDF bản cuối, không đặt mật khẩu; tối đa 64 KB." in page

    def upload(pdf: bytes, recipients: list[str]) -> str:
        answer = client.post(
            "/documents/new",
            data={
                "csrf_token": _csrf(page),
                "file": (io.BytesIO(pdf), "van-ban.pdf"),
                "subject": "Về việc giữ lại nội dung đã gõ",
                "doc_type": "QĐ",
                "urgency": "khan",
                "secrecy": "none",
                "recipients": recipients,
            },
            content_type="multipart/form-data",
        )
        assert answer.status_code == 200
        return answer.get_data(as_text=True)

    oversized = upload(make_pdf(padding=100_000), ["communes:000.00.12.H45"])
    assert 'data-field="file">Tệp lớn hơn 64 KB; hãy chọn tệp nhỏ hơn.' in oversized
    assert 'value="Về việc giữ lại nội dung đã gõ"' in oversized
    assert 'value="communes:000.00.12.H45"' in oversized
    nowhere = upload(make_pdf(), ["village:1"])
    assert 'data-field="recipients">&#39;village:1&#39; không phải là nơi nhận hợp lệ' in nowhere
    assert 'value="village:1"' in nowhere
    empty = client.post(
        "/documents/new",
        data={"csrf_token": _csrf(page), "subject": "", "doc_type": "QĐ"},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "Vui lòng nhập trường này." in empty and "Hãy chọn tệp PDF." in empty
    assert "This field is required" not in empty  # WTForms' English never shows
    with services.sessions() as session:
        assert session.query(Document).count() == 0


def test_an_admin_sets_signature_and_seal_images_from_the_pages(
    client: FlaskClient, demo: None
) -> None:
    from tests.web.test_documents import _png

    signature, opaque = _png((0, 0, 160, 255)), _png((0, 0, 0, 255), mode="RGB")
    page = _login(client, "admin")
    users = client.get("/users?unit=000.00.00.H45").get_data(as_text=True)
    assert "Hình chữ ký" in users and "chưa có" in users

    def put(url: str, data: bytes) -> str:
        answer = client.post(
            url,
            data={"csrf_token": _csrf(page), "picture": (io.BytesIO(data), "chu-ky.png")},
            content_type="multipart/form-data",
            follow_redirects=True,
        )
        assert answer.status_code == 200
        return answer.get_data(as_text=True)

    refused = put("/users/pt.lanhdao/signature-image", opaque)
    assert 'class="flash error"' in refused
    assert client.get("/users/pt.lanhdao/signature-image.png").status_code == 404
    saved = put("/users/pt.lanhdao/signature-image", signature)
    assert "Đã lưu hình chữ ký của pt.lanhdao." in saved
    assert client.get("/users/pt.lanhdao/signature-image.png").data == signature
    sealed = put("/directory/000.00.00.H45/seal-image", signature)
    assert "Đã lưu hình con dấu." in sealed and 'class="seal-image"' in sealed
    client.post("/logout", data={"csrf_token": _csrf(sealed)})
    _login(client, "pt.vanthu")
    assert client.get("/users/pt.lanhdao/signature-image.png").status_code == 403
