"""Inspect an uploaded PDF before anything is done with it."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader

__all__ = ["PdfInfo", "PdfRefused", "inspect_pdf"]

logger = logging.getLogger(__name__)


class PdfRefused(ValueError):
    """The bytes are not a PDF we accept.

    ``reason``: ``not_pdf``, ``encrypted``, ``broken`` (cannot be read), ``malformed`` (a page
    tree too deep, cyclic, too large or disagreeing with its own count) or ``limits_exceeded``
    (reading it overran the isolated worker's time or memory, :mod:`pki.isolation`).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class PdfInfo:
    """What the server needs to know of an uploaded PDF."""

    pages: int
    signatures: int


#: Limits of a page tree we accept: an official document has tens of pages, and a tree
#: nested deeper than this is built to exhaust a recursive reader (ours and pyHanko's).
MAX_PAGES, MAX_TREE_DEPTH = 10_000, 32


def _count_pages(root: Any) -> int:
    """The pages of the tree under ``root``, walked without recursion; the tree must be
    shallow, acyclic and agree with its own ``/Count``.

    :raises PdfRefused: ``malformed`` otherwise.
    """
    declared = root.get_object().get("/Count")
    if not isinstance(declared, int) or not 1 <= declared <= MAX_PAGES:
        raise PdfRefused("malformed")
    leaves, seen, stack = 0, set[object](), [(root, 0)]
    while stack:
        node, depth = stack.pop()
        # An indirect object is named by its number: a kid that names an ancestor is a cycle.
        key = (node.idnum, node.generation) if hasattr(node, "idnum") else id(node)
        if depth > MAX_TREE_DEPTH or key in seen or len(seen) > 2 * MAX_PAGES:
            raise PdfRefused("malformed")
        seen.add(key)
        node = node.get_object()
        if node.get("/Type") == "/Page" or "/Kids" not in node:
            leaves += 1
            continue
        stack.extend((kid, depth + 1) for kid in node["/Kids"])
    if leaves != declared:
        raise PdfRefused("malformed")
    return leaves


def _check_form(root: Any) -> None:
    """A form, if there is one, is a dictionary whose ``/Fields`` is an array of references
    to dictionaries: pyHanko adds the signature field there, and asserts as much.

    :raises PdfRefused: ``malformed`` otherwise.
    """
    if "/AcroForm" not in root:
        return
    form = root["/AcroForm"]
    if not isinstance(form, generic.DictionaryObject):
        raise PdfRefused("malformed")
    if "/Fields" not in form:
        return
    fields = form["/Fields"]
    if not isinstance(fields, generic.ArrayObject) or len(fields) > MAX_PAGES:
        raise PdfRefused("malformed")
    for index in range(len(fields)):
        ref = fields.raw_get(index)
        if not isinstance(ref, generic.IndirectObject):
            raise PdfRefused("malformed")
        if not isinstance(ref.get_object(), generic.DictionaryObject):  # type: ignore[no-untyped-call]
            raise PdfRefused("malformed")


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
        pages = _count_pages(reader.root.raw_get("/Pages"))
        _check_form(reader.root)
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
        raise PdfRefused("malformed")
    return PdfInfo(pages=pages, signatures=signatures)
