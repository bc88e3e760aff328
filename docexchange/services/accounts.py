"""Accounts: users and roles, password login, API bearer tokens."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, joinedload

from docexchange.domain.accounts import (
    Role,
    check_password_policy,
)
from docexchange.domain.edge import parse_input
from docexchange.domain.inputs import NewUserBody
from docexchange.errors import (
    Conflict,
    NotFound,
    TooManyRequests,
    Unauthorized,
    invalid_field,
)
from docexchange.services import audit
from docexchange.services.authz import Actor, require_role, require_unit_visible, role_set
from docexchange.services.throttle import (
    LoginPolicy,
    check_allowed,
    forget_failures,
    record_failure,
)
from docexchange.services.totp import check_second_factor
from docexchange.storage.base import utcnow
from docexchange.storage.models import ApiToken, RoleHistory, Unit, User, UserRole

__all__ = [
    "IssuedToken",
    "LoginPolicy",
    "NewUser",
    "actor_for",
    "authenticate",
    "create_user",
    "issue_token",
    "list_users",
    "names_in_unit",
    "resolve_token",
    "revoke_token",
    "revoke_user_tokens",
    "set_active",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class NewUser:
    """What an admin gives to create an account (the password is hashed, then dropped)."""

    username: str
    password: str
    full_name: str
    unit_code: str
    roles: frozenset[Role]
    position: str = ""

    @classmethod
    def from_body(cls, body: NewUserBody) -> NewUser:
        """The account a parsed request describes."""
        return cls(
            username=body.username,
            password=body.password,
            full_name=body.full_name,
            unit_code=body.unit_code,
            roles=body.roles,
            position=body.position or "",
        )

    @classmethod
    def from_mapping(cls, data: object) -> NewUser:
        """A form's or the command line's values, parsed as :class:`NewUserBody`.

        :raises InvalidInput: for a missing or malformed field.
        """
        return cls.from_body(parse_input(NewUserBody, data))


@dataclass(frozen=True)
class IssuedToken:
    """A fresh bearer token: the secret is shown once, only its hash is kept."""

    token: str
    expires_at: datetime
    user: User


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def actor_for(user: User) -> Actor:
    """The :class:`Actor` for a loaded user."""
    return Actor(
        user_id=user.id,
        username=user.username,
        unit_code=user.unit_code,
        roles=role_set(user.role_names),
        full_name=user.full_name,
        position=user.position,
        signature_image_sha256=user.signature_image_sha256,
    )


def create_user(
    session: Session, new: NewUser, *, hasher: PasswordHasher, actor: Actor | None
) -> User:
    """Create an account. ``actor=None`` is the CLI (``init``/``demo``), which is trusted.

    :raises Forbidden: when the actor is not an admin.
    :raises NotFound: ``unit_not_found``.
    :raises Conflict: ``user_exists``.
    """
    if actor is not None:
        require_role(actor, Role.ADMIN)
    if session.get(Unit, new.unit_code) is None:
        raise NotFound("unit_not_found", code=new.unit_code)
    if session.scalar(select(User.id).where(User.username == new.username)) is not None:
        raise Conflict("user_exists", username=new.username)
    user = User(
        username=new.username,
        full_name=new.full_name,
        position=new.position,
        unit_code=new.unit_code,
        password_hash=hasher.hash(new.password),
        roles=[UserRole(role=r.value) for r in sorted(new.roles)],
    )
    session.add(user)
    session.flush()
    sync_role_history(session, user)
    audit.record(
        session,
        actor=actor.username if actor else "system",
        action="user.create",
        target=new.username,
        details={"unit": new.unit_code, "roles": sorted(r.value for r in new.roles)},
    )
    session.commit()
    return user


def sync_role_history(session: Session, user: User, *, at: datetime | None = None) -> None:
    """Make the open role-history rows match the user's unit and roles (in the caller's
    transaction): close what is no longer held, open what is new. Inactive users hold none."""
    now = at or utcnow()
    wanted = {(user.unit_code, role) for role in user.role_names} if user.active else set()
    kept: set[tuple[str, str]] = set()
    for row in session.scalars(
        select(RoleHistory).where(
            RoleHistory.username == user.username, RoleHistory.valid_to.is_(None)
        )
    ):
        key = (row.unit_code, row.role)
        if key in wanted and key not in kept:
            kept.add(key)
        else:
            row.valid_to = now
    session.add_all(
        RoleHistory(username=user.username, unit_code=unit, role=role, valid_from=now)
        for unit, role in sorted(wanted - kept)
    )


#: Time stamps may state whole seconds (RFC 3161 ``accuracy``): a grant up to this much after
#: the stated time still counts, as pyHanko's own time tolerance does for certificates.
ROLE_TIME_TOLERANCE = timedelta(seconds=1)


def held_role(session: Session, username: str, unit_code: str, role: Role, at: datetime) -> bool:
    """Whether ``username`` held ``role`` in ``unit_code`` at the moment ``at``."""
    found = session.scalar(
        select(RoleHistory.id).where(
            RoleHistory.username == username,
            RoleHistory.unit_code == unit_code,
            RoleHistory.role == role.value,
            RoleHistory.valid_from <= at + ROLE_TIME_TOLERANCE,
            or_(RoleHistory.valid_to.is_(None), RoleHistory.valid_to > at),
        )
    )
    return found is not None


def set_roles(session: Session, username: str, roles: frozenset[Role], *, actor: Actor) -> User:
    """Admin: replace a user's roles; the role history keeps the old ones with their dates.
    The user's sessions and API tokens end (they were granted under the old roles).

    :raises InvalidInput: ``invalid_role`` or ``invalid_field``.
    :raises NotFound: ``user_not_found``.
    """
    require_role(actor, Role.ADMIN)
    if not roles:
        raise invalid_field("roles", "reason_non_empty_list")
    wanted = roles
    user = get_user(session, username)
    before = sorted(user.role_names)
    user.roles = [UserRole(role=r.value) for r in sorted(wanted)]
    session.flush()
    sync_role_history(session, user)
    end_sessions(session, user.id)  # signed in with the old roles: every session ends
    audit.record(
        session,
        actor=actor.username,
        action="user.roles",
        target=username,
        details={"before": before, "after": sorted(r.value for r in wanted)},
    )
    session.commit()
    return user


def set_active(session: Session, username: str, active: bool, *, actor: Actor) -> User:
    """Admin: stop an account (its sessions and tokens end; it can no longer sign in) or let
    it work again. An admin never stops their own account.

    :raises NotFound: ``user_not_found``; :raises Conflict: ``cannot_deactivate_self``.
    """
    require_role(actor, Role.ADMIN)
    user = get_user(session, username)
    if not active and user.username == actor.username:
        raise Conflict("cannot_deactivate_self")
    if user.active != active:
        user.active = active
        if not active:
            end_sessions(session, user.id)
        audit.record(
            session,
            actor=actor.username,
            action="user.reactivate" if active else "user.deactivate",
            target=username,
        )
    session.commit()
    return user


def set_password(
    session: Session, username: str, password: str, *, hasher: PasswordHasher, actor: Actor | None
) -> None:
    """Replace a user's password and revoke their tokens.

    :raises NotFound: ``user_not_found``.
    """
    if actor is not None:
        require_role(actor, Role.ADMIN)
    check_password_policy(password)
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound("user_not_found", username=username)
    user.password_hash = hasher.hash(password)
    end_sessions(session, user.id)
    audit.record(
        session,
        actor=actor.username if actor else "system",
        action="user.password_set",
        target=username,
    )
    session.commit()


# A valid hash of a random password, verified when the username is unknown so that the
# answer takes as long as for a known user with a wrong password.
_DUMMY_PASSWORD = secrets.token_urlsafe(16)

#: What a refused sign-in says once the password was right (otherwise never which part).
_REFUSALS = {"wrong_totp": "totp_invalid", "reused_totp": "totp_used"}
_dummy_hashes: dict[tuple[int, int], str] = {}


def _dummy_hash(hasher: PasswordHasher) -> str:
    key = (hasher.time_cost, hasher.memory_cost)
    if key not in _dummy_hashes:
        _dummy_hashes[key] = hasher.hash(_DUMMY_PASSWORD)
    return _dummy_hashes[key]


def authenticate(
    session: Session,
    username: str,
    password: str,
    *,
    hasher: PasswordHasher,
    channel: str,
    client: str,
    policy: LoginPolicy | None = None,
    totp: str | None = None,
    secret_key: str = "",
) -> User:
    """Check a username and password; record the attempt either way.

    :param channel: ``api`` or ``ui``, recorded in the audit event.
    :param client: the client's address (throttling counts per account and address, and
        per address).
    :param policy: the guessing limits (defaults to :class:`LoginPolicy`).
    :param totp: the second factor's code (or a recovery code), for a user who has one.
    :param secret_key: the instance's key, which the TOTP secrets are encrypted with.
    :raises Unauthorized: ``invalid_credentials`` (never says which part was wrong);
        ``totp_required`` or ``totp_invalid`` after a right password, for a user with a
        second factor (a wrong code counts as a failed sign-in).
    :raises TooManyRequests: ``too_many_attempts`` or ``too_many_attempts_client`` after
        too many recent failures; the password is then not even checked.
    """
    username = username[:200]
    limit = policy or LoginPolicy()
    try:
        check_allowed(session, username, client, limit)
    except TooManyRequests:
        audit.record(
            session,
            actor=None,
            action="login.throttled",
            target=username,
            details={"channel": channel, "client": client[:64]},
        )
        session.commit()
        raise
    user = session.scalar(select(User).where(User.username == username))
    reason: str | None = None
    if user is None:
        hasher.verify(_dummy_hash(hasher), _DUMMY_PASSWORD)
        reason = "unknown_user"
    else:
        try:
            hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            reason = "wrong_password"
        else:
            if not user.active:
                reason = "disabled"
    factor: str | None = None
    if reason is None and user is not None:
        try:
            factor = check_second_factor(session, user, totp, secret_key=secret_key)
        except Unauthorized as exc:
            if exc.code == "totp_required":
                audit.record(session, actor=None, action="login.totp_required", target=username)
                session.commit()
                raise
            reason = "reused_totp" if exc.code == "totp_used" else "wrong_totp"
    if reason is not None or user is None:
        record_failure(session, username, client)
        audit.record(
            session,
            actor=None,
            action="login.failure",
            target=username,
            details={"channel": channel, "reason": reason, "client": client[:64]},
        )
        session.commit()
        raise Unauthorized(_REFUSALS.get(reason or "", "invalid_credentials"))
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    forget_failures(session, username, client)
    audit.record(
        session,
        actor=user.username,
        action="login.success",
        details={"channel": channel, "client": client[:64], "second_factor": factor},
    )
    session.commit()
    return user


def issue_token(session: Session, user: User, *, ttl_seconds: int) -> IssuedToken:
    """Create a bearer token for ``user``; only its SHA-256 is stored."""
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + timedelta(seconds=ttl_seconds)
    session.add(ApiToken(user_id=user.id, token_hash=_token_hash(token), expires_at=expires_at))
    session.commit()
    return IssuedToken(token=token, expires_at=expires_at, user=user)


def resolve_token(session: Session, token: str) -> User:
    """The active user behind a bearer token.

    :raises Unauthorized: ``token_invalid``, ``token_expired`` or ``token_revoked``.
    """
    row = session.scalar(
        select(ApiToken)
        .options(joinedload(ApiToken.user))
        .where(ApiToken.token_hash == _token_hash(token))
    )
    if row is None:
        raise Unauthorized("token_invalid")
    if row.revoked_at is not None:
        raise Unauthorized("token_revoked")
    if row.expires_at <= utcnow():
        raise Unauthorized("token_expired")
    if not row.user.active:
        raise Unauthorized("token_revoked")
    return row.user


def revoke_token(session: Session, token: str, *, actor: Actor) -> None:
    """Revoke one token (sign out)."""
    session.execute(
        update(ApiToken)
        .where(ApiToken.token_hash == _token_hash(token), ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    audit.record(session, actor=actor.username, action="token.revoke", target=actor.username)
    session.commit()


def end_sessions(session: Session, user_id: int) -> int:
    """Revoke every live token of a user: each UI session and API token ends at once (the
    caller audits and commits)."""
    result = session.execute(
        update(ApiToken)
        .where(
            ApiToken.user_id == user_id,
            ApiToken.revoked_at.is_(None),
            ApiToken.expires_at > utcnow(),
        )
        .values(revoked_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)


def revoke_user_tokens(session: Session, username: str, *, actor: Actor) -> int:
    """Admin: revoke every token of ``username``.

    :raises NotFound: ``user_not_found``.
    """
    require_role(actor, Role.ADMIN)
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound("user_not_found", username=username)
    count = end_sessions(session, user.id)
    audit.record(
        session,
        actor=actor.username,
        action="token.revoke_all",
        target=username,
        details={"count": count},
    )
    session.commit()
    return count


def list_users(session: Session, *, unit_code: str, actor: Actor) -> Sequence[User]:
    """Users of one unit, if the actor may see that unit's people.

    :raises Forbidden: ``unit_forbidden``.
    :raises NotFound: ``unit_not_found``.
    """
    if session.get(Unit, unit_code) is None:
        if actor.has(Role.ADMIN):
            raise NotFound("unit_not_found", code=unit_code)
        # Do not reveal whether a unit the caller may not see exists.
        require_unit_visible(session, actor, unit_code)
        raise NotFound("unit_not_found", code=unit_code)
    require_unit_visible(session, actor, unit_code)
    return session.scalars(
        select(User).where(User.unit_code == unit_code).order_by(User.username)
    ).all()


def get_user(session: Session, username: str) -> User:
    """:raises NotFound: ``user_not_found``."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound("user_not_found", username=username)
    return user


def names_in_unit(session: Session, unit_code: str) -> dict[str, str]:
    """Username -> full name of a unit's accounts, to show people by name on its pages."""
    rows = session.execute(select(User.username, User.full_name).where(User.unit_code == unit_code))
    return {str(username): str(name) for username, name in rows}
