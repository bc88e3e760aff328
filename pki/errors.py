"""Errors of the ``pki`` package. Messages name token labels, never PINs."""

from __future__ import annotations

__all__ = [
    "CertificateRevoked",
    "PinIncorrect",
    "PinLocked",
    "PkiError",
    "SigningFailed",
    "TokenError",
    "TokenExists",
    "TokenNotFound",
]


class PkiError(Exception):
    """Root of every error raised by :mod:`pki`."""


class TokenError(PkiError):
    """A token could not be used."""

    def __init__(self, label: str, detail: str = "") -> None:
        super().__init__(f"token {label!r}: {detail}" if detail else f"token {label!r}")
        self.label = label


class TokenNotFound(TokenError):
    """No token with that label is present (or its key or certificate is missing)."""


class TokenExists(TokenError):
    """A token with that label exists already."""


class PinIncorrect(TokenError):
    """The token refused the PIN."""


class PinLocked(TokenError):
    """The token itself has locked its user PIN (real smart cards do this)."""


class SigningFailed(PkiError):
    """The PDF could not be signed (malformed input, token failure, bad certificate)."""


class CertificateRevoked(SigningFailed):
    """The signing certificate is revoked by its CA."""
