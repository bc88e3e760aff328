"""What the exchange modules share: ids, names of units in edXML, what a delivery hands over."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from docexchange.domain.documents import number_text
from docexchange.domain.exchange import (
    DELIVERY_RETRY,
    FINISHED,
    DeliveryState,
    Status,
    deadline,
    is_overdue,
)
from docexchange.envelopes import edxml
from docexchange.errors import Conflict, Gone, NotFound
from docexchange.services.authz import Actor
from docexchange.storage.base import utcnow
from docexchange.storage.models import (
    Delivery,
    Document,
    InboxEntry,
    Unit,
)

logger = logging.getLogger(__name__)


def new_id() -> str:
    return uuid.uuid4().hex


#: Who acts when nobody does (arrivals, replacements), in the audit trail and status history.
SYSTEM = "system"

#: edXML Priority of each urgency, and back.
PRIORITY = {"normal": 0, "khan": 1, "thuong_khan": 2, "hoa_toc": 3}
URGENCY_OF_PRIORITY = {priority: urgency for urgency, priority in PRIORITY.items()}


def organ(unit: Unit) -> edxml.Organ:
    return edxml.Organ(organ_id=unit.code, name=unit.name, in_charge=unit.name)


def organs(session: Session, codes: Sequence[str]) -> tuple[edxml.Organ, ...]:
    """How edXML names units: from the directory, or by code alone when not in it."""
    out = []
    for code in codes:
        unit = session.get(Unit, code)
        out.append(organ(unit) if unit is not None else edxml.Organ(organ_id=code))
    return tuple(out)


def number_of(document: Document) -> str | None:
    return number_text(document.number, document.notation)


@dataclass(frozen=True)
class Source:
    """What a delivery hands over: a document issued here, or a received one forwarded."""

    sha256: str
    issuer_code: str
    #: The issuer is a unit of this server, so its leaders' mandate is checked here too.
    mandate: bool
    document_ref: str
    document_id: str | None
    replaces_id: str | None
    subject: str
    doc_type: str
    number: str | None
    urgency: str
    paper_copy: bool
    forwarded_by: str | None
    #: The sender's processing deadline, if it set one.
    due_date: date | None = None


def source_of(session: Session, delivery: Delivery) -> Source:
    if delivery.document_id is not None:
        document = session.get(Document, delivery.document_id)
        if document is None:  # impossible with the foreign key; never deliver blindly
            raise NotFound("document_not_found", id=delivery.document_id)
        return Source(
            sha256=document.current_sha256,
            issuer_code=document.sender_code,
            mandate=True,
            document_ref=document.document_id or document.id,
            document_id=document.id,
            replaces_id=document.replaces_id,
            subject=document.subject,
            doc_type=document.doc_type,
            number=number_of(document),
            urgency=document.urgency,
            paper_copy=document.paper_copy,
            forwarded_by=None,
            due_date=document.due_date,
        )
    entry = session.get(InboxEntry, delivery.source_entry_id)
    if entry is None:  # impossible with the foreign key
        raise NotFound("delivery_not_found", id=delivery.id)
    return Source(
        sha256=entry.pdf_sha256,
        issuer_code=entry.sender_code,
        mandate=entry.source_document_id is not None,
        document_ref=entry.document_ref,
        document_id=entry.source_document_id,
        replaces_id=None,
        subject=entry.subject,
        doc_type=entry.doc_type,
        number=entry.number,
        urgency=entry.urgency,
        paper_copy=entry.paper_copy,
        forwarded_by=entry.recipient_code,
        due_date=entry.due_date,
    )


@dataclass(frozen=True)
class WorkResult:
    """What one pass of the worker did."""

    delivered: int
    retried: int
    failed: int

    def __add__(self, other: WorkResult) -> WorkResult:
        return WorkResult(
            self.delivered + other.delivered,
            self.retried + other.retried,
            self.failed + other.failed,
        )


def check_not_frozen(entry: InboxEntry) -> None:
    """:raises Gone: ``document_revoked``; :raises Conflict: ``document_replaced``."""
    if entry.revoked_at is not None:
        raise Gone("document_revoked", id=entry.document_ref, reason=entry.revoked_reason or "")
    if entry.replaced_by is not None:
        raise Conflict("document_replaced", id=entry.document_ref)


#: Statuses at which the unit has taken the document in and may pass it on.
FORWARDABLE = frozenset(
    {Status.ACCEPTED.value, Status.ASSIGNED.value, Status.PROCESSING.value, Status.DONE.value}
)


def get_inbox_entry(
    session: Session, entry_id: str, *, actor: Actor, for_update: bool = False
) -> InboxEntry:
    """An entry of the actor's unit's inbox.

    :raises NotFound: ``delivery_not_found`` (also for another unit's entries).
    """
    entry = session.get(InboxEntry, entry_id[:32], with_for_update=for_update)
    if entry is None or entry.recipient_code != actor.unit_code:
        raise NotFound("delivery_not_found", id=entry_id[:40])
    return entry


def due(limit: int, *columns: Any) -> Select[Any]:
    """Deliveries due now, urgent first then oldest: whole rows, or ``columns`` of them."""
    return (
        select(*(columns or (Delivery,)))
        .where(Delivery.state == DeliveryState.PENDING, Delivery.next_attempt_at <= utcnow())
        .order_by(Delivery.urgency_rank, Delivery.created_at)
        .limit(limit)
    )


def back_off(session: Session, ids: Sequence[str], error: str) -> WorkResult:
    """Failed hand-overs: try again later (:data:`DELIVERY_RETRY`), or mark them failed."""
    retried = failed = 0
    now = utcnow()
    for delivery in session.scalars(select(Delivery).where(Delivery.id.in_(ids))):
        if delivery.state != DeliveryState.PENDING:
            continue
        delivery.attempts += 1
        delivery.last_error = error
        later = DELIVERY_RETRY.next_attempt(delivery.attempts, now)
        if later is None:
            delivery.state = DeliveryState.FAILED
            failed += 1
        else:
            delivery.next_attempt_at = later
            retried += 1
    session.commit()
    return WorkResult(0, retried, failed)


def holders(session: Session, entry: InboxEntry, codes: Collection[str]) -> set[str]:
    """Which of ``codes`` hold the document of ``entry`` already, or have it on its way: an
    inbox entry of the same document, or a delivery of it (from its issuer here, or forwarded
    by any unit) not given up or withdrawn."""
    if not codes:
        return set()
    held = set(
        session.scalars(
            select(InboxEntry.recipient_code).where(
                InboxEntry.document_ref == entry.document_ref,
                InboxEntry.recipient_code.in_(codes),
            )
        )
    )
    routes: list[ColumnElement[bool]] = [
        Delivery.source_entry_id.in_(
            select(InboxEntry.id).where(InboxEntry.document_ref == entry.document_ref)
        )
    ]
    if entry.source_document_id is not None:
        routes.append(Delivery.document_id == entry.source_document_id)
    on_the_way = session.scalars(
        select(Delivery.recipient_code).where(
            or_(*routes),
            Delivery.recipient_code.in_(codes),
            Delivery.state.not_in([DeliveryState.FAILED, DeliveryState.REVOKED]),
        )
    )
    return held | set(on_the_way)


def deadline_column() -> ColumnElement[date]:
    """An inbox entry's deadline in SQL: the one set on assigning, else the sender's
    (:func:`docexchange.domain.exchange.deadline`)."""
    return func.coalesce(InboxEntry.handling_due, InboxEntry.due_date)


def not_finished() -> ColumnElement[bool]:
    """An inbox entry whose handling has not ended (SQL)."""
    return InboxEntry.status_code.not_in([s.value for s in FINISHED])


def handling_of(entry: InboxEntry, today: date) -> tuple[date | None, bool]:
    """An entry's deadline, and whether it is overdue on ``today`` (Vietnam calendar day)."""
    due = deadline(entry.handling_due, entry.due_date)
    return due, is_overdue(due, Status(entry.status_code), today)
