"""Files the server reads besides its code: the OpenAPI contract and the edXML schema.

They live in the repository's top-level ``schemas/``; a built wheel carries a copy inside
the package (``docexchange/schemas``, put there by ``setup.py``), which wins when present.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["schema_file"]

_PACKAGED = Path(__file__).resolve().parent / "schemas"
_CHECKOUT = Path(__file__).resolve().parent.parent / "schemas"


def schema_file(*parts: str) -> Path:
    """The path of ``schemas/<parts>``: the packaged copy, else the checkout's."""
    packaged = _PACKAGED.joinpath(*parts)
    return packaged if packaged.is_file() else _CHECKOUT.joinpath(*parts)
