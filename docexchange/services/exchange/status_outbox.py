"""The status outbox: statuses and revocation notices for peers, sent in order."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from docexchange.domain.exchange import (
    STATUS_RETRY,
    OutboxState,
    Status,
)
from docexchange.domain.timeutil import now_vn
from docexchange.envelopes import edxml
from docexchange.services.container import Services
from docexchange.services.exchange.common import WorkResult, organ
from docexchange.services.exchange.transport import post
from docexchange.storage.base import utcnow
from docexchange.storage.models import (
    Delivery,
    InboxEntry,
    StatusOutbox,
    Unit,
)

logger = logging.getLogger(__name__)


def _outbox_message(session: Session, row: StatusOutbox) -> bytes | None:
    """What a status-outbox row sends: its prepared message, or a status built now."""
    if row.message is not None:
        return row.message
    entry = session.get(InboxEntry, row.inbox_entry_id) if row.inbox_entry_id else None
    if entry is None:
        return None
    recipient = session.get(Unit, entry.recipient_code)
    return edxml.build_status(
        edxml.StatusMessage(
            sender=organ(recipient) if recipient else edxml.Organ(entry.recipient_code),
            response_organ_id=entry.sender_code,
            response_code=entry.number or "",
            response_date=None,
            response_document_id=entry.document_ref,
            status_code=row.code,
            description=row.description,
            timestamp=now_vn().replace(tzinfo=None),
            staff=row.staff,
        )
    )


def send_statuses(services: Services, limit: int) -> WorkResult:
    """Report pending status changes of documents that came from peers, in order.

    Per consignment the oldest pending status goes first; a later one waits until it has
    gone, so the sender never sees 04 before 03. No transaction is held during the call.
    """
    if not services.peers.peers:
        return WorkResult(0, 0, 0)
    sent = retried = 0
    blocked: set[str] = set()
    now = utcnow()
    with services.sessions() as session:
        rows = session.scalars(
            select(StatusOutbox)
            .where(StatusOutbox.state == OutboxState.PENDING)
            .order_by(StatusOutbox.id)
            .limit(limit * 4)
        ).all()
        work = []
        for row in rows:
            if row.consignment_id in blocked or row.next_attempt_at > now:
                blocked.add(row.consignment_id)
                continue
            blocked.add(row.consignment_id)  # one per consignment and pass
            work.append((row.id, row.peer, row.consignment_id, _outbox_message(session, row)))
        session.rollback()  # nothing held while peers answer
        for row_id, peer_name, consignment, message in work:
            peer = services.peers.by_name(peer_name)
            error = None
            try:
                if peer is None or message is None:
                    raise RuntimeError(f"peer {peer_name} is no longer configured")
                post(peer, message, consignment, timeout=services.settings.peer_timeout_seconds)
            except Exception as exc:
                logger.warning("status to peer %s failed: %s", peer_name, exc)
                error = repr(exc)[:500]
            pending = session.get(StatusOutbox, row_id, with_for_update=True)
            if pending is not None and pending.state == OutboxState.PENDING:
                if error is None:
                    pending.state = OutboxState.SENT
                    sent += 1
                else:
                    pending.attempts += 1
                    pending.last_error = error
                    later = STATUS_RETRY.next_attempt(pending.attempts, utcnow())
                    pending.next_attempt_at = later or utcnow()
                    retried += 1
            session.commit()
    return WorkResult(sent, retried, 0)


def report_back(
    session: Session,
    entry: InboxEntry,
    code: Status,
    now: datetime,
    *,
    note: str | None = None,
    actor: str = "",
) -> None:
    """Tell the sender: on this server its delivery row; a peer gets a status message."""
    if entry.source_peer:
        session.add(
            StatusOutbox(
                peer=entry.source_peer,
                consignment_id=entry.consignment_id,
                inbox_entry_id=entry.id,
                code=code.value,
                description=note or "",
                staff=actor,
                state=OutboxState.PENDING,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
        return
    delivery = session.scalar(
        select(Delivery).where(Delivery.consignment_id == entry.consignment_id).with_for_update()
    )
    if delivery is not None:
        delivery.status_code, delivery.status_at = code.value, now
