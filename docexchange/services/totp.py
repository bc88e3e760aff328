"""The second factor at sign-in: TOTP codes (RFC 6238, pyotp) and recovery codes.

The TOTP secret is kept encrypted (Fernet, a key derived from the instance's secret key),
recovery codes as SHA-256 only: neither is readable from a database dump or a backup.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

import pyotp
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from docexchange.errors import Unauthorized
from docexchange.storage.models import User

__all__ = [
    "ISSUER",
    "check_second_factor",
    "code_hash",
    "matched_step",
    "seal",
    "totp_of",
]

#: The name an authenticator app shows above the code.
ISSUER = "docexchange"


def _fernet(secret_key: str) -> Fernet:
    digest = hashlib.sha256(b"docexchange totp v1\0" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def totp_of(user: User, secret_key: str) -> pyotp.TOTP | None:
    if user.totp_secret is None:
        return None
    try:
        secret = _fernet(secret_key).decrypt(user.totp_secret.encode()).decode()
    except InvalidToken:  # the instance key changed: the enrolment can no longer be read
        return None
    return pyotp.TOTP(secret, issuer=ISSUER, name=user.username)


def code_hash(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").strip().lower().encode()).hexdigest()


def seal(secret: str, secret_key: str) -> str:
    """A TOTP secret as stored: encrypted with the instance's key."""
    return _fernet(secret_key).encrypt(secret.encode()).decode()


def matched_step(totp: pyotp.TOTP, code: str, at: datetime | None = None) -> int | None:
    """The time step a code belongs to, if it is the current one or one step either side
    (a phone's clock a little off, a code typed as it changed)."""
    given = code.strip()
    now = totp.timecode(at or datetime.now(UTC))
    for step in (now, now - 1, now + 1):
        if hmac.compare_digest(totp.generate_otp(step), given):
            return step
    return None


def _claim(session: Session, user: User, step: int) -> bool:
    """Record ``step`` as the user's last one, unless it or a later one was used already.

    One conditional UPDATE: two sign-ins racing with one code cannot both pass.
    """
    claimed = session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    user.totp_last_step = step
    return True


def check_second_factor(
    session: Session, user: User, code: str | None, *, secret_key: str
) -> str | None:
    """For a user whose second factor is in force: a current TOTP code not used before, or
    one unused recovery code (consumed; the caller commits). Answers how
    (``totp``/``recovery``), or ``None`` when the user has no second factor.

    :raises Unauthorized: ``totp_required`` (no code given), ``totp_used`` (a code that
        signed in already) or ``totp_invalid``.
    """
    if user.totp_confirmed_at is None:
        return None
    if not code:
        raise Unauthorized("totp_required")
    totp = totp_of(user, secret_key)
    step = matched_step(totp, code) if totp is not None else None
    if step is not None:
        if not _claim(session, user, step):
            raise Unauthorized("totp_used")
        return "totp"
    given = code_hash(code)
    left = list(user.recovery_codes or [])
    for stored in left:
        if hmac.compare_digest(stored, given):
            left.remove(stored)
            user.recovery_codes = left
            return "recovery"
    raise Unauthorized("totp_invalid")
