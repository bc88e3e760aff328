"""The registers NĐ 30 asks a unit to keep (Điều 22, Phụ lục IV).

Incoming ("sổ văn bản đến"): every document the unit accepted in a year, electronic and
paper, in the order of its incoming number. Outgoing ("sổ văn bản đi"): every document the
unit issued in a year and what it sent on paper, by date and number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from docexchange.domain.documents import (
    DOC_TYPES,
    DocumentState,
    Secrecy,
    SignatureKind,
    identifier_date,
    number_text,
)
from docexchange.domain.exchange import Status, deadline
from docexchange.domain.reports import Direction, Scope
from docexchange.domain.search import found_in
from docexchange.domain.timeutil import VN_TZ
from docexchange.services import directory
from docexchange.services.accounts import names_in_unit
from docexchange.services.authz import Actor
from docexchange.services.reports.ratio import _check_access
from docexchange.storage.models import Delivery, Document, InboxEntry, PaperRecord

#: What the register says of each status (Vietnamese, as the office files it).
STATUS_TEXT = {
    Status.ARRIVED: "đã đến",
    Status.RETURNED: "trả lại",
    Status.ACCEPTED: "đã tiếp nhận",
    Status.ASSIGNED: "đã phân công",
    Status.PROCESSING: "đang xử lý",
    Status.DONE: "đã hoàn thành",
    Status.TAKE_BACK_REQUESTED: "yêu cầu lấy lại",
    Status.TAKE_BACK_AGREED: "đã lấy lại",
    Status.TAKE_BACK_REFUSED: "từ chối lấy lại",
}


class RegisterKind(StrEnum):
    """Which register: what came in, or what went out."""

    INCOMING = "incoming"
    OUTGOING = "outgoing"


@dataclass(frozen=True)
class IncomingRow:
    """One line of the incoming register."""

    incoming_number: int
    arrived_on: date
    number: str | None  #: the document's own number and notation
    issuer: str  #: the issuing unit's name (or what the paper entry names)
    issuer_code: str | None
    document_date: date | None
    subject: str
    assignee: str | None  #: the person's name
    due_date: date | None
    status: str  #: a status code, or ``paper`` for a paper entry
    electronic: bool
    inbox_id: str | None  #: the inbox entry, for a link


@dataclass(frozen=True)
class IncomingRegister:
    unit_code: str
    unit_name: str
    year: int
    rows: tuple[IncomingRow, ...]


def _incoming_rows(session: Session, code: str, year: int) -> list[IncomingRow]:
    """The incoming register's lines, in the order of their numbers."""
    people = names_in_unit(session, code)
    rows: list[IncomingRow] = []
    entries = session.scalars(
        select(InboxEntry).where(
            InboxEntry.recipient_code == code,
            InboxEntry.incoming_year == year,
            InboxEntry.incoming_number.is_not(None),
        )
    )
    names: dict[str, str] = {}
    for entry in entries:
        if entry.sender_code not in names:
            names[entry.sender_code] = directory.unit_name(session, entry.sender_code)
        assert entry.incoming_number is not None
        rows.append(
            IncomingRow(
                incoming_number=entry.incoming_number,
                arrived_on=entry.received_at.astimezone(VN_TZ).date(),
                number=entry.number,
                issuer=names[entry.sender_code],
                issuer_code=entry.sender_code,
                document_date=identifier_date(entry.document_ref),
                subject=entry.subject,
                assignee=people.get(entry.assignee, entry.assignee) if entry.assignee else None,
                due_date=deadline(entry.handling_due, entry.due_date),
                status=entry.status_code,
                electronic=True,
                inbox_id=entry.id,
            )
        )
    papers = session.scalars(
        select(PaperRecord).where(
            PaperRecord.unit_code == code,
            PaperRecord.direction == Direction.RECEIVED,
            PaperRecord.incoming_year == year,
            PaperRecord.incoming_number.is_not(None),
        )
    )
    for record in papers:
        assert record.incoming_number is not None
        rows.append(
            IncomingRow(
                incoming_number=record.incoming_number,
                arrived_on=record.day,
                number=record.number,
                issuer=record.counterpart,
                issuer_code=None,
                document_date=None,
                subject=record.subject,
                assignee=None,
                due_date=None,
                status="paper",
                electronic=False,
                inbox_id=None,
            )
        )
    return sorted(rows, key=lambda r: r.incoming_number)


def status_text(row: IncomingRow) -> str:
    """The row's status as the register writes it."""
    if row.status == "paper":
        return "văn bản giấy"
    try:
        return STATUS_TEXT[Status(row.status)]
    except ValueError:
        return row.status


def headings() -> Sequence[str]:
    """The register's columns (NĐ 30 Phụ lục IV, mẫu sổ đăng ký văn bản đến)."""
    return (
        "Số đến",
        "Ngày đến",
        "Số, ký hiệu",
        "Nơi ban hành",
        "Ngày văn bản",
        "Trích yếu nội dung",
        "Người xử lý",
        "Hạn xử lý",
        "Tình trạng",
    )


