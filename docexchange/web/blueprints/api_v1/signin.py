"""Sign-in, sign-out, who am I, and the OpenAPI contract."""

from __future__ import annotations

import json
import logging
from typing import Any

import yaml
from flask import Response, g, jsonify

from docexchange.domain.accounts import role_names
from docexchange.domain.inputs import Credentials, PasswordChange, TotpCode
from docexchange.services import (
    accounts,
    credentials,
)
from docexchange.storage.models import User
from docexchange.web.auth import required_totp_roles
from docexchange.web.blueprints.api_v1.blueprint import OPENAPI_PATH, bp
from docexchange.web.context import (
    client_address,
    current_actor,
    db,
    services,
)
from docexchange.web.observe import reads_only
from docexchange.web.schemas import (
    parse_body,
    user_to_dict,
)

logger = logging.getLogger(__name__)


@bp.post("/auth/login")
def login() -> Response:
    """Exchange a username and password (and, with a second factor, its code) for a
    bearer token."""
    given = parse_body(Credentials)
    svc = services()
    user = accounts.authenticate(
        db(),
        given.username,
        given.password,
        hasher=svc.hasher,
        channel="api",
        policy=svc.login_policy,
        client=client_address(),
        totp=given.totp,
        secret_key=svc.settings.secret_key,
    )
    return _signed_in(user)


def _signed_in(user: User) -> Response:
    """A fresh token for ``user``, who they are, and the step they must take first."""
    issued = accounts.issue_token(db(), user, ttl_seconds=services().settings.token_ttl_seconds)
    step = credentials.pending_step(user, required_totp_roles())
    return jsonify(
        {
            "token": issued.token,
            "expires_at": issued.expires_at.isoformat(),
            "user": {
                "username": user.username,
                "full_name": user.full_name,
                "unit_code": user.unit_code,
                "roles": role_names(accounts.actor_for(user).roles),
            },
            "next_step": step.value if step else None,
        }
    )


@bp.post("/auth/password")
def change_password() -> Response:
    """Change one's own password, ``{current_password, new_password}``: every session and
    token ends; the answer carries a new token."""
    body = parse_body(PasswordChange)
    user = accounts.get_user(db(), current_actor().username)
    credentials.change_password(
        db(), user, body.current_password, body.new_password, hasher=services().hasher
    )
    return _signed_in(user)


@bp.post("/auth/totp/enrol")
def totp_enrol() -> Response:
    """Start setting up an authenticator app: ``{secret, otpauth_uri}`` (not in force until
    confirmed)."""
    user = accounts.get_user(db(), current_actor().username)
    enrolment = credentials.enrol_totp(db(), user, secret_key=services().settings.secret_key)
    return jsonify({"secret": enrolment.secret, "otpauth_uri": enrolment.otpauth_uri})


@bp.post("/auth/totp/confirm")
def totp_confirm() -> Response:
    """A first code from the app, ``{code}``, puts the second factor in force: answers the
    recovery codes, shown this once."""
    user = accounts.get_user(db(), current_actor().username)
    codes = credentials.confirm_totp(
        db(), user, parse_body(TotpCode).code, secret_key=services().settings.secret_key
    )
    return jsonify({"enabled": True, "recovery_codes": codes})


@bp.post("/auth/logout")
def logout() -> tuple[str, int]:
    """Revoke the token this request was made with."""
    accounts.revoke_token(db(), g.api_token, actor=current_actor())
    return "", 204


@bp.get("/me")
@reads_only
def me() -> Response:
    """Who the token belongs to."""
    user = accounts.get_user(db(), current_actor().username)
    return jsonify(user_to_dict(user))


_openapi_cache: dict[str, Any] = {}


@bp.get("/openapi.json")
@reads_only
def openapi() -> Response:
    """The OpenAPI document of this API."""
    if "doc" not in _openapi_cache:
        _openapi_cache["doc"] = yaml.safe_load(OPENAPI_PATH.read_text(encoding="utf-8"))
    return Response(json.dumps(_openapi_cache["doc"]), mimetype="application/json")
