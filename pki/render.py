"""Pages of a PDF as pictures, so a leader reads a document before signing it, in any browser
and without a PDF plug-in. PDFium (pypdfium2) draws them; only the isolated PDF workers call
this (:mod:`pki.isolation`), never the web process.
"""

from __future__ import annotations

import io

import pypdfium2

from pki.pdf import PdfRefused

__all__ = ["MAX_WIDTH", "render_page"]

#: Widest picture drawn (pixels): an A4 page at about 120 dpi.
MAX_WIDTH = 1000


def render_page(data: bytes, page: int, *, width: int = MAX_WIDTH) -> bytes:
    """Page ``page`` (1-based) of ``data`` as a PNG ``width`` pixels wide (at most MAX_WIDTH).

    :raises PdfRefused: ``broken`` (PDFium cannot read it), ``malformed`` (no such page).
    """
    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError:
        raise PdfRefused("broken") from None
    try:
        if not 1 <= page <= len(document):
            raise PdfRefused("malformed")
        sheet = document[page - 1]
        scale = min(width, MAX_WIDTH) / max(sheet.get_width(), 1.0)
        image = sheet.render(scale=scale).to_pil()
        out = io.BytesIO()
        image.save(out, format="PNG", optimize=True)
        return out.getvalue()
    except pypdfium2.PdfiumError:
        raise PdfRefused("broken") from None
    finally:
        document.close()