@dataclass(frozen=True)
class OutgoingRow:
    """One line of the outgoing register."""

    number: str  #: number and notation
    issued_on: date
    doc_type: str | None  #: ``None`` for a paper entry (its type is in its number)
    subject: str
    signer: str | None  #: the competent person's name
    recipients: tuple[str, ...]  #: names (a paper entry: what it names)
    secret: bool
    electronic: bool
    document_id: str | None  #: the document, for a link


@dataclass(frozen=True)
class OutgoingRegister:
    unit_code: str
    unit_name: str
    year: int
    rows: tuple[OutgoingRow, ...]


def _outgoing_rows(session: Session, code: str, year: int) -> list[OutgoingRow]:
    """The outgoing register's lines, by date and number."""
    people = names_in_unit(session, code)
    documents = session.scalars(
        select(Document).where(
            Document.sender_code == code,
            Document.issued_year == year,
            Document.state == DocumentState.ISSUED,
        )
    ).all()
    sent_to: dict[str, list[str]] = {}
    if documents:
        deliveries = session.execute(
            select(Delivery.document_id, Delivery.recipient_code).where(
                Delivery.document_id.in_([d.id for d in documents])
            )
        )
        for document_id, recipient in deliveries:
            sent_to.setdefault(str(document_id), []).append(str(recipient))
    rows: list[tuple[tuple[date, int, str], OutgoingRow]] = []
    for document in documents:
        assert document.issued_at is not None and document.number is not None
        issued_on = document.issued_at.astimezone(VN_TZ).date()
        personal = [s for s in document.signatures if s.kind == SignatureKind.PERSONAL]
        signer = personal[-1].signer if personal else None
        recipients = tuple(
            directory.unit_name(session, r) for r in sorted(sent_to.get(document.id, []))
        )
        row = OutgoingRow(
            number=number_text(document.number, document.notation) or "",
            issued_on=issued_on,
            doc_type=document.doc_type,
            subject=document.subject,
            signer=people.get(signer, signer) if signer else None,
            recipients=recipients,
            secret=Secrecy(document.secrecy) is not Secrecy.NONE,
            electronic=True,
            document_id=document.id,
        )
        rows.append(((issued_on, document.number, row.number), row))
    papers = session.scalars(
        select(PaperRecord).where(
            PaperRecord.unit_code == code,
            PaperRecord.direction == Direction.SENT,
            PaperRecord.day.between(date(year, 1, 1), date(year, 12, 31)),
        )
    )
    for record in papers:
        row = OutgoingRow(
            number=record.number,
            issued_on=record.day,
            doc_type=None,
            subject=record.subject,
            signer=None,
            recipients=(record.counterpart,),
            secret=record.secrecy != Secrecy.NONE.value,
            electronic=False,
            document_id=None,
        )
        rows.append(((record.day, _leading_number(record.number), record.number), row))
    return [row for _order, row in sorted(rows, key=lambda pair: pair[0])]


def _leading_number(text: str) -> int:
    """``12/UBND`` -> 12, so paper entries sort among the numbered documents."""
    digits = ""
    for char in text:
        if not char.isdigit():
            break
        digits += char
    return int(digits) if digits else 0


def outgoing_headings() -> Sequence[str]:
    """The outgoing register's columns (NĐ 30 Phụ lục IV, mẫu sổ đăng ký văn bản đi)."""
    return (
        "Số, ký hiệu",
        "Ngày văn bản",
        "Tên loại và trích yếu nội dung",
        "Người ký",
        "Nơi nhận",
        "Hình thức",
    )


def register_of(
    session: Session,
    kind: RegisterKind,
    *,
    actor: Actor,
    year: int,
    unit: str | None = None,
    first: date | None = None,
    last: date | None = None,
    query: str | None = None,
) -> IncomingRegister | OutgoingRegister:
    """The ``kind`` register of ``unit`` (the actor's own by default) for ``year``,
    optionally only what arrived (incoming) or was issued (outgoing) from ``first`` to
    ``last``, and only the lines with every word of ``query`` (number, subject, issuer or
    recipients, signer, assignee).

    :raises Forbidden: ``unit_forbidden``.
    """
    code = unit or actor.unit_code
    # Who may read a unit's register is who may read its reports for that unit alone.
    _check_access(session, actor, code, Scope.SELF)
    name = directory.unit_name(session, code)

    def within(day: date) -> bool:
        return (first is None or day >= first) and (last is None or day <= last)

    if kind is RegisterKind.INCOMING:
        incoming = _incoming_rows(session, code, year)
        return IncomingRegister(
            code,
            name,
            year,
            tuple(
                r
                for r in incoming
                if within(r.arrived_on)
                and found_in(query, r.number, r.subject, r.issuer, r.assignee)
            ),
        )
    outgoing = _outgoing_rows(session, code, year)
    return OutgoingRegister(
        code,
        name,
        year,
        tuple(
            r
            for r in outgoing
            if within(r.issued_on)
            and found_in(
                query, DOC_TYPES.get(r.doc_type or ""), r.number, r.subject, r.signer, *r.recipients
            )
        ),
    )
