"""JSON from outside, parsed once and bounded: depth, size of numbers, valid Unicode.

Python's parser recurses per nesting level (a deep enough body raises ``RecursionError``,
refused like any nesting past the limit) and accepts escapes of lone surrogates
(``"\\ud800"``), which no database, log or page can encode. Everything that reads a JSON
body or document goes through :func:`parse_json`.
"""

from __future__ import annotations

import json
from typing import Any

from docexchange.errors import InvalidInput

__all__ = ["MAX_JSON_DEPTH", "check_text", "parse_json"]

#: Deepest nesting of arrays and objects accepted (our documents need 4).
MAX_JSON_DEPTH = 32


def check_text(text: str) -> None:
    """Refuse text no database can store: lone surrogates, and NUL (PostgreSQL's text
    cannot hold it; SQLite would, so the two would answer differently).

    :raises InvalidInput: ``invalid_unicode``, ``invalid_character``.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput("invalid_unicode") from None
    if "\x00" in text:
        raise InvalidInput("invalid_character")


def _refuse_constant(name: str) -> Any:
    raise ValueError(name)  # NaN, Infinity: not JSON


def _check(value: Any) -> None:
    """Refuse nesting beyond the limit and text that cannot be stored (walked, no recursion)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            check_text(item)
        elif isinstance(item, dict | list):
            if depth >= MAX_JSON_DEPTH:
                raise InvalidInput("json_too_deep", limit=MAX_JSON_DEPTH)
            members = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((member, depth + 1) for member in members)


def parse_json(data: bytes | str) -> Any:
    """The value of a JSON text (UTF-8, a BOM allowed).

    :raises InvalidInput: ``invalid_json`` (not JSON, not UTF-8, a number too long),
        ``json_too_deep``, ``invalid_unicode`` (lone surrogates), ``invalid_character``
        (NUL); ``NaN`` and ``Infinity`` are not JSON.
    """
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        raise InvalidInput("invalid_json") from None
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:  # nested far deeper than the limit: the parser gave up
        raise InvalidInput("json_too_deep", limit=MAX_JSON_DEPTH) from None
    except ValueError:  # also over-long integers
        raise InvalidInput("invalid_json") from None
    _check(value)
    return value
