"""The registers to file: XLSX, and a printable PDF (A4 landscape, Vietnamese)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from openpyxl import Workbook

from docexchange.domain.cells import is_formula_like
from docexchange.errors import invalid_field
from docexchange.services.registers import (
    IncomingRegister,
    OutgoingRegister,
    headings,
    outgoing_headings,
    status_text,
)
from docexchange.services.reports.exports import XLSX_MIMETYPE, Export

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"
BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf"


def _day(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


@dataclass(frozen=True)
class _Sheet:
    """A register laid out for filing: its title, columns and lines."""

    name: str  #: the file name, without extension
    title: str
    sheet_title: str
    headings: Sequence[str]
    rows: list[list[object]]
    xlsx_widths: Sequence[int]  #: characters
    pdf_widths: Sequence[float]  #: millimetres, 277 in all on A4 landscape
    empty: str


def _incoming(register: IncomingRegister) -> _Sheet:
    rows: list[list[object]] = [
        [
            row.incoming_number,
            _day(row.arrived_on),
            row.number or "",
            row.issuer,
            _day(row.document_date),
            row.subject,
            row.assignee or "",
            _day(row.due_date),
            status_text(row),
        ]
        for row in register.rows
    ]
    return _Sheet(
        name=f"so-van-ban-den-{register.unit_code}-{register.year}",
        title=f"SỔ ĐĂNG KÝ VĂN BẢN ĐẾN NĂM {register.year} — {register.unit_name}",
        sheet_title=f"Sổ đến {register.year}",
        headings=headings(),
        rows=rows,
        xlsx_widths=(8, 12, 18, 30, 12, 60, 22, 12, 16),
        pdf_widths=(14, 20, 28, 40, 20, 85, 28, 20, 22),
        empty="Chưa có văn bản đến nào trong năm.",
    )


def _outgoing(register: OutgoingRegister) -> _Sheet:
    rows: list[list[object]] = [
        [
            row.number,
            _day(row.issued_on),
            (f"{row.doc_type} — " if row.doc_type else "")
            + row.subject
            + (" (MẬT)" if row.secret else ""),
            row.signer or "",
            "; ".join(row.recipients),
            "điện tử" if row.electronic else "giấy",
        ]
        for row in register.rows
    ]
    return _Sheet(
        name=f"so-van-ban-di-{register.unit_code}-{register.year}",
        title=f"SỔ ĐĂNG KÝ VĂN BẢN ĐI NĂM {register.year} — {register.unit_name}",
        sheet_title=f"Sổ đi {register.year}",
        headings=outgoing_headings(),
        rows=rows,
        xlsx_widths=(18, 12, 60, 24, 50, 10),
        pdf_widths=(30, 22, 100, 35, 72, 18),
        empty="Chưa có văn bản đi nào trong năm.",
    )


def render_register(register: IncomingRegister | OutgoingRegister, fmt: str) -> Export:
    """A register as ``xlsx`` or ``pdf``.

    :raises InvalidInput: ``invalid_field`` for another format.
    """
    sheet = _incoming(register) if isinstance(register, IncomingRegister) else _outgoing(register)
    if fmt == "xlsx":
        return Export(_xlsx(sheet), XLSX_MIMETYPE, f"{sheet.name}.xlsx")
    if fmt == "pdf":
        return Export(_pdf(sheet), "application/pdf", f"{sheet.name}.pdf")
    raise invalid_field("format", "reason_one_of", values="json, xlsx, pdf")


def _xlsx(sheet: _Sheet) -> bytes:
    book = Workbook()
    page = book.active
    assert page is not None  # a new workbook has its sheet
    page.title = sheet.sheet_title
    page.append([sheet.title])
    page.append(list(sheet.headings))
    for row in sheet.rows:
        page.append(row)
        for cell in page[page.max_row]:
            if is_formula_like(cell.value):
                cell.data_type = "s"  # text, never a formula
    for index, width in enumerate(sheet.xlsx_widths):
        page.column_dimensions[chr(ord("A") + index)].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


class _Pages(FPDF):
    """A4 landscape pages with the title and the column headings repeated on each."""

    def __init__(self, sheet: _Sheet) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        self.sheet = sheet
        self.add_font("Serif", "", FONT)
        self.add_font("Serif", "B", BOLD)
        self.set_auto_page_break(True, margin=12)
        self.set_margins(10, 10, 10)

    def header(self) -> None:
        self.set_font("Serif", "B", 12)
        self.cell(0, 8, self.sheet.title, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font("Serif", "B", 7)
        for width, heading in zip(self.sheet.pdf_widths, self.sheet.headings, strict=True):
            self.cell(width, 7, heading, border=1, align="C")
        self.ln(7)
        self.set_font("Serif", "", 8)

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font("Serif", "", 8)
        self.cell(0, 5, f"Trang {self.page_no()}/{{nb}}", align="C")


def _pdf(sheet: _Sheet) -> bytes:
    pdf = _Pages(sheet)
    pdf.add_page()
    pdf.set_font("Serif", "", 8)
    widths = tuple(sheet.pdf_widths)
    with pdf.table(col_widths=widths, first_row_as_headings=False, line_height=4.5) as table:
        for row in sheet.rows:
            table.row([str(v) for v in row])
        if not sheet.rows:
            cells = [""] * len(widths)
            cells[widths.index(max(widths))] = sheet.empty
            table.row(cells)
    return bytes(pdf.output())
