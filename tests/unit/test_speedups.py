"""The fast hex-string reader gives exactly what pyHanko's own reader gives."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyhanko.pdf_utils.misc import PdfStreamError

from pki import speedups

_ALPHABET = b"0123456789abcdefABCDEF \n\r\t\f\x00%xz>"


def _read(reader: Callable[[io.BytesIO], Any], data: bytes) -> tuple[object, ...]:
    """The value and where the stream stopped, or the error pyHanko raised."""
    stream = io.BytesIO(data)
    try:
        value = reader(stream)
    except PdfStreamError as exc:
        return ("error", type(exc).__name__)
    return (bytes(value.original_bytes), stream.tell())


@given(st.binary().map(lambda b: bytes(_ALPHABET[x % len(_ALPHABET)] for x in b)))
def test_same_value_and_position_as_pyhanko(body: bytes) -> None:
    data = b"<" + body + b"> 0 R"
    assert _read(speedups.read_hex_string, data) == _read(speedups._original, data)


@pytest.mark.parametrize(
    ("data", "expected"),
    [(b"<48 65 6c6C6f>", b"Hello"), (b"<4>", b"\x40"), (b"<>", b""), (b"<0\n0\r\n>", b"\x00")],
)
def test_known_strings(data: bytes, expected: bytes) -> None:
    assert bytes(speedups.read_hex_string(io.BytesIO(data)).original_bytes) == expected


def test_a_missing_end_is_pyhankos_error() -> None:
    with pytest.raises(PdfStreamError):
        speedups.read_hex_string(io.BytesIO(b"<4142"))
