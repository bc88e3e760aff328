"""Sign-in, sign-out, who am I, and the OpenAPI contract."""

from __future__ import annotations

import json
import logging
from typing import Any

import yaml
from flask import Response, g, jsonify

from docexchange.domain.accounts import role_names
from docexchange.domain.inputs import Credentials
from docexchange.services import (
    accounts,
)
from docexchange.web.blueprints.api_v1.blueprint import OPENAPI_PATH, bp
from docexchange.web.context import (
    current_actor,
    db,
    services,
)
from docexchange.web.schemas import (
    parse_body,
    user_to_dict,
)

logger = logging.getLogger(__name__)


@bp.post("/auth/login")
def login() -> Response:
    """Exchange a username and password for a bearer token."""
    given = parse_body(Credentials)
    svc = services()
    user = accounts.authenticate(
        db(),
        given.username,
        given.password,
        hasher=svc.hasher,
        channel="api",
        policy=svc.login_policy,
    )
    issued = accounts.issue_token(db(), user, ttl_seconds=svc.settings.token_ttl_seconds)
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
        }
    )


@bp.post("/auth/logout")
def logout() -> tuple[str, int]:
    """Revoke the token this request was made with."""
    accounts.revoke_token(db(), g.api_token, actor=current_actor())
    return "", 204


@bp.get("/me")
def me() -> Response:
    """Who the token belongs to."""
    user = accounts.get_user(db(), current_actor().username)
    return jsonify(user_to_dict(user))


_openapi_cache: dict[str, Any] = {}


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI document of this API."""
    if "doc" not in _openapi_cache:
        _openapi_cache["doc"] = yaml.safe_load(OPENAPI_PATH.read_text(encoding="utf-8"))
    return Response(json.dumps(_openapi_cache["doc"]), mimetype="application/json")
