"""The ratio report as a spreadsheet (XLSX, CSV) or a printable PDF."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from openpyxl import Workbook

from docexchange.domain.cells import csv_cell, is_formula_like
from docexchange.errors import invalid_field
from docexchange.services.reports.ratio import RatioReport

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


#: The fields of a paper-register entry, as the API and the page take them.
PAPER_FIELDS = ("direction", "date", "number", "subject", "counterpart", "secrecy")


#: Column headings of the exported sheet (Vietnamese, as the office files it).
EXPORT_HEADINGS = (
    "Mã định danh",
    "Đơn vị",
    "Văn bản đi",
    "Văn bản đi điện tử",
    "Tỷ lệ đi (%)",
    "Văn bản đến",
    "Văn bản đến điện tử",
    "Tỷ lệ đến (%)",
    "Tỷ lệ chung (%)",
    "Văn bản mật (không tính)",
)


def _percent(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 2)


def export_rows(report: RatioReport) -> list[tuple[object, ...]]:
    """The report as rows: the unit (or subtree total) first, then each child unit."""
    rows: list[tuple[object, ...]] = []
    for item in (report.unit, *report.children):
        c = item.counts
        rows.append(
            (
                item.code,
                item.name,
                c.sent_total,
                c.sent_electronic,
                _percent(c.sent_ratio),
                c.received_total,
                c.received_electronic,
                _percent(c.received_ratio),
                _percent(c.ratio),
                c.secret_excluded,
            )
        )
    return rows


@dataclass(frozen=True)
class Export:
    """A file to download."""

    data: bytes
    mimetype: str
    filename: str


def render_ratio(report: RatioReport, fmt: str) -> Export:
    """The report as ``csv`` (UTF-8 with BOM, for spreadsheet programs) or ``xlsx``.

    :raises InvalidInput: ``invalid_field`` for another format.
    """
    title = (
        f"Tỷ lệ văn bản điện tử — {report.unit.name} ({report.unit.code}), "
        f"{report.period.first.isoformat()} đến {report.period.last.isoformat()}"
    )
    rows = export_rows(report)
    name = f"ty-le-dien-tu-{report.unit.code}-{report.period.first}-{report.period.last}"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(EXPORT_HEADINGS)
        writer.writerows([csv_cell(v) for v in row] for row in rows)
        data = ("\ufeff" + buffer.getvalue()).encode("utf-8")
        return Export(data, "text/csv", f"{name}.csv")
    if fmt != "xlsx":
        raise invalid_field("format", "reason_one_of", values="json, csv, xlsx")
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook has its sheet
    sheet.title = "Tỷ lệ điện tử"
    sheet.append([title])
    sheet.append(list(EXPORT_HEADINGS))
    for row in rows:
        sheet.append(list(row))
        for cell in sheet[sheet.max_row]:
            if is_formula_like(cell.value):
                cell.data_type = "s"  # text, never a formula
    for column, width in zip("ABCDEFGHIJ", (16, 40, 12, 14, 12, 12, 14, 12, 12, 14), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return Export(out.getvalue(), XLSX_MIMETYPE, f"{name}.xlsx")
