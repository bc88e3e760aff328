"""JSON from outside, parsed once and bounded: depth, size of numbers, valid Unicode.

Python's parser recurses per nesting level (a deep enough body raises ``RecursionError``)
and accepts escapes of lone surrogates (``"\\ud800"``), which no database, log or page can
encode. Everything that reads a JSON body or document goes through :func:`parse_json`.
"""

from __future__ import annotations

import json
from typing import Any

from docexchange.errors import InvalidInput

__all__ = ["MAX_JSON_DEPTH", "parse_json"]

#: Deepest nesting of arrays and objects accepted (our documents need 4).
MAX_JSON_DEPTH = 32


def _refuse_deep(text: str) -> None:
    """Refuse nesting beyond the limit before the recursive parser sees it."""
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise InvalidInput("json_too_deep", limit=MAX_JSON_DEPTH)
        elif char in "]}":
            depth -= 1


def _check_text(value: Any) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidInput("invalid_unicode") from None
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def parse_json(data: bytes | str) -> Any:
    """The value of a JSON text (UTF-8, a BOM allowed).

    :raises InvalidInput: ``invalid_json`` (not JSON, not UTF-8, a number too long),
        ``json_too_deep``, ``invalid_unicode`` (lone surrogates).
    """
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        raise InvalidInput("invalid_json") from None
    _refuse_deep(text)
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):  # ValueError also covers over-long integers
        raise InvalidInput("invalid_json") from None
    _check_text(value)
    return value
