"""The delivery worker for units served here: claim due rows, make inbox entries."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from docexchange.domain.exchange import (
    DeliveryState,
    Status,
)
from docexchange.services.container import Services
from docexchange.services.exchange.arrivals import arrive, arrived_again, held_copy, mark_replaced
from docexchange.services.exchange.common import (
    SYSTEM,
    Source,
    WorkResult,
    back_off,
    due,
    source_of,
)
from docexchange.services.exchange.status_outbox import send_statuses
from docexchange.services.exchange.transport import deliver_remote
from docexchange.services.exchange.verdicts import (
    trust_key,
    verdict_for,
    verdict_key,
    verify_in_transaction,
)
from docexchange.services.peers import PeerDirectory
from docexchange.storage.base import utcnow
from docexchange.storage.models import (
    Delivery,
    InboxEntry,
    VerdictCache,
)
from pki.report import ValidationReport

logger = logging.getLogger(__name__)


def _due_sources(session: Session, limit: int, peers: PeerDirectory) -> list[Source]:
    """What deliveries due to units served here hand over (peers verify for themselves)."""
    sources: dict[tuple[str | None, str | None], Source] = {}
    for delivery in session.scalars(due(limit)):
        key = (delivery.document_id, delivery.source_entry_id)
        if key not in sources and peers.for_code(delivery.recipient_code) is None:
            sources[key] = source_of(session, delivery)
    return list(sources.values())


def _arrive(session: Session, delivery: Delivery, source: Source, report: ValidationReport) -> None:
    """Make the recipient's inbox entry (status 01) and report 01 back to the sender.

    A replacement marks the recipient's copy of the document it replaces. A document the
    recipient already holds (it came by another route: sent by its issuer and forwarded by
    a parent, say) makes no second row: its history gains this route.
    """
    now = utcnow()
    held = held_copy(session, delivery.recipient_code, source.document_ref, source.sha256)
    if held is not None and source.replaces_id is None:
        arrived_again(session, held, via=source.forwarded_by or source.issuer_code, actor=SYSTEM)
        delivery.state, delivery.delivered_at = DeliveryState.DELIVERED, now
        delivery.status_code, delivery.status_at = Status.ARRIVED.value, now
        return
    entry = arrive(
        session,
        actor=SYSTEM,
        report=report,
        urgency=source.urgency,
        consignment_id=delivery.consignment_id,
        recipient_code=delivery.recipient_code,
        sender_code=source.issuer_code,
        document_ref=source.document_ref,
        source_document_id=source.document_id,
        forwarded_by=source.forwarded_by,
        subject=source.subject,
        doc_type=source.doc_type,
        number=source.number,
        paper_copy=source.paper_copy,
        pdf_sha256=source.sha256,
        due_date=source.due_date,
    )
    if source.replaces_id is not None:
        mark_replaced(
            session,
            select(InboxEntry).where(
                InboxEntry.recipient_code == entry.recipient_code,
                InboxEntry.source_document_id == source.replaces_id,
            ),
            entry,
        )
    now = entry.received_at
    delivery.state, delivery.delivered_at = DeliveryState.DELIVERED, now
    delivery.status_code, delivery.status_at = Status.ARRIVED.value, now


def deliver_pending(services: Services, *, batch: int = 200) -> WorkResult:
    """One pass of a delivery worker: deliver up to ``batch`` pending deliveries.

    Verdicts are computed before any row is claimed, so no lock is held while a PDF is
    verified; the claimed rows are delivered in one transaction.
    """
    sqlite = services.settings.is_sqlite
    remote = deliver_remote(services, batch) + send_statuses(services, batch)
    with services.sessions() as session:
        for waiting in _due_sources(session, batch, services.peers):
            verdict_for(
                session,
                data=services.blobs.get(waiting.sha256),
                sender_code=waiting.issuer_code,
                services=services,
                mandate=waiting.mandate,
            )
        session.rollback()
        query = due(batch)
        if not sqlite:
            query = query.with_for_update(skip_locked=True)
        claimed = [
            d for d in session.scalars(query) if not services.peers.for_code(d.recipient_code)
        ]
        if not claimed:
            session.rollback()
            return remote
        ids = [d.id for d in claimed]
        try:
            trust = trust_key(services)
            sources: dict[tuple[str | None, str | None], Source] = {}
            for delivery in claimed:
                key = (delivery.document_id, delivery.source_entry_id)
                source = sources.get(key)
                if source is None:
                    source = sources[key] = source_of(session, delivery)
                cached = session.get(
                    VerdictCache,
                    verdict_key(source.sha256, trust, source.issuer_code, source.mandate),
                )
                if cached is None:  # trust changed meanwhile: verify now, under the claim
                    report = verify_in_transaction(
                        session,
                        services.blobs.get(source.sha256),
                        source.issuer_code,
                        services=services,
                        mandate=source.mandate,
                    )
                else:
                    report = ValidationReport.from_dict(cached.report)
                _arrive(session, delivery, source, report)
            session.commit()
            return remote + WorkResult(len(ids), 0, 0)
        except Exception as exc:
            session.rollback()
            logger.exception("delivery batch failed; will retry")
            return remote + back_off(session, ids, repr(exc)[:500])
