"""Log lines that cannot be forged: one formatter for every handler this project installs.

Anything a client sends (a username, a subject, a header) may reach a log message. Control
characters in the message — CR and LF above all, which would start a forged line — are
written as escapes (``\\r``, ``\\n``, ``\\x1b``, ``\\u2028``); a traceback, which the
formatter appends itself, keeps its lines.
"""

from __future__ import annotations

import contextvars
import logging

__all__ = [
    "REQUEST_ID",
    "RequestIdFilter",
    "SafeFormatter",
    "configure_logging",
    "escape_controls",
]

FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"

#: The id of the request this thread serves now (``-`` outside a request): set by the web
#: layer, put on every log line and into every error body.
REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record, so that one request's lines can be found."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get()
        return True


_ESCAPES = {"\r": "\\r", "\n": "\\n", "\t": "\\t", "\\": "\\\\"}


def escape_controls(text: str) -> str:
    """``text`` with C0/C1 control characters, DEL and Unicode line separators escaped."""
    out = []
    for char in text:
        code = ord(char)
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif code < 0x20 or 0x7F <= code < 0xA0:
            out.append(f"\\x{code:02x}")
        elif code in (0x2028, 0x2029) or 0xD800 <= code < 0xE000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


class SafeFormatter(logging.Formatter):
    """A formatter whose message part is one line, whatever the arguments held."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return escape_controls(super().formatMessage(record))


def configure_logging(level: str = "INFO") -> None:
    """One stderr handler with :class:`SafeFormatter` for our packages and the servers'."""
    handler = logging.StreamHandler()
    handler.setFormatter(SafeFormatter(FORMAT))
    handler.addFilter(RequestIdFilter())
    for name in ("docexchange", "pki", "waitress", "gunicorn.error"):
        package_logger = logging.getLogger(name)
        package_logger.setLevel(level.upper() if name in ("docexchange", "pki") else "INFO")
        package_logger.handlers[:] = [handler]
        package_logger.propagate = False
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    # fontTools warns about every table it drops while subsetting appearance fonts.
    logging.getLogger("fontTools.subset").setLevel(logging.ERROR)
