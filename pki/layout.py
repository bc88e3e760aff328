"""Where a document's own text asks for the stamps: NĐ 30/2020 Phụ lục I.

The signer's position ("CHỦ TỊCH", "KT. CHỦ TỊCH / PHÓ CHỦ TỊCH") heads the signature block:
the personal signature goes under it, between position and name. The "Số:   /QĐ-UBND" line
and the "…, ngày   tháng   năm" line leave gaps for the number and the date the clerk writes
at issue.

PDFium (pypdfium2) reads the characters and their boxes (:func:`page_text`); only the
isolated PDF workers call that (:mod:`pki.isolation`). The rest of this module reads those
boxes and runs anywhere. Coordinates are PDF points with the origin at the page's bottom left,
as pyHanko places fields.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import pypdfium2
import pypdfium2.raw as pdfium_c

from pki.pdf import PdfRefused

__all__ = [
    "Box",
    "DateSlots",
    "PageText",
    "Slot",
    "TextChar",
    "find_date",
    "find_number",
    "find_signature_block",
    "page_text",
]

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class TextChar:
    """One character as PDFium reads it: its box, and the size of its font."""

    char: str
    box: Box
    size: float


@dataclass(frozen=True)
class PageText:
    """The characters of one page, in reading order, lines ending at ``\\n``."""

    index: int  #: 0-based page number
    width: float
    height: float
    chars: tuple[TextChar, ...]


@dataclass(frozen=True)
class Slot:
    """A gap in the text where a value is written: its box and the text's size there."""

    box: Box
    size: float


@dataclass(frozen=True)
class DateSlots:
    day: Slot
    month: Slot
    year: Slot | None  #: ``None`` when the year is printed already


def page_text(data: bytes, pages: Sequence[int]) -> tuple[PageText, ...]:
    """The text of ``pages`` (0-based; negative counts from the end) of ``data``.

    :raises PdfRefused: ``broken`` (PDFium cannot read it), ``malformed`` (no such page).
    """
    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError:
        raise PdfRefused("broken") from None
    try:
        count = len(document)
        found = []
        for wanted in pages:
            index = wanted + count if wanted < 0 else wanted
            if not 0 <= index < count:
                raise PdfRefused("malformed")
            page = document[index]
            text = page.get_textpage()
            chars = tuple(
                TextChar(
                    char=text.get_text_range(i, 1),
                    box=tuple(float(v) for v in text.get_charbox(i)),  # type: ignore[arg-type]
                    size=float(pdfium_c.FPDFText_GetFontSize(text.raw, i)),
                )
                for i in range(text.count_chars())
            )
            found.append(PageText(index, page.get_width(), page.get_height(), chars))
        return tuple(found)
    except pypdfium2.PdfiumError:
        raise PdfRefused("broken") from None
    finally:
        document.close()


def _lines(page: PageText) -> list[list[TextChar]]:
    lines: list[list[TextChar]] = [[]]
    for char in page.chars:
        if char.char == "\n":
            lines.append([])
        elif char.char != "\r":
            lines[-1].append(char)
    return [line for line in lines if line]


def _folded(line: Sequence[TextChar]) -> tuple[str, list[int]]:
    """The line decomposed and lower-cased, with the index of the character each letter came
    from (so "Số" matches however the PDF encodes its accents)."""
    letters: list[str] = []
    owners: list[int] = []
    for i, char in enumerate(line):
        for letter in unicodedata.normalize("NFD", char.char):
            letters.append(letter.lower()[:1] or letter)
            owners.append(i)
    return "".join(letters), owners


def _words(text: str) -> str:
    return " ".join(unicodedata.normalize("NFD", text).lower().split())


def _pattern(text: str) -> str:
    words = unicodedata.normalize("NFD", text).lower().split()
    return r"\s*".join(re.escape(word) for word in words)


def _ink(chars: Sequence[TextChar]) -> Box:
    """The box around the visible characters of ``chars``."""
    seen = [c.box for c in chars if not c.char.isspace()] or [c.box for c in chars]
    return (
        min(b[0] for b in seen),
        min(b[1] for b in seen),
        max(b[2] for b in seen),
        max(b[3] for b in seen),
    )


def _size(chars: Sequence[TextChar]) -> float:
    sizes = [c.size for c in chars if c.size > 0 and not c.char.isspace()]
    return max(sizes) if sizes else 12.0


