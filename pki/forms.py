"""Text fields for the number and the date, prepared under a signature and filled at issue.

The leader signs before the clerk numbers the document, so the number cannot be part of the
text the leader signed. Instead the leader's revision adds empty, read-only text fields over
the "Số:" and "ngày … tháng … năm" gaps; the clerk's revision fills them and adds the
organisation signature. Filling a field is form filling, which a personal (approval)
signature permits: our verifier and pyHanko's modification analysis both accept it, as long
as every filled value gets a *new* appearance stream (pyHanko refuses a stream changed in
place).

The values are digits, drawn in the standard Times-Roman font (no font to embed).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name, pdf_string
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import BasePdfFileWriter

__all__ = [
    "Align",
    "FormChange",
    "TextField",
    "add_text_fields",
    "fill_text_fields",
    "text_fields",
    "text_fields_in",
]

Box = tuple[float, float, float, float]

_READ_ONLY = 1
_PRINT = 4
_FONT = pdf_name("/TiRo")


class Align(IntEnum):
    """Where a value sits in its field (the PDF ``/Q`` quadding)."""

    LEFT = 0
    CENTRE = 1
    RIGHT = 2


@dataclass(frozen=True)
class TextField:
    """An empty text field to add: its name (no dots), page (0-based), box and text size."""

    name: str
    page: int
    box: Box
    size: float
    align: Align = Align.CENTRE


@dataclass(frozen=True)
class FormChange:
    """What a signing revision does to the form before it signs: fields added, values filled."""

    add: tuple[TextField, ...] = ()
    fill: tuple[tuple[str, str], ...] = ()

    def apply(self, writer: BasePdfFileWriter) -> None:
        add_text_fields(writer, self.add)
        fill_text_fields(writer, dict(self.fill))


def _font() -> generic.DictionaryObject:
    return generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/Font"),
            pdf_name("/Subtype"): pdf_name("/Type1"),
            pdf_name("/BaseFont"): pdf_name("/Times-Roman"),
            pdf_name("/Encoding"): pdf_name("/WinAnsiEncoding"),
        }
    )


def _appearance(
    writer: BasePdfFileWriter, box: Box, size: float, align: Align, value: str
) -> generic.IndirectObject:
    """A new appearance stream showing ``value`` (digits and ASCII) in Times-Roman."""
    width, height = box[2] - box[0], box[3] - box[1]
    text = value.encode("ascii", "replace")
    shown = b""
    if text:
        # Times-Roman draws every digit half an em wide; other ASCII is close enough.
        text_width = 0.5 * size * len(text)
        if align is Align.LEFT:
            x = 1.0
        elif align is Align.RIGHT:
            x = width - text_width - 1.0
        else:
            x = (width - text_width) / 2
        escaped = text.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
        shown = b"BT /TiRo %.2f Tf 0 g %.2f %.2f Td (%s) Tj ET" % (
            size,
            max(x, 0.0),
            size * 0.3,
            escaped,
        )
    content = b"/Tx BMC q " + shown + b" Q EMC"
    stream = generic.StreamObject(
        {
            pdf_name("/Type"): pdf_name("/XObject"),
            pdf_name("/Subtype"): pdf_name("/Form"),
            pdf_name("/BBox"): generic.ArrayObject(
                [generic.FloatObject(0), generic.FloatObject(0)]
                + [generic.FloatObject(round(v, 2)) for v in (width, height)]
            ),
            pdf_name("/Resources"): generic.DictionaryObject(
                {pdf_name("/Font"): generic.DictionaryObject({_FONT: _font()})}
            ),
        },
        stream_data=content,
    )
    ref: generic.IndirectObject = writer.add_object(stream)
    return ref


def _form_fields(writer: BasePdfFileWriter) -> generic.ArrayObject:
    """The document's ``/AcroForm /Fields``, created if the document has no form yet."""
    root = writer.root
    if "/AcroForm" not in root:
        root[pdf_name("/AcroForm")] = writer.add_object(
            generic.DictionaryObject({pdf_name("/Fields"): generic.ArrayObject()})
        )
        writer.update_root()
    form = root["/AcroForm"]
    if "/Fields" not in form:
        form[pdf_name("/Fields")] = generic.ArrayObject()
        writer.update_container(form)
    fields: generic.ArrayObject = form["/Fields"]
    return fields


