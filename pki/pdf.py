"""Inspect an uploaded PDF before anything is done with it."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader

__all__ = ["PdfInfo", "PdfRefused", "inspect_pdf"]

logger = logging.getLogger(__name__)


class PdfRefused(ValueError):
    """The bytes are not a PDF we accept; ``reason`` is ``not_pdf``, ``encrypted`` or ``broken``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class PdfInfo:
    """What the server needs to know of an uploaded PDF."""

    pages: int
    signatures: int


def inspect_pdf(data: bytes) -> PdfInfo:
    """Parse ``data`` fully enough to sign it later.

    :raises PdfRefused: not a PDF, encrypted, or unreadable.
    """
    if not data.lstrip()[:5].startswith(b"%PDF-"):
        raise PdfRefused("not_pdf")
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        if reader.encrypted:
            raise PdfRefused("encrypted")
        pages = int(reader.root["/Pages"]["/Count"])
        signatures = len(reader.embedded_signatures)
    except PdfRefused:
        raise
    except (
        PdfError,
        KeyError,
        ValueError,
        TypeError,
        IndexError,
        AttributeError,
        RecursionError,
    ) as exc:
        logger.info("refused a PDF: %s", type(exc).__name__)
        raise PdfRefused("broken") from None
    if pages < 1:
        raise PdfRefused("broken")
    return PdfInfo(pages=pages, signatures=signatures)
