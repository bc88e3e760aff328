"""Where the stamps go and where the number and date are written (NĐ 30/2020 Phụ lục I).

The personal signature goes into the signature block, under the signer's position
("CHỦ TỊCH", "KT. CHỦ TỊCH / PHÓ CHỦ TỊCH") and above the name, found in the page's text. The
leader's revision also lays empty fields over the "Số:   /QĐ-UBND" and "ngày   tháng   năm"
gaps; at issue the clerk's revision fills them (:mod:`pki.forms`). The organisation's seal
follows the personal signature: a seal image overlaps about a third of it on its left, a
text-only stamp sits beside it so both stay legible. Where the text gives no such place, the
fixed boxes at the bottom of the page serve, and the number goes into the seal's text.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import date

from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader

from docexchange.domain.documents import date_parts, format_number
from docexchange.services.container import Services
from docexchange.storage.models import Document
from pki.forms import Align, FormChange, TextField, text_fields, text_fields_in
from pki.layout import PageText, find_date, find_number, find_signature_block
from pki.pdf import PdfRefused
from pki.signing import Placement

logger = logging.getLogger(__name__)

#: The fixed places when the text gives none: last page (or the page chosen at upload), the
#: personal signature at the right, the organisation's to its left (PDF points).
PERSONAL_BOX = Placement(page=-1, box=(360, 70, 565, 150))
SEAL_BOX = Placement(page=-1, box=(130, 70, 355, 150))
SEAL_OVER_SIGNATURE_BOX = Placement(page=-1, box=(290, 55, 430, 165))

#: The form fields for the number and the issue date ("Số", "ngày … tháng … năm").
NUMBER_FIELD = "SoVanBan"
DATE_FIELDS = ("NgayBanHanh", "ThangBanHanh", "NamBanHanh")

#: How many pages from the end are searched for the signature block (an appendix may follow).
_PAGES_SEARCHED = 4
_SEAL_GAP = 6.0
#: What reading an (inspected) file's form or widgets may still raise on odd structures.
_UNREADABLE = (PdfError, ValueError, KeyError, TypeError)


def on_page(placement: Placement, document: Document) -> Placement:
    """The placement on the page chosen at upload (pyHanko counts pages from 0)."""
    if document.signature_page is None:
        return placement
    return Placement(page=document.signature_page - 1, box=placement.box)


@dataclass(frozen=True)
class PersonalLayout:
    """Where a personal signature goes, and the fields its revision adds (if any)."""

    placement: Placement
    form: FormChange | None = None


def personal_layout(
    data: bytes, document: Document, *, position: str, name: str, services: Services
) -> PersonalLayout:
    """The place of the personal signature of ``position`` / ``name`` on ``data``."""
    if document.signature_page is not None:
        wanted = [document.signature_page - 1]
    else:
        wanted = [document.pages - 1 - i for i in range(min(_PAGES_SEARCHED, document.pages))]
    try:
        pages = services.verifier.page_text(data, [0, *wanted])
    except PdfRefused as exc:
        logger.info("no text layout for %s: %s", document.id, exc.reason)
        return PersonalLayout(on_page(PERSONAL_BOX, document))
    placement = on_page(PERSONAL_BOX, document)
    for page in pages[1:]:
        box = find_signature_block(page, (position,), name=name)
        if box is not None:
            placement = Placement(page=page.index, box=box)
            break
    return PersonalLayout(placement, _number_and_date_fields(data, pages[0]))


def _number_and_date_fields(data: bytes, first: PageText) -> FormChange | None:
    """Empty fields over the number and date gaps of the first page, unless an earlier
    signature laid them already."""
    try:
        existing = text_fields_in(data)
    except _UNREADABLE:
        return None
    add: list[TextField] = []
    number = find_number(first)
    if number is not None and NUMBER_FIELD not in existing:
        add.append(TextField(NUMBER_FIELD, first.index, number.box, number.size, Align.RIGHT))
    dates = find_date(first)
    if dates is not None and not set(DATE_FIELDS) & set(existing):
        for field, slot in zip(DATE_FIELDS, (dates.day, dates.month, dates.year), strict=True):
            if slot is not None:
                add.append(TextField(field, first.index, slot.box, slot.size))
    return FormChange(add=tuple(add)) if add else None


def read_pdf(data: bytes) -> PdfFileReader | None:
    """``data`` read once for :func:`issue_fill` and :func:`seal_placement` (``None`` if it
    cannot be: then neither finds anything and the fixed places serve)."""
    try:
        return PdfFileReader(io.BytesIO(data), strict=False)
    except _UNREADABLE:
        return None


def issue_fill(
    reader: PdfFileReader | None, number: int, day: date
) -> tuple[FormChange | None, bool]:
    """The values the issuing revision writes into the document's own fields, and whether
    the number is among them (if not, the seal's text carries it)."""
    try:
        existing = text_fields(reader) if reader is not None else {}
    except _UNREADABLE:
        return None, False
    values = dict(zip(DATE_FIELDS, date_parts(day), strict=True))
    values[NUMBER_FIELD] = format_number(number)
    fill = tuple((k, v) for k, v in values.items() if existing.get(k) == "")
    placed = any(k == NUMBER_FIELD for k, _ in fill)
    return (FormChange(fill=fill) if fill else None), placed


def seal_placement(
    reader: PdfFileReader | None,
    document: Document,
    *,
    with_image: bool,
    text_lines: int,
    font_size: int,
) -> Placement:
    """Where the organisation's signature goes: next to the last personal signature.

    With a seal image, a square overlapping the left third of the personal signature (and a
    band under it for ``text_lines``); without one, a text box at its left, or under it.
    """
    personal = _last_personal_widget(reader, document.pages) if reader is not None else None
    if personal is None:
        return on_page(SEAL_OVER_SIGNATURE_BOX if with_image else SEAL_BOX, document)
    page, (x0, y0, x1, y1) = personal
    width, height = x1 - x0, y1 - y0
    band = text_lines * font_size * 1.3 + 4 if text_lines else 0.0
    if with_image:
        side = min(max(height * 1.4, 90.0), 130.0)
        right = x0 + width / 3
        middle = (y0 + y1) / 2
        top = middle + side / 2
        return Placement(page, (right - side, top - side - band, right, top))
    seal_width = max(width, 200.0)
    if x0 - _SEAL_GAP - seal_width >= 20:
        return Placement(page, (x0 - _SEAL_GAP - seal_width, y0, x0 - _SEAL_GAP, y1))
    seal_height = max(band, 40.0)
    if y0 - _SEAL_GAP - seal_height >= 20:
        return Placement(page, (x0, y0 - _SEAL_GAP - seal_height, x1, y0 - _SEAL_GAP))
    return on_page(SEAL_BOX, document)


def _last_personal_widget(
    reader: PdfFileReader, pages: int
) -> tuple[int, tuple[float, float, float, float]] | None:
    """Page (0-based) and box of the last signature field holding a signature."""
    try:
        signatures = reader.embedded_signatures
        if not signatures:
            return None
        field = signatures[-1].sig_field
        rect = tuple(float(v) for v in field["/Rect"])
        box = (
            min(rect[0], rect[2]),
            min(rect[1], rect[3]),
            max(rect[0], rect[2]),
            max(rect[1], rect[3]),
        )
        if box[2] - box[0] < 20 or box[3] - box[1] < 20:
            return None  # an invisible signature: no place to follow
        page_ref = field.raw_get("/P")
        for index in range(pages):
            found = reader.find_page_for_modification(index)[0]  # type: ignore[no-untyped-call]
            if found.idnum == page_ref.idnum:
                return index, box
    except (*_UNREADABLE, AttributeError, IndexError):
        return None
    return None
