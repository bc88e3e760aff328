"""What a signed PDF's later revisions may do: nothing a viewer would show, nothing unaccounted.

Two rules stricter than pyHanko's difference analysis (issue 12 §8):

- **The file ends at its last revision.** After the last cross-reference section the file
  holds its ``startxref``, its ``%%EOF`` and nothing but whitespace. Bytes no
  cross-reference section accounts for — even when they end with a copy of the last
  ``startxref … %%EOF`` — fail the last signature, since other readers may render them (a
  broken update they repair).
- **Nothing after the last signature changes what a viewer draws.** pyHanko rates some
  changes as long-term-validation updates although they change rendering: the AcroForm's
  ``/DA``, ``/DR``, ``/Q`` and ``/NeedAppearances`` are exempt from its comparison, so a
  later revision can make a viewer redraw a signed form field in another font, colour or
  glyph set ("1.000.000 VND" shown as "5.000.000 VND", or hidden). We compare a digest of
  everything that determines the drawing — each page with its inherited attributes, every
  visible annotation with its field's inherited value and appearance, the form's
  ``/NeedAppearances`` and, when the viewer generates any appearance from them, the form's
  defaults, the catalog's optional content, actions and names — between the last
  signature's revision and the last revision. Validation data (DSS) and document time stamps
  with invisible widgets leave the digest as it was.
"""

from __future__ import annotations

import hashlib
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader

__all__ = ["ends_at_last_revision", "renders_as_signed"]

_WHITESPACE = b" \t\r\n\x00\x0c"
#: Page attributes a page inherits from its ancestors in the page tree (ISO 32000-1 7.7.3.4).
_INHERITED = ("/Resources", "/MediaBox", "/CropBox", "/Rotate")
#: Field attributes a widget inherits from its parent fields (ISO 32000-1 12.7.3).
_FIELD_INHERITED = ("/FT", "/Ff", "/V", "/DV", "/DA", "/Q", "/Opt", "/MaxLen", "/DS", "/RV")
#: The form's defaults a viewer draws a field with when it generates the field's appearance.
_FORM_DEFAULTS = ("/DA", "/DR", "/Q", "/XFA", "/CO")
_CATALOG_DRAWING = ("/OCProperties", "/OpenAction", "/AA", "/Names", "/Collection")
#: Annotation flags under which nothing is drawn: Hidden (bit 2) and NoView (bit 6).
_INVISIBLE_FLAGS = 2 | 32
_MAX_DEPTH = 32
_MAX_PAGES = 10_000


def ends_at_last_revision(reader: PdfFileReader, data: bytes) -> bool:
    """Whether ``data`` ends where its cross-reference sections say it does.

    After the furthest section (the last revision's; a linearised file's first-page section
    sits near the start) come its ``startxref``, one ``%%EOF`` and only whitespace.
    """
    xrefs = reader.xrefs
    end = max(
        xrefs.get_xref_container_info(revision).end_location
        for revision in range(xrefs.total_revisions)
    )
    eof = data.find(b"%%EOF", end)
    return eof != -1 and not data[eof + 5 :].strip(_WHITESPACE)


def renders_as_signed(reader: PdfFileReader, signed_revision: int) -> bool:
    """Whether the last revision draws exactly what revision ``signed_revision`` drew."""
    last = reader.xrefs.total_revisions - 1
    if signed_revision >= last:
        return True
    before = _Digest(reader.get_historical_resolver(signed_revision)).document()
    after = _Digest(reader.get_historical_resolver(last)).document()
    return before == after


