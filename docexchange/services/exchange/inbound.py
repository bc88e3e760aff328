"""Inbound edXML from peers: documents, statuses, take-back requests, revocations."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from docexchange.domain.documents import (
    DOC_TYPES,
    number_text,
)
from docexchange.domain.exchange import (
    SENDER_MOVES,
    Status,
    check_move,
    follows,
    parse_status,
)
from docexchange.envelopes import edxml
from docexchange.errors import Conflict, Forbidden, InvalidInput, NotFound, invalid_field
from docexchange.services import audit
from docexchange.services.container import Services
from docexchange.services.exchange.arrivals import arrive, arrived_again, held_copy, mark_replaced
from docexchange.services.exchange.common import URGENCY_OF_PRIORITY, check_not_frozen
from docexchange.services.exchange.revocation import freeze
from docexchange.services.exchange.verdicts import verdict_for
from docexchange.services.peers import Peer
from docexchange.storage.base import utcnow
from docexchange.storage.models import (
    Delivery,
    InboxEntry,
    RevokedConsignment,
    StatusEvent,
    Unit,
)

logger = logging.getLogger(__name__)


def _served_here(session: Session, code: str, *, services: Services) -> bool:
    """Whether ``code`` is a unit of this server (in the directory, no peer serves it)."""
    return services.peers.for_code(code) is None and session.get(Unit, code) is not None


def _check_sender(
    session: Session, message: edxml.DocumentPackage, peer: Peer, *, services: Services
) -> None:
    """A peer speaks only for the units it serves: the issuer of what it sends or, for a
    document it forwards, the unit that forwarded it last (the trace's last hop); and never
    for a unit of this server.

    :raises Forbidden: ``peer_not_authorised_for_sender``.
    """
    issuer = message.sender.organ_id
    last_hop = message.trace[-1][0] if message.trace else ""
    speaker = last_hop if last_hop not in ("", issuer) else issuer
    ours = _served_here(session, issuer, services=services)
    if ours or not peer.serves_code(speaker):
        refused = issuer if ours else speaker
        raise Forbidden("peer_not_authorised_for_sender", code=refused[:20], peer=peer.name)


def receive_edxml(
    session: Session, data: bytes, *, consignment_id: str, peer: Peer, services: Services
) -> dict[str, Any]:
    """A peer delivers a document (new, or replacing an earlier one), withdraws one, or
    reports a status of one we sent.

    Documents: the PDF is verified here, the entry made with status 01 (answered as the
    receipt); a consignment seen before gets its first receipt and creates nothing.
    A revocation (``X-Consignment-Id`` = the delivery withdrawn) freezes the entry and
    whatever was forwarded from it; one that comes before its document is remembered, and
    the document, should it come later, creates nothing.

    :raises InvalidInput: ``edxml_refused`` / ``edxml_too_large``, ``recipient_not_here``,
        ``edxml_unsupported``.
    :raises NotFound: ``delivery_not_found`` (a status about nothing we sent to that peer).
    :raises Conflict: ``status_move_not_allowed`` (a status going backwards).
    """
    consignment = consignment_id.strip()[:36]
    if not consignment:
        raise invalid_field("X-Consignment-Id", "reason_non_empty")
    message = edxml.parse_package(data)
    problems = edxml.validate(data)
    if problems:
        raise InvalidInput("edxml_invalid", reason=problems[0][:200])
    if isinstance(message, edxml.StatusMessage):
        return _receive_status(session, message, consignment, peer, services=services)
    _check_sender(session, message, peer, services=services)
    if message.business.doc_type == 1:
        return _receive_revocation(session, message, consignment, peer, services=services)
    existing = session.scalar(select(InboxEntry).where(InboxEntry.consignment_id == consignment))
    if existing is not None:
        return {"status_code": Status.ARRIVED.value, "delivery_id": existing.id, "repeat": True}
    withdrawn = session.get(RevokedConsignment, consignment)
    if withdrawn is not None and withdrawn.source_peer == peer.name:
        return {"status_code": None, "delivery_id": None, "repeat": False, "revoked": True}
    if message.business.doc_type not in (0, 3):
        raise InvalidInput(
            "edxml_unsupported", what=f"BussinessDocType {message.business.doc_type}"
        )
    here = [
        o.organ_id
        for o in message.recipients
        if _served_here(session, o.organ_id, services=services)
    ]
    pdfs = [a for a in message.attachments if a.content_type == "application/pdf"]
    if len(here) != 1:
        raise InvalidInput(
            "recipient_not_here", codes=", ".join(o.organ_id for o in message.recipients)[:200]
        )
    if not pdfs:
        raise InvalidInput("edxml_unsupported", what="no PDF attachment")
    pdf = pdfs[0].data
    last_hop = message.trace[-1][0] if message.trace else ""
    replayed = held_copy(
        session, here[0], message.document_id[:80], hashlib.sha256(pdf).hexdigest()
    )
    if replayed is not None:
        # The same document again under another consignment id: by another route, or the
        # same one retried; either way one inbox row, the route in its history.
        arrived_again(
            session, replayed, via=last_hop or message.sender.organ_id, actor=f"peer:{peer.name}"
        )
        session.commit()
        return {"status_code": Status.ARRIVED.value, "delivery_id": replayed.id, "repeat": True}
    digest = services.blobs.put(pdf)
    report = verdict_for(
        session, data=pdf, sender_code=message.sender.organ_id, services=services, mandate=False
    )
    entry = arrive(
        session,
        actor=f"peer:{peer.name}",
        report=report,
        urgency=URGENCY_OF_PRIORITY.get(message.priority, "normal"),
        consignment_id=consignment,
        recipient_code=here[0],
        sender_code=message.sender.organ_id[:13],
        document_ref=message.document_id[:80],
        source_peer=peer.name,
        forwarded_by=last_hop[:13] if last_hop not in ("", message.sender.organ_id) else None,
        subject=message.subject[:500],
        doc_type=next((k for k, v in DOC_TYPES.items() if v == message.type_name), "CV"),
        number=(number_text(message.code_number, message.code_notation) or "")[:40] or None,
        paper_copy=message.business.paper,
        pdf_sha256=digest,
        due_date=message.due_date,
    )
    if message.business.doc_type == 3:
        replaced = [
            ref[:80]
            for ref, organs in message.business.replaced
            if not organs or entry.recipient_code in organs
        ]
        mark_replaced(
            session,
            select(InboxEntry).where(
                InboxEntry.recipient_code == entry.recipient_code,
                InboxEntry.source_peer == peer.name,
                InboxEntry.document_ref.in_(replaced),
            ),
            entry,
        )
    try:
        session.commit()
    except IntegrityError:  # the same consignment, delivered twice at once: the first wins
        session.rollback()
        first = session.scalar(select(InboxEntry).where(InboxEntry.consignment_id == consignment))
        if first is None:
            raise
        return {"status_code": Status.ARRIVED.value, "delivery_id": first.id, "repeat": True}
    return {"status_code": Status.ARRIVED.value, "delivery_id": entry.id, "repeat": False}


def _receive_status(
    session: Session,
    message: edxml.StatusMessage,
    consignment: str,
    peer: Peer,
    *,
    services: Services,
) -> dict[str, Any]:
    status = parse_status(message.status_code)
    delivery = session.scalar(
        select(Delivery).where(Delivery.consignment_id == consignment).with_for_update()
    )
    if delivery is None and status in SENDER_MOVES:  # the sender asks for its document back
        return _receive_request(session, message, status, consignment, peer)
    if delivery is None or services.peers.for_code(delivery.recipient_code) != peer:
        raise NotFound("delivery_not_found", id=consignment)
    current = Status(delivery.status_code) if delivery.status_code else None
    if not follows(current, status):
        raise Conflict("status_move_not_allowed", current=current or "", new=status.value)
    delivery.status_code, delivery.status_at = status.value, utcnow()
    audit.record(
        session,
        actor=f"peer:{peer.name}",
        action="delivery.status",
        target=delivery.id,
        details={"code": status.value, "description": message.description[:200]},
    )
    session.commit()
    return {"status_code": status.value}


def _receive_request(
    session: Session,
    message: edxml.StatusMessage,
    status: Status,
    consignment: str,
    peer: Peer,
) -> dict[str, Any]:
    entry = session.scalar(
        select(InboxEntry).where(InboxEntry.consignment_id == consignment).with_for_update()
    )
    if entry is None or entry.source_peer != peer.name:
        raise NotFound("delivery_not_found", id=consignment)
    check_not_frozen(entry)
    current = Status(entry.status_code)
    entry.status_code = check_move(current, status).value
    entry.status_before_take_back = current.value
    note = message.description.strip()[:1000] or None
    actor = f"peer:{peer.name}"
    session.add(
        StatusEvent(
            inbox_entry_id=entry.id, code=status.value, reason=note, actor=actor, at=utcnow()
        )
    )
    audit.record(
        session,
        actor=actor,
        action="delivery.status",
        target=entry.id,
        details={"code": status.value, "reason": note},
    )
    session.commit()
    return {"status_code": status.value, "delivery_id": entry.id}


def _receive_revocation(
    session: Session,
    message: edxml.DocumentPackage,
    consignment: str,
    peer: Peer,
    *,
    services: Services,
) -> dict[str, Any]:
    reason = message.business.reason.strip()[:1000] or "—"
    entry = session.scalar(
        select(InboxEntry).where(InboxEntry.consignment_id == consignment).with_for_update()
    )
    if entry is not None and entry.source_peer != peer.name:
        raise NotFound("delivery_not_found", id=consignment)
    now = utcnow()
    if session.get(RevokedConsignment, consignment) is None:
        session.add(
            RevokedConsignment(
                consignment_id=consignment, source_peer=peer.name, reason=reason, revoked_at=now
            )
        )
    if entry is not None and entry.revoked_at is None:
        freeze(session, entry, reason, actor=f"peer:{peer.name}", now=now, services=services)
    try:
        session.commit()
    except IntegrityError:  # the same notice twice at once: the first did it
        session.rollback()
    return {"revoked": True, "delivery_id": entry.id if entry is not None else None}
