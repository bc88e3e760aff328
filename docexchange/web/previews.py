"""Pictures of a document's pages for its page (drawn by the PDF workers, kept a while)."""

from __future__ import annotations

import threading
from collections import OrderedDict

from flask import Response

from docexchange.errors import NotFound
from docexchange.services.container import Services
from pki.pdf import PdfRefused

__all__ = ["page_count", "page_picture"]

_KEEP = 256
_cache: OrderedDict[tuple[str, int], bytes] = OrderedDict()
_lock = threading.Lock()


_counts: dict[str, int] = {}


def page_count(data: bytes, sha256: str, *, services: Services) -> int:
    """How many pages the file ``sha256`` has (inspected by a PDF worker once), 0 if none
    can be read."""
    with _lock:
        known = _counts.get(sha256)
    if known is not None:
        return known
    try:
        count = services.verifier.inspect(data).pages
    except PdfRefused:
        count = 0
    with _lock:
        if len(_counts) > 4 * _KEEP:
            _counts.clear()
        _counts[sha256] = count
    return count


def page_picture(data: bytes, sha256: str, page: int, *, services: Services) -> Response:
    """Page ``page`` of the file ``sha256`` (``data``) as a PNG response.

    A file's pages never change (a new signature is a new file), so pictures are kept by
    the file's digest in this process, the most recent few hundred.

    :raises NotFound: ``page_not_found`` (no such page, or a file PDFium cannot draw).
    """
    key = (sha256, page)
    with _lock:
        picture = _cache.get(key)
        if picture is not None:
            _cache.move_to_end(key)
    if picture is None:
        try:
            picture = services.verifier.render(data, page)
        except PdfRefused:
            raise NotFound("page_not_found", page=page) from None
        with _lock:
            _cache[key] = picture
            while len(_cache) > _KEEP:
                _cache.popitem(last=False)
    response = Response(picture, mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
