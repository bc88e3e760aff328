"""Sending and the outbox: one delivery row per recipient, written with the send."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from docexchange.domain.accounts import Role
from docexchange.domain.documents import (
    DocumentState,
    Secrecy,
)
from docexchange.domain.exchange import (
    DeliveryState,
    urgency_rank,
)
from docexchange.domain.inputs import ListQuery
from docexchange.domain.search import Paged
from docexchange.errors import Conflict, Gone, InvalidInput, NotFound
from docexchange.services import audit, directory
from docexchange.services.authz import Actor, require_role
from docexchange.services.container import Services
from docexchange.services.exchange.common import (
    FORWARDABLE,
    check_not_frozen,
    get_inbox_entry,
    holders,
    new_id,
    number_of,
)
from docexchange.services.exchange.verdicts import verdict_for
from docexchange.services.listing import day_span, page_of, text_matches
from docexchange.storage.base import utcnow
from docexchange.storage.models import (
    Delivery,
    Document,
    InboxEntry,
    Unit,
)

logger = logging.getLogger(__name__)


def send_document(
    session: Session,
    document_id: str,
    *,
    actor: Actor,
    services: Services,
    recipients: Sequence[str] | None = None,
    replaces: str | None = None,
) -> list[Delivery]:
    """Clerk: send an issued document to its recipients (or ``recipients`` given now).

    Selectors are expanded now and the resulting units recorded, one delivery each. Sending
    again answers with the deliveries of the first send and creates nothing. ``replaces``
    names an earlier document of the unit that this one replaces (edXML business type 3):
    each recipient's copy of it is marked replaced when this one arrives.

    :raises Forbidden: ``role_required`` (clerks only) or ``unit_forbidden``.
    :raises NotFound: ``document_not_found``.
    :raises InvalidInput: ``secret_document``, ``no_recipients``, bad selectors,
        ``replaced_document_invalid``.
    :raises Conflict: ``document_not_issued``.
    :raises Gone: ``document_revoked``.

    The document's signatures are verified first (once per file: the worker reuses the
    verdict) and the report kept with it: the fully-electronic ratio counts a sent document
    only with a valid personal and organisation signature. The verifier is required: a send
    without a verdict would make documents the ratio never counts.
    """
    require_role(actor, Role.CLERK)
    _verify_for_sending(session, document_id[:32], actor=actor, services=services)
    document = session.get(Document, document_id[:32], with_for_update=True)
    if document is None or document.sender_code != actor.unit_code:
        raise NotFound("document_not_found", id=document_id[:40])
    if document.secrecy != Secrecy.NONE.value:
        raise InvalidInput("secret_document")
    if document.state != DocumentState.ISSUED:
        raise Conflict("document_not_issued", id=document.id)
    if document.revoked_at is not None:
        raise Gone("document_revoked", id=document.id, reason=document.revoked_reason or "")
    existing = list(
        session.scalars(
            select(Delivery).where(Delivery.document_id == document.id).order_by(Delivery.id)
        )
    )
    if existing:
        return existing
    if replaces:
        earlier = session.get(Document, replaces[:32])
        if (
            earlier is None
            or earlier.id == document.id
            or earlier.sender_code != document.sender_code
            or earlier.sent_at is None
            or earlier.revoked_at is not None
        ):
            raise InvalidInput("replaced_document_invalid", id=replaces[:40])
        document.replaces_id = earlier.id
    selectors = list(recipients) if recipients is not None else list(document.recipients or [])
    if not selectors:
        raise InvalidInput("no_recipients")
    units = [
        u
        for u in directory.resolve_recipients(session, selectors)
        if u.code != document.sender_code
    ]
    if not units:
        raise InvalidInput("no_recipients")
    rows = _queue(
        session,
        units,
        from_code=document.sender_code,
        urgency=document.urgency,
        document_id=document.id,
    )
    document.sent_at, document.sent_by = rows[0].created_at, actor.username
    audit.record(
        session,
        actor=actor.username,
        action="document.send",
        target=document.id,
        details={
            "recipients": len(rows),
            "selectors": [str(s)[:80] for s in selectors][:50],
            "replaces": document.replaces_id,
        },
    )
    session.commit()
    return sorted(rows, key=lambda r: r.id)


def _verify_for_sending(
    session: Session, document_id: str, *, actor: Actor, services: Services
) -> None:
    """Keep a current verification report with an issued document of the actor's unit."""
    document = session.get(Document, document_id)
    if (
        document is None
        or document.sender_code != actor.unit_code
        or document.state != DocumentState.ISSUED
        or (
            document.verified_sha256 == document.current_sha256
            and document.verified_valid is not None
        )
    ):
        return
    sha256, sender = document.current_sha256, document.sender_code
    data = services.blobs.get(sha256)
    session.rollback()  # nothing held while the file is verified
    report = verdict_for(session, data=data, sender_code=sender, services=services)
    session.execute(
        update(Document)
        .where(Document.id == document_id, Document.current_sha256 == sha256)
        .values(
            verification=report.as_dict(),
            verified_sha256=sha256,
            verified_at=utcnow(),
            verified_valid=report.valid,
        )
    )
    session.commit()