class _Digest:
    """A digest of what a viewer draws from one revision; shared objects hashed once."""

    def __init__(self, resolver: Any) -> None:
        self._resolver = resolver
        self._done: dict[tuple[int, int], bytes] = {}
        self._open: set[tuple[int, int]] = set()

    def document(self) -> bytes:
        root = self._resolver.root
        digest = hashlib.sha256()
        for key in _CATALOG_DRAWING:
            digest.update(key.encode() + self._value(root.raw_get(key) if key in root else None))
        generated = False
        for page, inherited in _pages(root["/Pages"]):
            page_digest, page_generated = self._page(page, inherited)
            digest.update(b"page" + page_digest)
            generated = generated or page_generated
        acroform = root.get("/AcroForm")
        if isinstance(acroform, generic.DictionaryObject):
            need = acroform.get("/NeedAppearances")
            digest.update(b"/NeedAppearances" + self._value(need))
            if need or generated:
                # The viewer draws fields from the form's defaults: they count.
                for key in _FORM_DEFAULTS:
                    raw = acroform.raw_get(key) if key in acroform else None
                    digest.update(key.encode() + self._value(raw))
        return digest.digest()

    def _page(
        self, page: generic.DictionaryObject, inherited: dict[str, Any]
    ) -> tuple[bytes, bool]:
        """The page's digest, and whether a viewer must generate a widget's appearance."""
        digest = hashlib.sha256()
        generated = False
        own = {key: page.raw_get(key) for key in page if key not in ("/Parent", "/Annots")}
        for key, value in sorted({**inherited, **own}.items()):
            digest.update(key.encode() + self._value(value))
        annotations = page.get("/Annots")
        if isinstance(annotations, generic.ArrayObject):
            for item in annotations:
                annotation = _resolved(item)
                if isinstance(annotation, generic.DictionaryObject) and _visible(annotation):
                    digest.update(b"annot" + self._annotation(annotation))
                    ap = annotation.get("/AP")
                    generated = generated or (
                        annotation.get("/Subtype") == "/Widget"
                        and not (isinstance(ap, generic.DictionaryObject) and "/N" in ap)
                    )
        return digest.digest(), generated

    def _annotation(self, annotation: generic.DictionaryObject) -> bytes:
        digest = hashlib.sha256()
        skipped = ("/P", "/Parent")
        values = {key: annotation.raw_get(key) for key in annotation if key not in skipped}
        field = annotation
        for _ in range(_MAX_DEPTH):
            parent = field.get("/Parent")
            if not isinstance(parent, generic.DictionaryObject):
                break
            for key in _FIELD_INHERITED:
                if key in parent and key not in values:
                    values[key] = parent.raw_get(key)
            field = parent
        for key, value in sorted(values.items()):
            digest.update(key.encode() + self._value(value))
        return digest.digest()

    def _value(self, value: Any, depth: int = 0) -> bytes:
        if depth > _MAX_DEPTH:
            raise ValueError("object nesting too deep")
        if isinstance(value, generic.IndirectObject):
            key = (value.idnum, value.generation)
            if key in self._done:
                return self._done[key]
            if key in self._open:
                return b"cycle:%d:%d" % key
            self._open.add(key)
            try:
                result = self._value(_resolved(value), depth + 1)
            finally:
                self._open.discard(key)
            self._done[key] = result
            return result
        digest = hashlib.sha256(type(value).__name__.encode())
        if isinstance(value, generic.DictionaryObject):
            for key in sorted(value):
                if key != "/Parent":
                    digest.update(key.encode() + self._value(value.raw_get(key), depth + 1))
            if isinstance(value, generic.StreamObject):
                digest.update(b"stream" + value.encoded_data)
        elif isinstance(value, generic.ArrayObject):
            for item in value:
                digest.update(b"," + self._value(item, depth + 1))
        elif isinstance(value, generic.TextStringObject | generic.ByteStringObject):
            digest.update(bytes(value.original_bytes))
        elif value is not None:
            digest.update(repr(value).encode())
        return digest.digest()


def _resolved(value: Any) -> Any:
    """``value`` itself, or what the reference names in the digest's revision."""
    if not isinstance(value, generic.IndirectObject):
        return value
    reference: Any = value  # pyHanko's get_object is untyped
    return reference.get_object()


def _visible(annotation: generic.DictionaryObject) -> bool:
    flags = annotation.get("/F", 0)
    if isinstance(flags, int) and flags & _INVISIBLE_FLAGS:
        return False
    rect: Any = annotation.get("/Rect")
    try:
        x1, y1, x2, y2 = (float(n) for n in rect)
    except (TypeError, ValueError):
        return True
    return x1 != x2 and y1 != y2


def _pages(tree: Any) -> list[tuple[generic.DictionaryObject, dict[str, Any]]]:
    """The leaves of the page tree in order, each with the attributes it inherits."""
    pages: list[tuple[generic.DictionaryObject, dict[str, Any]]] = []
    stack: list[tuple[Any, dict[str, Any], int]] = [(tree, {}, 0)]
    seen: set[int] = set()
    while stack:
        node, inherited, depth = stack.pop()
        node = _resolved(node)
        if not isinstance(node, generic.DictionaryObject) or id(node) in seen:
            raise ValueError("malformed page tree")
        seen.add(id(node))
        if depth > _MAX_DEPTH or len(pages) > _MAX_PAGES:
            raise ValueError("page tree too large")
        here = {**inherited, **{k: node.raw_get(k) for k in _INHERITED if k in node}}
        kids = node.get("/Kids")
        if node.get("/Type") == "/Pages" or isinstance(kids, generic.ArrayObject):
            if not isinstance(kids, generic.ArrayObject):
                raise ValueError("malformed page tree")
            stack.extend((kid, here, depth + 1) for kid in reversed(kids))
        else:
            pages.append((node, inherited))
    return pages
