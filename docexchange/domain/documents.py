"""Documents: types, urgency, secrecy, states, numbering and the exchange identifier.

Numbering (DESIGN.md §3, NĐ 30/2020 Điều 15): per issuing unit, calendar year in
Asia/Ho_Chi_Minh and series; starts at 1 on 1 January; never reused. Each document type
has its own series; secret documents have separate series. Numbers below 10 are shown with
a leading zero.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from enum import StrEnum

from docexchange.errors import InvalidInput

__all__ = [
    "DOC_TYPES",
    "DocumentState",
    "Secrecy",
    "SignatureKind",
    "SigningState",
    "Urgency",
    "check_doc_type",
    "document_identifier",
    "download_name",
    "format_number",
    "notation",
    "number_text",
    "series_for",
]

#: NĐ 30/2020 Phụ lục III abbreviations, plus CV for công văn (which has no type part).
DOC_TYPES: dict[str, str] = {
    "CV": "Công văn",
    "NQ": "Nghị quyết",
    "QĐ": "Quyết định",
    "CT": "Chỉ thị",
    "QC": "Quy chế",
    "QyĐ": "Quy định",
    "TC": "Thông cáo",
    "TB": "Thông báo",
    "HD": "Hướng dẫn",
    "CTr": "Chương trình",
    "KH": "Kế hoạch",
    "PA": "Phương án",
    "ĐA": "Đề án",
    "DA": "Dự án",
    "BC": "Báo cáo",
    "BB": "Biên bản",
    "TTr": "Tờ trình",
    "HĐ": "Hợp đồng",
    "CĐ": "Công điện",
    "BGN": "Bản ghi nhớ",
    "BTT": "Bản thỏa thuận",
    "GUQ": "Giấy ủy quyền",
    "GM": "Giấy mời",
    "GGT": "Giấy giới thiệu",
    "GNP": "Giấy nghỉ phép",
    "PG": "Phiếu gửi",
    "PC": "Phiếu chuyển",
    "PB": "Phiếu báo",
}


class Urgency(StrEnum):
    """Độ khẩn."""

    NORMAL = "normal"
    KHAN = "khan"
    THUONG_KHAN = "thuong_khan"
    HOA_TOC = "hoa_toc"


class Secrecy(StrEnum):
    """Độ mật: anything above ``none`` never travels electronically."""

    NONE = "none"
    MAT = "mat"
    TOI_MAT = "toi_mat"
    TUYET_MAT = "tuyet_mat"


class SignatureKind(StrEnum):
    """Whose signature a document carries: a person's, or the organisation's (seal); a
    verification report also names document time stamps and signatures it cannot place."""

    PERSONAL = "personal"
    ORGANIZATION = "organization"
    TIMESTAMP = "timestamp"  # in verification reports only
    UNKNOWN = "unknown"  # in verification reports only


class SigningState(StrEnum):
    """A deferred signature: waiting for the client's signature value, used, or lapsed."""

    OPEN = "open"
    DONE = "done"
    EXPIRED = "expired"


class DocumentState(StrEnum):
    """Where an outgoing document is in its life."""

    DRAFT = "draft"  # uploaded, not signed
    SIGNED = "signed"  # carries the competent person's signature
    ISSUED = "issued"  # numbered and sealed with the organisation's signature


def check_doc_type(value: object) -> str:
    """:raises InvalidInput: ``invalid_doc_type``."""
    if not isinstance(value, str) or value not in DOC_TYPES:
        raise InvalidInput("invalid_doc_type", doc_type=str(value)[:20])
    return value


def series_for(doc_type: str, secrecy: Secrecy) -> str:
    """The numbering series of a document: its type, kept apart for secret documents."""
    return doc_type if secrecy is Secrecy.NONE else f"MAT-{doc_type}"


def format_number(number: int) -> str:
    """``5`` -> ``05``; ``123`` -> ``123`` (NĐ 30 Phụ lục I §I.3)."""
    return f"{number:02d}"


def date_parts(day: date) -> tuple[str, str, str]:
    """Day, month and year as a document writes them: ``ngày 05 tháng 02 năm 2026``,
    ``ngày 15 tháng 12 năm 2026`` — a day below 10 and a month below 3 take a leading zero
    (NĐ 30 Phụ lục I §I.5)."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"{day.day:02d}", month, str(day.year)


def number_text(number: int | str | None, notation_: str | None) -> str | None:
    """ "Số, ký hiệu" as a document shows it: ``05/QĐ-UBND``; ``None`` before issue."""
    if number is None or number == "":
        return None
    shown = format_number(number) if isinstance(number, int) else number
    return f"{shown}/{notation_ or ''}"


def notation(doc_type: str, issuer_abbreviation: str, drafting_unit: str | None) -> str:
    """``QĐ-UBND`` for typed documents, ``UBND-VP`` for công văn.

    :raises InvalidInput: ``missing_field`` when a công văn has no drafting unit.
    """
    if doc_type == "CV":
        if not drafting_unit:
            raise InvalidInput("missing_field", field="drafting_unit")
        return f"{issuer_abbreviation}-{drafting_unit}".upper()
    return f"{doc_type}-{issuer_abbreviation.upper()}"


def document_identifier(sender_code: str, issued_on: date, number: int, notation_: str) -> str:
    """The exchange idempotency key: ``<sender>,<yyyy/MM/dd>,<number>/<notation>``."""
    return f"{sender_code},{issued_on:%Y/%m/%d},{number_text(number, notation_)}"


def identifier_date(identifier: str) -> date | None:
    """The issue date inside an exchange identifier (``<sender>,<yyyy/MM/dd>,<number>``), or
    ``None`` when it has none (identifiers from other systems may not)."""
    parts = identifier.split(",")
    if len(parts) < 3:
        return None
    try:
        year, month, day = (int(v) for v in parts[1].split("/"))
        return date(year, month, day)
    except ValueError:
        return None


def download_name(
    number: int | None, notation_: str | None, issued_on: date | None, fallback: str
) -> str:
    """A file name a clerk can file: ``01-QD-UBND_2026-12-02.pdf`` (ASCII, no slash); before
    issue ``du-thao_<fallback>.pdf``."""
    if number is None or issued_on is None:
        return f"du-thao_{fallback}.pdf"
    text = f"{number_text(number, notation_)}".replace("Đ", "D").replace("đ", "d")
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    safe = "".join(c if c.isalnum() else "-" for c in folded).strip("-")
    return f"{safe}_{issued_on.isoformat()}.pdf"
