"""Revocation: a sent document withdrawn everywhere it went (edXML business type 1)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from docexchange.domain.accounts import Role
from docexchange.domain.exchange import DeliveryState, OutboxState
from docexchange.envelopes import edxml
from docexchange.errors import Conflict, NotFound, invalid_field
from docexchange.services import audit
from docexchange.services.authz import Actor, require_role
from docexchange.services.container import Services
from docexchange.services.exchange.packages import delivery_package
from docexchange.storage.base import utcnow
from docexchange.storage.models import (
    Delivery,
    Document,
    InboxEntry,
    StatusOutbox,
)

logger = logging.getLogger(__name__)


def revoke_document(
    session: Session, document_id: str, *, actor: Actor, reason: str | None, services: Services
) -> Document:
    """Clerk: withdraw a sent document (edXML business type 1, ND 30 Điều 18.4.b).

    The sender's copy is frozen and never sent again; deliveries not yet made are stopped;
    every recipient's copy here is frozen, its file no longer served (metadata and trail
    kept), and so is whatever the recipients forwarded from it; peers get a revocation
    notice through the status outbox. Revoking again changes nothing.

    :raises NotFound: ``document_not_found``.
    :raises InvalidInput: ``invalid_field`` (a reason is required).
    :raises Conflict: ``document_not_sent``.
    """
    require_role(actor, Role.CLERK)
    document = session.get(Document, document_id[:32], with_for_update=True)
    if document is None or document.sender_code != actor.unit_code:
        raise NotFound("document_not_found", id=document_id[:40])
    note = reason.strip()[:1000] if reason and reason.strip() else None
    if note is None:
        raise invalid_field("reason", "reason_required_for_revocation")
    if document.sent_at is None:
        raise Conflict("document_not_sent", id=document.id)
    if document.revoked_at is not None:
        return document
    now = utcnow()
    document.revoked_at, document.revoked_by, document.revoked_reason = now, actor.username, note
    deliveries = session.scalars(
        select(Delivery).where(Delivery.document_id == document.id).with_for_update()
    ).all()
    _revoke_deliveries(session, deliveries, note, actor=actor.username, now=now, services=services)
    audit.record(
        session,
        actor=actor.username,
        action="document.revoke",
        target=document.id,
        details={"reason": note[:200], "deliveries": len(deliveries)},
    )
    session.commit()
    return document


def _revoke_deliveries(
    session: Session,
    deliveries: Sequence[Delivery],
    reason: str,
    *,
    actor: str,
    now: datetime,
    services: Services,
) -> None:
    """Stop what has not gone, freeze what arrived here, tell peers about the rest."""
    for delivery in deliveries:
        if delivery.state == DeliveryState.REVOKED:
            continue
        delivery.state = DeliveryState.REVOKED
        peer = services.peers.for_code(delivery.recipient_code)
        if peer is not None:  # told even if never delivered: a post may be on its way
            notice = delivery_package(
                session,
                delivery.id,
                services=services,
                business=edxml.Business(doc_type=1, reason=reason, staff=actor),
            )
            session.add(
                StatusOutbox(
                    peer=peer.name,
                    consignment_id=delivery.consignment_id,
                    inbox_entry_id=None,
                    code="",
                    message=notice,
                    state=OutboxState.PENDING,
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
            continue
        entry = session.scalar(
            select(InboxEntry)
            .where(InboxEntry.consignment_id == delivery.consignment_id)
            .with_for_update()
        )
        if entry is not None and entry.revoked_at is None:
            freeze(session, entry, reason, actor=actor, now=now, services=services)


def freeze(
    session: Session,
    entry: InboxEntry,
    reason: str,
    *,
    actor: str,
    now: datetime,
    services: Services,
) -> None:
    """A recipient's copy withdrawn: no more moves, file not served; forwards follow."""
    entry.revoked_at, entry.revoked_reason = now, reason
    audit.record(
        session,
        actor=actor,
        action="delivery.revoked",
        target=entry.id,
        details={"reason": reason[:200], "document": entry.document_ref},
    )
    forwarded = session.scalars(
        select(Delivery).where(Delivery.source_entry_id == entry.id).with_for_update()
    ).all()
    _revoke_deliveries(session, forwarded, reason, actor=actor, now=now, services=services)
