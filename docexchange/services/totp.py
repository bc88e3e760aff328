"""The second factor at sign-in: TOTP codes (RFC 6238, pyotp) and recovery codes.

The TOTP secret is kept encrypted (Fernet, a key derived from the instance's secret key),
recovery codes as SHA-256 only: neither is readable from a database dump or a backup.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

import pyotp
from cryptography.fernet import Fernet, InvalidToken

from docexchange.errors import Unauthorized
from docexchange.storage.models import User

__all__ = ["ISSUER", "check_second_factor", "code_hash", "seal", "totp_of"]

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


def check_second_factor(user: User, code: str | None, *, secret_key: str) -> str | None:
    """For a user whose second factor is in force: a current TOTP code, or one unused
    recovery code (consumed; the caller commits). Answers how (``totp``/``recovery``), or
    ``None`` when the user has no second factor.

    :raises Unauthorized: ``totp_required`` (no code given) or ``totp_invalid``.
    """
    if user.totp_confirmed_at is None:
        return None
    if not code:
        raise Unauthorized("totp_required")
    totp = totp_of(user, secret_key)
    if totp is not None and totp.verify(code.strip(), valid_window=1):
        return "totp"
    given = code_hash(code)
    left = list(user.recovery_codes or [])
    for stored in left:
        if hmac.compare_digest(stored, given):
            left.remove(stored)
            user.recovery_codes = left
            return "recovery"
    raise Unauthorized("totp_invalid")
