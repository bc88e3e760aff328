"""People, roles and who may see what (DESIGN.md §2)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path

from docexchange.domain.search import fold
from docexchange.errors import InvalidInput, invalid_field

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "Role",
    "check_password_policy",
    "check_username",
    "mask_personal_ids",
    "parse_roles",
]

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
MIN_PASSWORD_LENGTH = 12


class Role(StrEnum):
    """What a person may do in their unit."""

    SIGNER = "signer"
    CLERK = "clerk"
    SPECIALIST = "specialist"
    ADMIN = "admin"
    AUDITOR = "auditor"


def parse_roles(values: object) -> frozenset[Role]:
    """Parse a non-empty list of role names.

    :raises InvalidInput: ``invalid_role`` or ``invalid_field``.
    """
    if not isinstance(values, list | tuple) or not values:
        raise invalid_field("roles", "reason_non_empty_list")
    roles: set[Role] = set()
    for value in values:
        try:
            roles.add(Role(str(value)))
        except ValueError:
            raise InvalidInput("invalid_role", role=str(value)[:40]) from None
    return frozenset(roles)


def check_username(value: object) -> str:
    """Validate a login name.

    :raises InvalidInput: ``invalid_username``.
    """
    text = value if isinstance(value, str) else ""
    if not USERNAME_PATTERN.match(text):
        raise InvalidInput("invalid_username", username=str(value)[:80])
    return text


@functools.cache
def _common_passwords() -> frozenset[str]:
    text = (Path(__file__).parent / "data" / "common_passwords.txt").read_text(encoding="utf-8")
    lines = (line.strip() for line in text.splitlines())
    return frozenset(_plain(line) for line in lines if line and not line.startswith("#"))


def _plain(password: str) -> str:
    """A password as compared with the list: folded as a search is (lower case, no marks),
    without spaces."""
    return fold(password).replace(" ", "")


def check_password_policy(password: object, *, username: str | None = None) -> str:
    """Refuse passwords that are too short, common, one character repeated, or the
    username itself (NIST SP 800-63B: length and a blocklist over composition rules).

    :raises InvalidInput: ``weak_password`` (too short) or ``common_password``.
    """
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("weak_password", min_length=MIN_PASSWORD_LENGTH)
    plain = _plain(password)
    if (
        plain in _common_passwords()
        or len(set(plain)) <= 2
        or (username is not None and username.casefold() in plain)
    ):
        raise InvalidInput("common_password")
    return password


def role_names(roles: Iterable[Role]) -> list[str]:
    """Sorted role names for output."""
    return sorted(role.value for role in roles)


_PERSONAL_ID = re.compile(r"(CCCD|CMND|HC|PASSPORT)\s*:\s*([0-9A-Za-z]{6,20})", re.IGNORECASE)


def mask_personal_ids(text: str) -> str:
    """``CCCD:046119643979`` -> ``CCCD:0461******79`` in a certificate subject (a citizen ID
    is personal data: shown whole only to those entitled to it, never on a public page)."""

    def _mask(match: re.Match[str]) -> str:
        value = match.group(2)
        return f"{match.group(1)}:{value[:4]}{'*' * (len(value) - 6)}{value[-2:]}"

    return _PERSONAL_ID.sub(_mask, text)
