"""Request parsing and response shapes, kept apart from the ORM models."""

from __future__ import annotations

from typing import Any

from flask import request

from docexchange.domain.accounts import role_names
from docexchange.domain.units import parse_code
from docexchange.errors import InvalidInput
from docexchange.services.authz import role_set
from docexchange.storage.models import Unit, UnitGroup, User

__all__ = ["group_to_dict", "json_body", "unit_to_dict", "user_to_dict"]


def json_body() -> dict[str, Any]:
    """The request's JSON object.

    :raises InvalidInput: ``invalid_json`` when the body is not a JSON object.
    """
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidInput("invalid_json")
    return data


def unit_to_dict(unit: Unit, *, detail: bool = False) -> dict[str, Any]:
    """A unit as the API shows it."""
    out: dict[str, Any] = {
        "code": unit.code,
        "name": unit.name,
        "abbreviation": unit.abbreviation,
        "level": unit.level,
        "parent_code": unit.parent_code,
        "valid_from": unit.valid_from.isoformat() if unit.valid_from else None,
        "valid_to": unit.valid_to.isoformat() if unit.valid_to else None,
        "successor_code": unit.successor_code,
    }
    if detail:
        out["identifier"] = parse_code(unit.code).as_dict()
    return out


def user_to_dict(user: User) -> dict[str, Any]:
    """A user as the API shows it (never the password hash)."""
    return {
        "username": user.username,
        "full_name": user.full_name,
        "position": user.position,
        "unit_code": user.unit_code,
        "roles": role_names(role_set(user.role_names)),
        "active": user.active,
    }


def group_to_dict(group: UnitGroup) -> dict[str, Any]:
    """A recipient group with its members in order."""
    return {
        "name": group.name,
        "description": group.description,
        "members": [m.unit_code for m in group.members],
    }
