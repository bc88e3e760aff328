"""UI sessions live on the server: a copied cookie dies with logout, revoke-tokens, a role
change and deactivation (issue 14 §6)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.web.test_ui import _csrf, _login

pytestmark = pytest.mark.usefixtures("demo")


def _copy(app: Flask, client: FlaskClient) -> FlaskClient:
    """A second browser holding a copy of ``client``'s session cookie (a stolen cookie)."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    return thief


def _signed_in(client: FlaskClient) -> bool:
    return client.get("/").status_code == 200


def test_a_cookie_saved_before_logout_is_refused_after_it(app: Flask, client: FlaskClient) -> None:
    _login(client, "cm.vanthu")
    thief = _copy(app, client)
    assert _signed_in(thief)
    page = client.get("/").get_data(as_text=True)
    assert client.post("/logout", data={"csrf_token": _csrf(page)}).status_code == 302
    assert not _signed_in(client)
    refused = thief.get("/")
    assert refused.status_code == 302 and "/login" in refused.headers["Location"]
    _login(client, "cm.vanthu")  # signing in again makes a new session
    assert _signed_in(client) and not _signed_in(thief)


def test_revoke_tokens_and_a_role_change_end_ui_sessions_at_once(
    app: Flask, client: FlaskClient, as_user: Any
) -> None:
    admin = as_user("admin")
    _login(client, "cm.vanthu")
    thief = _copy(app, client)
    revoked = client.post("/api/v1/users/cm.vanthu/revoke-tokens", headers=admin)
    assert revoked.status_code == 200
    assert not _signed_in(client) and not _signed_in(thief)

    _login(client, "cm.lanhdao")
    changed = client.put(
        "/api/v1/users/cm.lanhdao/roles", json={"roles": ["signer", "clerk"]}, headers=admin
    )
    assert changed.status_code == 200, changed.get_json()
    assert not _signed_in(client)
    _login(client, "cm.lanhdao")
    assert _signed_in(client)
