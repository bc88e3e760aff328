"""One error root for the whole service, with stable snake_case codes.

Domain and service code raise ``DocExchangeError`` subclasses carrying a ``code`` and
structured ``params``; the edge (``docexchange.web.errors`` and ``docexchange.cli``) turns
them into Vietnamese and English messages via the catalogue in :mod:`docexchange.messages`.
Params must never carry secrets (PINs, passwords, tokens).
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "ConfigurationError",
    "Conflict",
    "DocExchangeError",
    "Forbidden",
    "Gone",
    "InvalidInput",
    "Locked",
    "NotFound",
    "PayloadTooLarge",
    "TooManyRequests",
    "Unauthorized",
    "invalid_field",
]


class DocExchangeError(Exception):
    """Root of every error the service raises on purpose.

    :param code: stable snake_case code, part of the API contract.
    :param params: values that fill the message templates; never secrets.
    """

    http_status: ClassVar[int] = 400

    def __init__(self, code: str, /, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, **{self.params!r})"


class InvalidInput(DocExchangeError):
    """The request is malformed or breaks a domain rule."""

    http_status = 422


def invalid_field(field: str, reason: str, **params: Any) -> InvalidInput:
    """``invalid_field`` whose reason is itself a coded message (translated at the edge)."""
    return InvalidInput("invalid_field", field=field, reason=InvalidInput(reason, **params))


class Unauthorized(DocExchangeError):
    """No valid credentials (missing, wrong, expired or revoked)."""

    http_status = 401


class Forbidden(DocExchangeError):
    """Authenticated, but not allowed to do this."""

    http_status = 403


class NotFound(DocExchangeError):
    """The named thing does not exist (or is not visible to the caller)."""

    http_status = 404


class Conflict(DocExchangeError):
    """The request clashes with the current state (duplicate, cycle, bad transition)."""

    http_status = 409


class Gone(DocExchangeError):
    """The resource existed but was withdrawn; its record is kept, its content is not served."""

    http_status = 410


class Locked(DocExchangeError):
    """The resource is locked until someone with the right to unlock it acts."""

    http_status = 423


class PayloadTooLarge(DocExchangeError):
    """The upload exceeds a configured limit."""

    http_status = 413


class TooManyRequests(DocExchangeError):
    """The caller must wait before trying again (login throttling)."""

    http_status = 429


class StorageUnavailable(DocExchangeError):
    """The file store cannot take what it is given (full, read-only); nothing was lost."""

    http_status = 507


class ConfigurationError(DocExchangeError):
    """The server's own configuration is wrong; raised at start-up."""

    http_status = 500
