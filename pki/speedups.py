"""A faster hex-string reader for pyHanko's PDF parser (same results, pinned to pyHanko 0.38).

pyHanko reads a hex string one byte at a time through Python generators; a signature's
``/Contents`` is tens of kilobytes of hex, so verifying one of our B-LT documents spent about
40 % of its time there (profiled, bench/RESULTS.md). This reader takes the whole string in one
slice when it holds only hex digits and PDF whitespace, and hands anything else (comments,
bad characters, a missing ``>``) to pyHanko's own reader, so errors stay pyHanko's.
"""

from __future__ import annotations

import binascii
import re
from typing import Any

from pyhanko.pdf_utils import generic

__all__ = ["install", "read_hex_string"]

_WHITESPACE = b" \n\r\t\f\x00"
_PLAIN_HEX = re.compile(rb"[0-9A-Fa-f \n\r\t\f\x00]*\Z")
_CHUNK = 1 << 16
_original = generic.read_hex_string_from_stream


def read_hex_string(stream: Any) -> Any:
    """Read ``<…>`` at the stream's position, as ``generic.read_hex_string_from_stream``."""
    start = stream.tell()
    stream.read(1)  # "<"
    body = bytearray()
    while True:
        block = stream.read(_CHUNK)
        if not block:
            break
        end = block.find(b">")
        if end == -1:
            body += block
            continue
        body += block[:end]
        if _PLAIN_HEX.match(body):
            stream.seek(start + len(body) + 2)
            digits = bytes(body).translate(None, _WHITESPACE)
            if len(digits) % 2:
                digits += b"0"
            return generic.pdf_string(binascii.unhexlify(digits))
        break
    stream.seek(start)
    return _original(stream)


def install() -> None:
    """Make pyHanko's object reader use :func:`read_hex_string` (idempotent)."""
    generic.read_hex_string_from_stream = read_hex_string
