"""Sign-in that holds: throttling by account and address across server processes, password
change and reset, a second factor (TOTP) with recovery codes, HSTS behind HTTPS."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from docexchange.services.container import Services, build_services
from docexchange.services.demo import DEMO_PASSWORD
from docexchange.storage.models import AuditEvent, User
from docexchange.web.app import create_app
from tests.clock import pinned
from tests.conftest import auth, error_code, login_token

NOW = datetime(2027, 3, 1, 2, 0, tzinfo=UTC)
ATTACKER, OWNER = {"REMOTE_ADDR": "203.0.113.9"}, {"REMOTE_ADDR": "198.51.100.7"}


@pytest.fixture(autouse=True)
def _pinned() -> Iterator[None]:
    with pinned(NOW):
        yield


def _login(
    client: FlaskClient, username: str, password: str, where: dict[str, str], **more: Any
) -> Any:
    return client.post(
        "/api/v1/auth/login",
        json={"username": username, "password": password, **more},
        environ_base=where,
    )


def test_a_flood_from_one_address_never_locks_the_owner_out_from_another(
    client: FlaskClient, demo: None, services: Services
) -> None:
    for _ in range(20):
        assert _login(client, "cm.vanthu", "guess-guess-1", ATTACKER).status_code in (401, 429)
    blocked = _login(client, "cm.vanthu", DEMO_PASSWORD, ATTACKER)
    assert (blocked.status_code, error_code(blocked)) == (429, "too_many_attempts")
    assert 1 <= int(blocked.headers["Retry-After"]) <= 900
    owner = _login(client, "cm.vanthu", DEMO_PASSWORD, OWNER)
    assert owner.status_code == 200, owner.get_json()
    with services.sessions() as session:
        throttled = session.scalars(
            select(AuditEvent.details).where(AuditEvent.action == "login.throttled")
        ).all()
    assert throttled and all(d["client"] == "203.0.113.9" for d in throttled)


def test_spraying_many_accounts_from_one_address_is_slowed_down_in_every_process(
    client: FlaskClient, demo: None, services: Services
) -> None:
    """The limit per address holds across server processes: a second app, with services
    of its own on the same database, refuses the same address."""
    limit = services.login_policy.max_client_failures
    names = [f"someone{n}" for n in range(limit)]
    for name in names:
        assert _login(client, name, "Spring-2027!!", ATTACKER).status_code == 401
    other = build_services(services.settings)
    try:
        second = create_app(services=other).test_client()
        refused = _login(second, "pt.vanthu", "Spring-2027!!", ATTACKER)
        assert (refused.status_code, error_code(refused)) == (429, "too_many_attempts_client")
        assert "Retry-After" in refused.headers
        assert _login(second, "pt.vanthu", DEMO_PASSWORD, OWNER).status_code == 200
    finally:
        other.engine.dispose()
    with pinned(NOW + timedelta(seconds=services.login_policy.window_seconds + 1)):
        assert _login(client, "pt.vanthu", DEMO_PASSWORD, ATTACKER).status_code == 200


def test_a_person_changes_their_password_and_the_policy_refuses_common_ones(
    client: FlaskClient, demo: None
) -> None:
    token = login_token(client, "cm.vanthu")
    other = login_token(client, "cm.vanthu")

    def change(current: str, new: str) -> Any:
        return client.post(
            "/api/v1/auth/password",
            json={"current_password": current, "new_password": new},
            headers=auth(token),
        )

    wrong = change("not-my-password", "Một câu dài dễ nhớ 2027")
    assert (wrong.status_code, error_code(wrong)) == (403, "wrong_current_password")
    for weak, code in (
        ("short-1", "weak_password"),
        ("Matkhau@1234", "common_password"),
        ("cm.vanthu-2027-x", "common_password"),
        ("aaaaaaaaaaaaaa", "common_password"),
    ):
        refused = change(DEMO_PASSWORD, weak)
        assert (refused.status_code, error_code(refused)) == (422, code), weak
    done = change(DEMO_PASSWORD, "Một câu dài dễ nhớ 2027")
    assert done.status_code == 200 and done.get_json()["token"]
    assert client.get("/api/v1/me", headers=auth(other)).status_code == 401
    assert client.get("/api/v1/me", headers=auth(done.get_json()["token"])).status_code == 200
    assert (
        client.post(
            "/api/v1/auth/login", json={"username": "cm.vanthu", "password": DEMO_PASSWORD}
        ).status_code
        == 401
    )
    assert login_token(client, "cm.vanthu", "Một câu dài dễ nhớ 2027")


def test_an_admin_reset_gives_a_one_time_password_that_must_be_changed(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    before = login_token(client, "ml.vanthu")
    reset = client.post("/api/v1/users/ml.vanthu/password-reset", headers=as_user("admin"))
    assert reset.status_code == 200
    one_time = reset.get_json()["one_time_password"]
    assert re.fullmatch(r"[0-9a-f]{6}(-[0-9a-f]{6}){3}", one_time)
    assert client.get("/api/v1/me", headers=auth(before)).status_code == 401
    signed_in = client.post(
        "/api/v1/auth/login", json={"username": "ml.vanthu", "password": one_time}
    ).get_json()
    assert signed_in["next_step"] == "password_change_required"
    token = signed_in["token"]
    held = client.get("/api/v1/inbox", headers=auth(token))
    assert (held.status_code, error_code(held)) == (403, "password_change_required")
    changed = client.post(
        "/api/v1/auth/password",
        json={"current_password": one_time, "new_password": "Lương Minh đổi mật khẩu"},
        headers=auth(token),
    )
    assert changed.status_code == 200 and changed.get_json()["next_step"] is None
    assert client.get("/api/v1/inbox", headers=auth(changed.get_json()["token"])).status_code == 200
    with services.sessions() as session:
        user = session.scalar(select(User).where(User.username == "ml.vanthu"))
        assert user is not None and one_time not in user.password_hash
        assert not user.must_change_password
    refused = client.post("/api/v1/users/admin/password-reset", headers=as_user("cm.vanthu"))
    assert (refused.status_code, error_code(refused)) == (403, "role_required")


def test_a_totp_enrolled_admin_cannot_sign_in_without_the_code(
    client: FlaskClient, demo: None, services: Services
) -> None:
    token = login_token(client, "admin")
    enrol = client.post("/api/v1/auth/totp/enrol", headers=auth(token)).get_json()
    assert enrol["otpauth_uri"].startswith("otpauth://totp/docexchange:admin?")
    totp = pyotp.TOTP(enrol["secret"])
    bad = client.post("/api/v1/auth/totp/confirm", json={"code": "000000"}, headers=auth(token))
    assert (bad.status_code, error_code(bad)) == (422, "totp_invalid")
    confirmed = client.post(
        "/api/v1/auth/totp/confirm", json={"code": totp.now()}, headers=auth(token)
    ).get_json()
    recovery = confirmed["recovery_codes"]
    assert confirmed["enabled"] and len(recovery) == 10
    with services.sessions() as session:
        user = session.scalar(select(User).where(User.username == "admin"))
        assert user is not None and user.totp_secret and enrol["secret"] not in user.totp_secret
        assert recovery[0] not in str(user.recovery_codes)

    missing = _login(client, "admin", DEMO_PASSWORD, OWNER)
    assert (missing.status_code, error_code(missing)) == (401, "totp_required")
    wrong = _login(client, "admin", DEMO_PASSWORD, OWNER, totp="123456")
    assert (wrong.status_code, error_code(wrong)) == (401, "totp_invalid")
    code = totp.now()
    assert _login(client, "admin", DEMO_PASSWORD, OWNER, totp=code).status_code == 200
    replayed = _login(client, "admin", DEMO_PASSWORD, OWNER, totp=code)
    assert (replayed.status_code, error_code(replayed)) == (401, "totp_used")  # a code once
    assert _login(client, "admin", DEMO_PASSWORD, OWNER, totp=recovery[0]).status_code == 200
    used = _login(client, "admin", DEMO_PASSWORD, OWNER, totp=recovery[0])
    assert (used.status_code, error_code(used)) == (401, "totp_invalid")  # each code once
    again = client.post("/api/v1/auth/totp/enrol", headers=auth(token))
    assert (again.status_code, error_code(again)) == (409, "totp_already_enrolled")
    # The page asks for the code too.
    page_client = client.application.test_client()
    page = page_client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert csrf is not None
    refused = page_client.post(
        "/login",
        data={"csrf_token": csrf.group(1), "username": "admin", "password": DEMO_PASSWORD},
        follow_redirects=True,
    )
    assert "Hãy nhập mã từ ứng dụng xác thực" in refused.get_data(as_text=True)


def test_the_roles_named_must_enrol_before_anything_else(services: Services, demo: None) -> None:
    settings = services.settings.with_overrides(require_totp_roles=None, demo_mode=False)
    assert settings.totp_roles == {"admin"}
    assert settings.with_overrides(demo_mode=True).totp_roles == frozenset()
    app: Flask = create_app(services=replace(services, settings=settings))
    client = app.test_client()
    signed_in = client.post(
        "/api/v1/auth/login", json={"username": "admin", "password": DEMO_PASSWORD}
    ).get_json()
    assert signed_in["next_step"] == "totp_enrolment_required"
    held = client.get("/api/v1/units", headers=auth(signed_in["token"]))
    assert (held.status_code, error_code(held)) == (403, "totp_enrolment_required")
    assert client.get("/api/v1/me", headers=auth(signed_in["token"])).status_code == 200
    clerk = client.post(
        "/api/v1/auth/login", json={"username": "pt.vanthu", "password": DEMO_PASSWORD}
    ).get_json()
    assert clerk["next_step"] is None


def test_behind_https_cookies_are_secure_and_hsts_is_sent(services: Services) -> None:
    settings = services.settings.with_overrides(secure_cookies=True, trusted_proxies=1)
    app = create_app(services=replace(services, settings=settings))
    response = app.test_client().get(
        "/login", headers={"X-Forwarded-For": "192.0.2.44", "X-Forwarded-Proto": "https"}
    )
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    cookie = response.headers.get("Set-Cookie", "")
    assert "Secure" in cookie and "HttpOnly" in cookie
    plain = create_app(services=services).test_client().get("/login")
    assert "Strict-Transport-Security" not in plain.headers


def test_the_pages_reset_change_and_enrol(client: FlaskClient, demo: None, app: Flask) -> None:
    """An admin resets a password on the users page; the person signs in with it, is sent
    to their account page, chooses a new one; then sets up an authenticator app there."""
    from tests.web.test_ui import _csrf
    from tests.web.test_ui import _login as login_page

    users = login_page(client, "admin")
    users = client.get("/users?unit=000.22.12.H45").get_data(as_text=True)
    reset = client.post(
        "/users/ml.vanthu/password-reset", data={"csrf_token": _csrf(users)}
    ).get_data(as_text=True)
    found = re.search(r'<code id="one-time-password" class="big">([^<]+)</code>', reset)
    assert found is not None and "chỉ hiển thị lần này" in reset
    one_time = found.group(1)

    person = app.test_client()
    landed = login_page(person, "ml.vanthu", one_time)
    assert "Mật khẩu của bạn đã được đặt lại" in landed and 'id="change-password"' in landed
    assert person.get("/inbox").headers["Location"].endswith("/account/")
    changed = person.post(
        "/account/password",
        data={
            "csrf_token": _csrf(landed),
            "current_password": one_time,
            "new_password": "Bùi Thị Minh đổi mật khẩu",
        },
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Đã đổi mật khẩu" in changed
    assert person.get("/inbox").status_code == 200

    account = person.get("/account/").get_data(as_text=True)
    enrol = person.post("/account/totp/enrol", data={"csrf_token": _csrf(account)})
    page = enrol.get_data(as_text=True)
    assert '<div id="totp-qr" class="qr"><svg' in page
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', page)
    assert secret is not None
    done = person.post(
        "/account/totp/confirm",
        data={"csrf_token": _csrf(page), "code": pyotp.TOTP(secret.group(1)).now()},
    ).get_data(as_text=True)
    assert done.count("<li><code>") == 10 and "Đã bật xác thực hai lớp" in done
    assert 'id="totp-on"' in person.get("/account/").get_data(as_text=True)


def test_an_admin_picks_any_unit_edits_roles_and_stops_an_account_on_the_page(
    client: FlaskClient, demo: None, app: Flask, services: Services
) -> None:
    from tests.web.test_ui import _csrf
    from tests.web.test_ui import _login as login_page

    held = login_token(client, "ml.lanhdao")
    login_page(client, "admin")
    page = client.get("/users").get_data(as_text=True)
    assert '<option value="000.22.12.H45">UBND xã Minh Lương</option>' in page
    page = client.get("/users?unit=000.22.12.H45").get_data(as_text=True)
    assert "Người dùng của UBND xã Minh Lương" in page
    assert 'value="signer" checked> Người ký (lãnh đạo)' in page  # roles in Vietnamese
    saved = client.post(
        "/users/ml.lanhdao/roles",
        data={"csrf_token": _csrf(page), "roles": ["signer", "clerk"]},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Đã lưu vai trò của ml.lanhdao" in saved
    assert client.get("/api/v1/me", headers=auth(held)).status_code == 401  # old roles

    def active(username: str, value: str) -> str:
        answer = client.post(
            f"/users/{username}/active",
            data={"csrf_token": _csrf(saved), "active": value},
            follow_redirects=True,
        )
        return str(answer.get_data(as_text=True))

    stopped = active("ml.lanhdao", "0")
    assert "Đã ngừng tài khoản ml.lanhdao" in stopped and "đã ngừng" in stopped
    refused = client.post(
        "/api/v1/auth/login", json={"username": "ml.lanhdao", "password": DEMO_PASSWORD}
    )
    assert refused.status_code == 401
    assert "không thể ngừng tài khoản của chính mình" in active("admin", "0")
    assert "đã được hoạt động trở lại" in active("ml.lanhdao", "1")
    assert login_token(client, "ml.lanhdao")
    with services.sessions() as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.target == "ml.lanhdao")
        ).all()
    assert {"user.roles", "user.deactivate", "user.reactivate"} <= set(actions)