def _queue(
    session: Session,
    units: Sequence[Unit],
    *,
    from_code: str,
    urgency: str,
    document_id: str | None = None,
    source_entry_id: str | None = None,
) -> list[Delivery]:
    """One pending delivery per unit, each with its own consignment id (the outbox)."""
    now = utcnow()
    rows = [
        Delivery(
            id=new_id(),
            from_code=from_code,
            document_id=document_id,
            source_entry_id=source_entry_id,
            recipient_code=unit.code,
            consignment_id=str(uuid.uuid4()),
            urgency_rank=urgency_rank(urgency),
            state=DeliveryState.PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        for unit in units
    ]
    session.add_all(rows)
    return rows


@dataclass(frozen=True)
class Forwarded:
    """What a forward did: the entry's forward deliveries, and the units left out because
    they have the document already (directly or by another route)."""

    deliveries: list[Delivery]
    already_received: list[Unit]


def forward_entry(
    session: Session, entry_id: str, *, actor: Actor, recipients: Sequence[str]
) -> Forwarded:
    """Clerk: forward a received document to units under the actor's own (a district to its
    communes). The signed file travels unchanged and is verified again on arrival.

    A unit that already has the document, or has it on its way (from its issuer, or by any
    unit's forward), gets nothing again: it is listed in ``already_received``.

    :raises NotFound: ``delivery_not_found``.
    :raises Conflict: ``forward_not_accepted`` (accept it first).
    :raises Gone: ``document_revoked``; :raises Conflict: ``document_replaced``.
    :raises InvalidInput: ``no_recipients``, ``forward_outside_subtree``, bad selectors.
    """
    require_role(actor, Role.CLERK)
    entry = get_inbox_entry(session, entry_id, actor=actor, for_update=True)
    check_not_frozen(entry)
    if entry.status_code not in FORWARDABLE:
        raise Conflict("forward_not_accepted")
    if not recipients:
        raise InvalidInput("no_recipients")
    below = set(directory.subtree_codes(session, entry.recipient_code)) - {entry.recipient_code}
    units = directory.resolve_recipients(session, recipients)
    for unit in units:
        if unit.code not in below:
            raise InvalidInput("forward_outside_subtree", code=unit.code)
    done = set(
        session.scalars(select(Delivery.recipient_code).where(Delivery.source_entry_id == entry.id))
    )
    held = holders(session, entry, [u.code for u in units if u.code not in done])
    rows = _queue(
        session,
        [u for u in units if u.code not in done and u.code not in held],
        from_code=entry.recipient_code,
        urgency=entry.urgency,
        source_entry_id=entry.id,
    )
    audit.record(
        session,
        actor=actor.username,
        action="delivery.forward",
        target=entry.id,
        details={
            "recipients": [r.recipient_code for r in rows][:50],
            "count": len(rows),
            "already_received": sorted(held)[:50],
        },
    )
    session.commit()
    deliveries = session.scalars(
        select(Delivery)
        .where(Delivery.source_entry_id == entry.id)
        .order_by(Delivery.recipient_code)
    )
    return Forwarded(list(deliveries), [u for u in units if u.code in held])


def deliveries_of(session: Session, document_id: str) -> Sequence[Delivery]:
    """The deliveries of a sent document (none before it is sent), by recipient."""
    return session.scalars(
        select(Delivery)
        .where(Delivery.document_id == document_id)
        .order_by(Delivery.recipient_code)
    ).all()


@dataclass(frozen=True)
class OutboxItem:
    """One recipient of something the unit sent (its own document, or one it forwarded)."""

    delivery: Delivery
    subject: str
    number: str | None
    document_ref: str | None
    urgency: str
    #: The sender's document row (its own documents), or the inbox entry it forwarded.
    document_id: str | None
    forwarded_entry_id: str | None
    #: The report on the file that went (kept with the document, or with the entry).
    verification: dict[str, Any] | None = None


def outbox_recipients(session: Session, *, actor: Actor) -> list[tuple[str, str]]:
    """Every unit the actor's unit sent or forwarded something to: (code, name), by name."""
    codes = session.scalars(
        select(Delivery.recipient_code).where(Delivery.from_code == actor.unit_code).distinct()
    )
    return directory.named(session, set(codes))


def list_outbox(session: Session, *, actor: Actor, filters: ListQuery) -> Paged[OutboxItem]:
    """One page of what the actor's unit sent or forwarded, newest first: every
    recipient's delivery and status, as ``filters`` narrow it (words, the day it was sent,
    recipient, status, type)."""
    query = (
        select(Delivery, Document, InboxEntry)
        .outerjoin(Document, Document.id == Delivery.document_id)
        .outerjoin(InboxEntry, InboxEntry.id == Delivery.source_entry_id)
        .where(
            Delivery.from_code == actor.unit_code,
            *text_matches(
                session, filters.q, func.coalesce(Document.search_text, InboxEntry.search_text)
            ),
            *day_span(Delivery.created_at, filters.first, filters.last),
        )
    )
    if filters.recipient is not None:
        query = query.where(Delivery.recipient_code == filters.recipient)
    if filters.status is not None:
        query = query.where(Delivery.status_code == filters.status.value)
    if filters.doc_type is not None:
        query = query.where(
            func.coalesce(Document.doc_type, InboxEntry.doc_type) == filters.doc_type
        )
    found = page_of(
        session,
        query.order_by(Delivery.created_at.desc(), Delivery.recipient_code),
        filters.paging,
    )
    rows = found.items
    items = []
    for delivery, document, entry in rows:
        if document is not None:
            items.append(
                OutboxItem(
                    delivery=delivery,
                    subject=document.subject,
                    number=number_of(document),
                    document_ref=document.document_id,
                    urgency=document.urgency,
                    document_id=document.id,
                    forwarded_entry_id=None,
                    verification=document.verification
                    if document.verified_sha256 == document.current_sha256
                    else None,
                )
            )
        elif entry is not None:
            items.append(
                OutboxItem(
                    delivery=delivery,
                    subject=entry.subject,
                    number=entry.number,
                    document_ref=entry.document_ref,
                    urgency=entry.urgency,
                    document_id=None,
                    forwarded_entry_id=entry.id,
                    verification=entry.verification,
                )
            )
    return Paged(items, found.total, found.page)