#: How wide the personal signature is drawn, and how tall at most (PDF points).
SIGNATURE_WIDTH = 200.0
SIGNATURE_HEIGHT = 80.0


def find_signature_block(
    page: PageText, positions: Sequence[str], *, name: str | None = None
) -> Box | None:
    """The box for a personal signature under the signer's position on ``page``.

    A line that is exactly one of ``positions`` wins over a line that ends with it ("KT. CHỦ
    TỊCH" ends with "CHỦ TỊCH"); among equals, the lowest on the page. The box is centred on
    that whole line and ends above the signer's ``name`` when that line is found below.
    """
    lines = _lines(page)
    best: tuple[int, float, list[TextChar]] | None = None
    for line in lines:
        folded, _ = _folded(line)
        for position in positions:
            if not position.strip():
                continue
            match = re.search(r"(?:^|\s)(" + _pattern(position) + r")\s*$", folded)
            if match is None:
                continue
            rank = 2 if not folded[: match.start(1)].strip() else 1
            bottom = _ink(line)[1]
            if best is None or (rank, -bottom) > (best[0], -best[1]):
                best = (rank, bottom, line)
    if best is None:
        return None
    left, bottom, right, _ = _ink(best[2])
    centre = (left + right) / 2
    top = bottom - 2
    floor = top - SIGNATURE_HEIGHT
    if name:
        wanted_name = _words(name)
        for line in lines:
            folded, _ = _folded(line)
            line_top = _ink(line)[3]
            if wanted_name in " ".join(folded.split()) and floor - 40 < line_top < top:
                floor = max(floor, line_top + 2)
    if top - floor < 30:
        return None  # no room under the position: the default place serves better
    half = SIGNATURE_WIDTH / 2
    centre = min(max(centre, half + 10), page.width - half - 10)
    return (centre - half, floor, centre + half, top)


_NUMBER = re.compile(_pattern("Số") + r"\s*:(\s*)/")


def find_number(page: PageText) -> Slot | None:
    """The gap between "Số:" and "/…" on ``page`` where the number goes, if the line is there."""
    for line in _lines(page):
        folded, owners = _folded(line)
        match = _NUMBER.search(folded)
        if match is None:
            continue
        colon = line[owners[match.start(1) - 1]]
        slash = line[owners[match.end(1)]]
        size = _size(line[owners[match.start()] : owners[match.end(1)] + 1])
        left, right = colon.box[2] + 1, slash.box[0] - 0.5
        if right - left < size * 0.9:  # no room for two digits: write nothing over the text
            continue
        return Slot(_band(left, right, _baseline(line), size), size)
    return None


_DATE = re.compile(
    _pattern("ngày")
    + r"(\s*)"
    + _pattern("tháng")
    + r"(\s*)"
    + _pattern("năm")
    + r"(\s*)(\d{4})?\s*$"
)


def find_date(page: PageText) -> DateSlots | None:
    """The gaps of "ngày   tháng   năm" on ``page`` for day, month and year, if found empty
    (a year typed already leaves no year slot)."""
    for line in _lines(page):
        folded, owners = _folded(line)
        match = _DATE.search(folded)
        if match is None:
            continue
        size = _size(line[owners[match.start()] :])
        gaps = []
        for group in (1, 2):
            before = line[owners[match.start(group) - 1]]
            after = line[owners[match.end(group)]]
            gaps.append((before.box[2] + 1, after.box[0] - 1))
        if match.group(4) is None:
            last = line[owners[match.start(3) - 1]]
            gaps.append((last.box[2] + size * 0.3, last.box[2] + size * 2.6))
        if any(right - left < size * 0.9 for left, right in gaps):
            continue
        baseline = _baseline(line)
        slots = [Slot(_band(left, right, baseline, size), size) for left, right in gaps]
        return DateSlots(slots[0], slots[1], slots[2] if len(slots) == 3 else None)
    return None


def _baseline(line: Sequence[TextChar]) -> float:
    """Where most letters of ``line`` sit (descenders of g, y, p reach below it)."""
    bottoms = sorted(round(c.box[1]) for c in line if not c.char.isspace())
    return float(max(set(bottoms), key=bottoms.count)) if bottoms else line[0].box[1]


def _band(left: float, right: float, baseline: float, size: float) -> Box:
    """A field box from ``left`` to ``right`` around ``baseline``."""
    return (left, baseline - size * 0.3, right, baseline + size * 1.0)
