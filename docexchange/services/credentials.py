"""What a person signs in with beyond a username: their password (changed by themselves,
reset by an admin) and a second factor (TOTP, RFC 6238, with pyotp; recovery codes).

The TOTP secret and the recovery codes are kept as :mod:`docexchange.services.totp` says.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from docexchange.domain.accounts import Role, check_password_policy
from docexchange.errors import Conflict, Forbidden, InvalidInput
from docexchange.services import audit
from docexchange.services.accounts import actor_for, end_sessions, get_user
from docexchange.services.authz import Actor, require_role
from docexchange.services.totp import ISSUER, code_hash, matched_step, seal, totp_of
from docexchange.storage.base import utcnow
from docexchange.storage.models import User

__all__ = [
    "Enrolment",
    "PendingStep",
    "change_password",
    "confirm_totp",
    "enrol_totp",
    "pending_step",
    "remove_totp",
    "reset_password",
]

RECOVERY_CODES = 10


class PendingStep(StrEnum):
    """What a signed-in person must do before anything else."""

    PASSWORD_CHANGE = "password_change_required"  # noqa: S105 - a step, not a password
    TOTP_ENROLMENT = "totp_enrolment_required"


def pending_step(user: User, required_roles: Collection[Role]) -> PendingStep | None:
    """The step ``user`` must take first: a new password after a reset, or enrolling a
    second factor their role requires; ``None`` when there is none."""
    if user.must_change_password:
        return PendingStep.PASSWORD_CHANGE
    if user.totp_confirmed_at is None and actor_for(user).has(*required_roles):
        return PendingStep.TOTP_ENROLMENT
    return None


def change_password(
    session: Session, user: User, current: str, new: str, *, hasher: PasswordHasher
) -> None:
    """The person changes their own password: the current one checked, the new one by the
    policy; every session and token of theirs ends (the caller signs them in again).

    :raises Forbidden: ``wrong_current_password``.
    :raises InvalidInput: ``weak_password``, ``common_password``, ``password_unchanged``.
    """
    try:
        hasher.verify(user.password_hash, current)
    except (VerificationError, InvalidHashError):
        audit.record(session, actor=user.username, action="user.password_change_refused")
        session.commit()
        raise Forbidden("wrong_current_password") from None
    check_password_policy(new, username=user.username)
    if new == current:
        raise InvalidInput("password_unchanged")
    user.password_hash = hasher.hash(new)
    user.must_change_password = False
    end_sessions(session, user.id)
    audit.record(session, actor=user.username, action="user.password_change", target=user.username)
    session.commit()


def reset_password(session: Session, username: str, *, actor: Actor, hasher: PasswordHasher) -> str:
    """Admin: give ``username`` a one-time password (returned once, never stored in plain),
    to be replaced at the next sign-in; their sessions and tokens end.

    :raises NotFound: ``user_not_found``.
    """
    require_role(actor, Role.ADMIN)
    user = get_user(session, username)
    one_time = "-".join(secrets.token_hex(3) for _ in range(4))  # 24 hex digits
    user.password_hash = hasher.hash(one_time)
    user.must_change_password = True
    end_sessions(session, user.id)
    audit.record(session, actor=actor.username, action="user.password_reset", target=username)
    session.commit()
    return one_time


@dataclass(frozen=True)
class Enrolment:
    """A second factor being set up: the secret for an app, as text and as a URI."""

    secret: str
    otpauth_uri: str


def enrol_totp(session: Session, user: User, *, secret_key: str) -> Enrolment:
    """Start (or restart) enrolling an authenticator app; not in force until confirmed.

    :raises Conflict: ``totp_already_enrolled`` (remove it first: an admin resets it).
    """
    if user.totp_confirmed_at is not None:
        raise Conflict("totp_already_enrolled")
    secret = pyotp.random_base32()
    user.totp_secret, user.totp_last_step = seal(secret, secret_key), None
    audit.record(session, actor=user.username, action="user.totp_enrol", target=user.username)
    session.commit()
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)
    return Enrolment(secret, uri)


def confirm_totp(session: Session, user: User, code: str, *, secret_key: str) -> list[str]:
    """A first code from the app puts the second factor in force; answers the recovery
    codes (shown once, kept as hashes).

    :raises Conflict: ``totp_not_enrolled``; :raises InvalidInput: ``totp_invalid``.
    """
    totp = totp_of(user, secret_key)
    if totp is None or user.totp_confirmed_at is not None:
        raise Conflict("totp_not_enrolled")
    if matched_step(totp, code) is None:
        raise InvalidInput("totp_invalid")
    codes = [f"{secrets.token_hex(2)}-{secrets.token_hex(2)}" for _ in range(RECOVERY_CODES)]
    user.totp_confirmed_at = utcnow()
    user.recovery_codes = [code_hash(c) for c in codes]
    audit.record(session, actor=user.username, action="user.totp_confirm", target=user.username)
    session.commit()
    return codes


def remove_totp(session: Session, username: str, *, actor: Actor) -> None:
    """Admin: take away a lost second factor (the person enrols again).

    :raises NotFound: ``user_not_found``.
    """
    require_role(actor, Role.ADMIN)
    user = get_user(session, username)
    user.totp_secret, user.totp_confirmed_at, user.recovery_codes = None, None, None
    user.totp_last_step = None
    end_sessions(session, user.id)
    audit.record(session, actor=actor.username, action="user.totp_remove", target=username)
    session.commit()
