"""Draft decisions laid out as NĐ 30/2020 Phụ lục I shows them, with real Vietnamese text.

Drawn by fpdf2 in DejaVu Serif (the Debian fonts-dejavu-core package the server uses for its
stamps), so PDFium reads the characters back as a viewer would.
"""

from __future__ import annotations

from fpdf import FPDF

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"
BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf"

#: Where the header lines start (PDF points from the top, fpdf2's origin).
LEFT_COLUMN = 60.0
RIGHT_COLUMN = 320.0


def decision_pdf(
    *,
    number_line: str = "Số:          /QĐ-UBND",
    date_line: str = "Phú Thọ, ngày      tháng      năm",
    block: tuple[str, ...] = ("TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"),
    name: str = "Nguyễn Văn Tỉnh",
    appendix_pages: int = 0,
) -> bytes:
    """A one-page decision (plus appendix pages): header with the number and date gaps, a
    body, and the signature block at the right, with room between position and name."""
    pdf = FPDF(unit="pt", format="A4")
    pdf.set_auto_page_break(False)
    pdf.add_font("Serif", "", FONT)
    pdf.add_font("Serif", "B", BOLD)
    pdf.add_page()
    pdf.set_font("Serif", "B", 12)
    pdf.text(LEFT_COLUMN + 20, 70, "ỦY BAN NHÂN DÂN")
    pdf.text(LEFT_COLUMN + 28, 86, "TỈNH PHÚ THỌ")
    pdf.text(RIGHT_COLUMN - 35, 70, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    pdf.text(RIGHT_COLUMN + 20, 86, "Độc lập - Tự do - Hạnh phúc")
    pdf.set_font("Serif", "", 13)
    if number_line:
        pdf.text(LEFT_COLUMN + 10, 118, number_line)
    if date_line:
        pdf.text(RIGHT_COLUMN, 118, date_line)
    pdf.set_font("Serif", "B", 14)
    pdf.text(250, 170, "QUYẾT ĐỊNH")
    pdf.set_font("Serif", "", 13)
    pdf.text(150, 190, "Về việc ban hành quy chế thử nghiệm")
    for row in range(12):
        line = f"Điều {row + 1}. Nội dung thử nghiệm dòng {row}."
        pdf.text(LEFT_COLUMN + 20, 230 + row * 20, line)
    pdf.set_font("Serif", "B", 13)
    for row, line in enumerate(block):
        width = pdf.get_string_width(line)
        pdf.text(440 - width / 2, 520 + row * 18, line)
    if name:
        width = pdf.get_string_width(name)
        pdf.text(440 - width / 2, 520 + len(block) * 18 + 90, name)
    pdf.set_font("Serif", "B", 11)
    pdf.text(LEFT_COLUMN, 530, "Nơi nhận:")
    pdf.set_font("Serif", "", 10)
    pdf.text(LEFT_COLUMN, 546, "- Như Điều 3;")
    pdf.text(LEFT_COLUMN, 560, "- Lưu: VT.")
    for page in range(appendix_pages):
        pdf.add_page()
        pdf.set_font("Serif", "B", 13)
        pdf.text(250, 80, f"PHỤ LỤC {page + 1}")
        pdf.set_font("Serif", "", 12)
        pdf.text(LEFT_COLUMN, 120, "Danh sách kèm theo quyết định.")
    return bytes(pdf.output())