def add_text_fields(writer: BasePdfFileWriter, wanted: Sequence[TextField]) -> None:
    """Add ``wanted`` as empty read-only text fields, each its own widget, in ``writer``'s
    revision."""
    if not wanted:
        return
    fields = _form_fields(writer)
    for spec in wanted:
        page_ref = writer.find_page_for_modification(spec.page)[0]
        field = generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Annot"),
                pdf_name("/Subtype"): pdf_name("/Widget"),
                pdf_name("/FT"): pdf_name("/Tx"),
                pdf_name("/T"): pdf_string(spec.name),
                pdf_name("/Ff"): generic.NumberObject(_READ_ONLY),
                pdf_name("/F"): generic.NumberObject(_PRINT),
                pdf_name("/Q"): generic.NumberObject(int(spec.align)),
                pdf_name("/DA"): pdf_string(f"/TiRo {spec.size:.2f} Tf 0 g"),
                pdf_name("/Rect"): generic.ArrayObject(
                    generic.FloatObject(round(v, 2)) for v in spec.box
                ),
                pdf_name("/P"): page_ref,
                pdf_name("/AP"): generic.DictionaryObject(
                    {pdf_name("/N"): _appearance(writer, spec.box, spec.size, spec.align, "")}
                ),
            }
        )
        ref = writer.add_object(field)
        writer.register_annotation(page_ref, ref)
        fields.append(ref)
    writer.update_container(fields)


def fill_text_fields(writer: BasePdfFileWriter, values: Mapping[str, str]) -> set[str]:
    """Write ``values`` into the text fields of those names; return the names filled.

    Each filled field gets its value and a new appearance stream (never one changed in
    place), so the change is form filling for every earlier signature.
    """
    filled: set[str] = set()
    for field in _fields(writer.root):
        name = str(_get(field, "/T", ""))
        box = _box(field)
        if name not in values or _get(field, "/FT", None) != "/Tx" or box is None:
            continue
        size = _size_of(str(_get(field, "/DA", "")))
        quadding = _get(field, "/Q", 0)
        align = Align(quadding) if quadding in (0, 1, 2) else Align.LEFT
        field[pdf_name("/V")] = pdf_string(values[name])
        field[pdf_name("/AP")] = generic.DictionaryObject(
            {pdf_name("/N"): _appearance(writer, box, size, align, values[name])}
        )
        writer.update_container(field)
        filled.add(name)
    return filled


def _get(dictionary: Any, key: str, default: Any) -> Any:
    """``dictionary[key]`` dereferenced (pyHanko's ``get`` leaves indirect objects)."""
    return dictionary[key] if key in dictionary else default  # noqa: SIM401


def _size_of(appearance: str) -> float:
    """The font size in a ``/DA`` string such as ``/TiRo 13.00 Tf 0 g``."""
    words = appearance.split()
    try:
        return float(words[words.index("Tf") - 1])
    except (ValueError, IndexError):
        return 12.0


def text_fields_in(data: bytes) -> dict[str, str]:
    """The text fields at the top of ``data``'s form, by name, with their values ('' empty).

    :raises ValueError: the form is not a dictionary, or its fields not an array.
    """
    return text_fields(PdfFileReader(io.BytesIO(data), strict=False))


def text_fields(reader: PdfFileReader) -> dict[str, str]:
    """:func:`text_fields_in` of a file already read."""
    found: dict[str, str] = {}
    for field in _fields(reader.root):
        if _get(field, "/FT", None) == "/Tx":
            found[str(_get(field, "/T", ""))] = str(_get(field, "/V", ""))
    return found


def _fields(root: generic.DictionaryObject) -> list[generic.DictionaryObject]:
    """The top-level field dictionaries of the form under ``root`` (none without a form).

    :raises ValueError: the form is not a dictionary, or its fields not an array.
    """
    form = _get(root, "/AcroForm", {})
    fields = _get(form, "/Fields", []) if isinstance(form, dict) else None
    if not isinstance(fields, list):
        raise ValueError("the document's form is malformed")
    found = (ref.get_object() for ref in fields)
    return [f for f in found if isinstance(f, generic.DictionaryObject)]


def _box(field: generic.DictionaryObject) -> Box | None:
    """A field's ``/Rect`` as four numbers, or ``None``."""
    rect = _get(field, "/Rect", None)
    if not isinstance(rect, list) or len(rect) != 4:
        return None
    try:
        return (float(rect[0]), float(rect[1]), float(rect[2]), float(rect[3]))
    except (TypeError, ValueError):  # a name or a string where a number belongs
        return None
