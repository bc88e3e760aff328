"""Admin pages that act: the directory (add, rename, close with a successor) and the token
page (new tokens for a person and a unit, named by their owners), each change audited."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from docexchange.services.container import Services
from docexchange.services.demo import DISTRICT, PROVINCE
from docexchange.storage.models import AuditEvent, Unit
from tests.conftest import auth, login_token
from tests.web.test_ui import _csrf, _login

NEW_COMMUNE = "000.31.12.H45"
NEW_PIN = "864209"


def _audited(services: Services, action: str, target: str) -> list[AuditEvent]:
    with services.sessions() as s:
        return list(
            s.scalars(
                select(AuditEvent).where(AuditEvent.action == action, AuditEvent.target == target)
            )
        )


def _add_commune(client: FlaskClient, code: str = NEW_COMMUNE, **extra: str) -> Any:
    page = client.get(f"/directory?code={DISTRICT}").get_data(as_text=True)
    form = {
        "csrf_token": _csrf(page),
        "parent": DISTRICT,
        "add-code": code,
        "add-name": "UBND xã Thử Nghiệm",
        "add-abbreviation": "UBND xã TN",
        "add-level": "commune",
        "add-valid_from": "2026-01-01",
    }
    form.update(extra)
    return client.post("/directory/new", data=form)


def test_an_admin_adds_renames_and_closes_a_unit_on_the_directory_page(
    client: FlaskClient, demo: None, services: Services
) -> None:
    _login(client, "admin")
    page = client.get(f"/directory?code={DISTRICT}").get_data(as_text=True)
    assert "Thêm đơn vị trực thuộc" in page
    # The levels offered are those that may sit under a district, communes first.
    assert page.index('value="commune"') < page.index('value="department"')
    assert 'value="province"' not in page.split('id="add-unit"')[1]

    added = _add_commune(client)
    assert added.status_code == 302 and added.location.endswith(f"code={NEW_COMMUNE}")
    shown = client.get(added.location).get_data(as_text=True)
    assert "Đã thêm đơn vị UBND xã Thử Nghiệm." in shown
    assert _audited(services, "unit.create", NEW_COMMUNE)

    # The same code again: refused with the reason, the typed name kept, nothing made twice.
    again = _add_commune(client, **{"add-name": "UBND xã Trùng Mã"})
    text = again.get_data(as_text=True)
    assert again.status_code == 200 and f"Đơn vị {NEW_COMMUNE} đã tồn tại" in text
    assert 'value="UBND xã Trùng Mã"' in text
    # A commune cannot sit at the top of the tree: the service says why.
    top = client.post(
        "/directory/new",
        data={
            "csrf_token": _csrf(text),
            "add-code": "000.32.12.H45",
            "add-name": "UBND xã Lạc",
            "add-abbreviation": "Lạc",
            "add-level": "commune",
        },
    )
    assert top.status_code == 200 and "000.32.12.H45" not in _codes(services)

    csrf = _csrf(shown)
    renamed = client.post(
        f"/directory/{NEW_COMMUNE}/edit",
        data={
            "csrf_token": csrf,
            "edit-name": "UBND xã Thử Nghiệm Mới",
            "edit-abbreviation": "TNM",
        },
    )
    assert renamed.status_code == 302
    closed = client.post(
        f"/directory/{NEW_COMMUNE}/close",
        data={
            "csrf_token": csrf,
            "close-valid_to": "2026-06-30",
            "close-successor": "000.21.12.H45",
        },
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Đã ghi nhận kết thúc hoạt động của UBND xã Thử Nghiệm Mới." in closed
    # The successor is shown by name, and the closed unit is marked in its parent's list.
    assert "Đơn vị kế thừa" in closed
    with services.sessions() as s:
        unit = s.get(Unit, NEW_COMMUNE)
        assert unit is not None
        assert (unit.name, unit.abbreviation) == ("UBND xã Thử Nghiệm Mới", "TNM")
        assert (unit.valid_to.isoformat(), unit.successor_code) == ("2026-06-30", "000.21.12.H45")
        successor_name = s.get(Unit, "000.21.12.H45").name  # type: ignore[union-attr]
    assert successor_name in closed
    parent = client.get(f"/directory?code={DISTRICT}").get_data(as_text=True)
    assert "kết thúc hoạt động ngày 30/06/2026" in parent
    changes = _audited(services, "unit.update", NEW_COMMUNE)
    assert [sorted(e.details["after"]) for e in changes] == [
        ["abbreviation", "name"],
        ["successor_code", "valid_to"],
    ]

    # A day that is not a day: the reason, and the unit unchanged.
    bad = client.post(
        f"/directory/{PROVINCE}/close",
        data={"csrf_token": csrf, "close-valid_to": "30/02/2026", "close-successor": ""},
    )
    assert bad.status_code == 200 and "phải là ngày theo dạng" in bad.get_data(as_text=True)
    with services.sessions() as s:
        assert s.get(Unit, PROVINCE).valid_to is None  # type: ignore[union-attr]


def _codes(services: Services) -> set[str]:
    with services.sessions() as s:
        return set(s.scalars(select(Unit.code)))


def test_only_admins_change_the_directory(client: FlaskClient, demo: None) -> None:
    _login(client, "pt.vanthu")
    page = client.get(f"/directory?code={DISTRICT}").get_data(as_text=True)
    assert "add-unit" not in page and "close-unit" not in page
    refused = client.post(
        f"/directory/{DISTRICT}/edit",
        data={"csrf_token": _csrf(page), "edit-name": "X", "edit-abbreviation": "X"},
    )
    assert refused.status_code == 403


@pytest.mark.usefixtures("signing_tokens", "registered_certificates")
def test_an_admin_makes_tokens_for_a_person_and_a_unit_on_the_token_page(
    client: FlaskClient, as_user: Any, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    admin = as_user("admin")
    made = client.post(
        "/api/v1/users",
        json={
            "username": "tn.lanhdao",
            "full_name": "Lê Thị Thử",
            "position": "Chủ tịch",
            "unit_code": DISTRICT,
            "password": "a-long-password-1",
            "roles": ["signer", "clerk"],
        },
        headers=admin,
    )
    assert made.status_code == 201
    _login(client, "admin")
    assert _add_commune(client).status_code == 302
    client.post(
        "/api/v1/users",
        json={
            "username": "tn.vanthu",
            "full_name": "Phan Văn Thư",
            "unit_code": NEW_COMMUNE,
            "password": "a-long-password-1",
            "roles": ["clerk"],
        },
        headers=admin,
    )
    page = client.get("/admin/tokens").get_data(as_text=True)
    # Owners by name; headers that say what they mean.
    assert "Thiết bị ký của" in page and "Cặp khóa ký số" in page
    assert "Cá nhân: Nguyễn Văn Tỉnh" in page
    offered_people = page.split('id="new-person-token"')[1].split("</section>")[0]
    assert 'value="tn.lanhdao"' in offered_people and 'value="pt.lanhdao"' not in offered_people
    offered_units = page.split('id="new-unit-token"')[1].split("</section>")[0]
    assert f'value="{NEW_COMMUNE}"' in offered_units and f'value="{PROVINCE}"' not in offered_units

    caplog.set_level(logging.DEBUG)
    differ = client.post(
        "/admin/tokens/person",
        data={
            "csrf_token": _csrf(page),
            "person-owner": "tn.lanhdao",
            "person-algorithm": "rsa2048",
            "person-pin": NEW_PIN,
            "person-pin_again": "864208",
        },
    )
    text = differ.get_data(as_text=True)
    assert "Hai lần nhập mã PIN không giống nhau." in text and NEW_PIN not in text
    assert not _audited(services, "token.provision", "u:tn.lanhdao")

    person = client.post(
        "/admin/tokens/person",
        data={
            "csrf_token": _csrf(page),
            "person-owner": "tn.lanhdao",
            "person-algorithm": "ec-p256",
            "person-pin": NEW_PIN,
            "person-pin_again": NEW_PIN,
        },
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Đã tạo thiết bị ký cho Lê Thị Thử cùng cặp khóa và chứng thư số." in person
    row = person.split('data-token="u:tn.lanhdao"')[1].split("</tr>")[0]
    assert "Cá nhân: Lê Thị Thử" in row and "dùng được" in row and "Lê Thị Thử" in row

    seal = client.post(
        "/admin/tokens/unit",
        data={
            "csrf_token": _csrf(page),
            "unit-owner": NEW_COMMUNE,
            "unit-pin": NEW_PIN,
            "unit-pin_again": NEW_PIN,
        },
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Đã tạo thiết bị ký cho UBND xã Thử Nghiệm cùng cặp khóa" in seal
    assert "Đơn vị: UBND xã Thử Nghiệm" in seal.split(f'data-token="o:{NEW_COMMUNE}"')[1]
    events = _audited(services, "token.provision", "u:tn.lanhdao") + _audited(
        services, "token.provision", f"o:{NEW_COMMUNE}"
    )
    assert [e.actor for e in events] == ["admin", "admin"]
    # The PIN went to the token only: not in a page, an audit event or a log line.
    assert all(NEW_PIN not in str(e.details) for e in events)
    assert NEW_PIN not in caplog.text and NEW_PIN not in seal and NEW_PIN not in person

    # The new personal token signs with its PIN.
    from tests.web.test_documents import upload

    leader = auth(login_token(client, "tn.lanhdao", "a-long-password-1"))
    doc_id = upload(client, leader).get_json()["id"]
    signed = client.post(f"/api/v1/documents/{doc_id}/sign", json={"pin": NEW_PIN}, headers=leader)
    assert signed.status_code == 200, signed.get_json()
