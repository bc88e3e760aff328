"""Users and roles, their tokens, signature and seal images."""

from __future__ import annotations

import logging

from flask import Response, jsonify, request

from docexchange.domain.inputs import NewUserBody, RolesBody, TokenBody, UnitTokenBody
from docexchange.errors import InvalidInput
from docexchange.services import (
    accounts,
    appearances,
    credentials,
    tokens,
)
from docexchange.web.blueprints.api_v1.blueprint import _items, bp
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


@bp.post("/users")
def create_user() -> tuple[Response, int]:
    """Admin: create an account."""
    new = accounts.NewUser.from_body(parse_body(NewUserBody))
    user = accounts.create_user(db(), new, hasher=services().hasher, actor=current_actor())
    return jsonify(user_to_dict(user)), 201


@bp.get("/users")
def list_users() -> Response:
    """Users of ``?unit=`` (default: the caller's unit), if the caller may see them."""
    actor = current_actor()
    unit = request.args.get("unit") or actor.unit_code
    users = accounts.list_users(db(), unit_code=unit, actor=actor)
    return _items([user_to_dict(u) for u in users])


@bp.put("/users/<username>/roles")
def set_roles(username: str) -> Response:
    """Admin: replace a user's roles ``{roles: [...]}``; the role history keeps the old ones."""
    roles = parse_body(RolesBody).roles
    user = accounts.set_roles(db(), username, roles, actor=current_actor())
    return jsonify(user_to_dict(user))


@bp.post("/users/<username>/revoke-tokens")
def revoke_tokens(username: str) -> Response:
    """Admin: revoke every token of a user."""
    count = accounts.revoke_user_tokens(db(), username, actor=current_actor())
    return jsonify({"revoked": count})


@bp.post("/users/<username>/deactivate")
def deactivate_user(username: str) -> Response:
    """Admin: stop an account; its sessions and tokens end at once."""
    user = accounts.set_active(db(), username, False, actor=current_actor())
    return jsonify(user_to_dict(user))


@bp.post("/users/<username>/reactivate")
def reactivate_user(username: str) -> Response:
    """Admin: let a stopped account sign in again."""
    user = accounts.set_active(db(), username, True, actor=current_actor())
    return jsonify(user_to_dict(user))


@bp.post("/users/<username>/password-reset")
def reset_password(username: str) -> Response:
    """Admin: a one-time password for ``username`` (shown this once), to be replaced at the
    next sign-in; their sessions and tokens end."""
    one_time = credentials.reset_password(
        db(), username, actor=current_actor(), hasher=services().hasher
    )
    return jsonify({"username": username, "one_time_password": one_time})


@bp.delete("/users/<username>/totp")
def remove_totp(username: str) -> tuple[str, int]:
    """Admin: take away a lost second factor (the person enrols again)."""
    credentials.remove_totp(db(), username, actor=current_actor())
    return "", 204


@bp.post("/users/<username>/token")
def provision_user_token(username: str) -> tuple[Response, int]:
    """Admin: a personal token with a key generated on it and a certificate from the CA."""
    body = parse_body(TokenBody)
    made = tokens.provision_user_token(
        db(),
        username,
        body.pin,
        keys=services().keys,
        actor=current_actor(),
        algorithm=body.algorithm,
        so_pin=body.so_pin,
        demo=services().settings.demo_mode,
    )
    return jsonify({"token_label": made.label, "certificate_pem": made.certificate_pem}), 201


@bp.post("/units/<code>/token")
def provision_unit_token(code: str) -> tuple[Response, int]:
    """Admin: the unit's organisation token (digital seal)."""
    body = parse_body(UnitTokenBody)
    made = tokens.provision_unit_token(
        db(),
        code,
        body.pin,
        keys=services().keys,
        actor=current_actor(),
        so_pin=body.so_pin,
        demo=services().settings.demo_mode,
    )
    return jsonify({"token_label": made.label, "certificate_pem": made.certificate_pem}), 201


def _image_body() -> bytes:
    upload = request.files.get("file")
    data = upload.read() if upload is not None else request.get_data(cache=False)
    if not data:
        raise InvalidInput("missing_field", field="file")
    return data


@bp.put("/users/<username>/signature-image")
def put_signature_image(username: str) -> Response:
    """Admin: the person's handwritten signature (transparent PNG, body or multipart file)."""
    digest = appearances.set_signature_image(
        db(), username, _image_body(), blobs=services().blobs, actor=current_actor()
    )
    return jsonify({"sha256": digest})


@bp.put("/units/<code>/seal-image")
def put_seal_image(code: str) -> Response:
    """Admin: the unit's seal (transparent PNG)."""
    digest = appearances.set_seal_image(
        db(), code, _image_body(), blobs=services().blobs, actor=current_actor()
    )
    return jsonify({"sha256": digest})


@bp.post("/tokens/<label>/unlock")
def unlock_token(label: str) -> tuple[str, int]:
    """Admin: clear a token's wrong-PIN lock."""
    tokens.unlock_token(db(), label, actor=current_actor())
    return "", 204
