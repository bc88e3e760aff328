"""Arrivals: the one way an inbox entry is made (status 01), and replacements it marks."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from docexchange.domain.exchange import Status, urgency_rank
from docexchange.services import audit
from docexchange.services.exchange.common import SYSTEM, new_id
from docexchange.storage.base import utcnow
from docexchange.storage.models import InboxEntry, StatusEvent
from pki.report import ValidationReport


def arrive(
    session: Session,
    *,
    actor: str,
    report: ValidationReport,
    urgency: str,
    **fields: Any,
) -> InboxEntry:
    """A new inbox entry at status 01 with its verification ``report``, and its first event.

    ``fields`` are the entry's columns (consignment, recipient, sender, what arrived).
    """
    now = utcnow()
    entry = InboxEntry(
        id=new_id(),
        urgency=urgency,
        urgency_rank=urgency_rank(urgency),
        verification=report.as_dict(),
        verified_valid=report.valid,
        status_code=Status.ARRIVED.value,
        received_at=now,
        **fields,
    )
    session.add(entry)
    session.add(
        StatusEvent(
            inbox_entry_id=entry.id,
            code=Status.ARRIVED.value,
            actor=actor,
            at=now,
            via=entry.forwarded_by or entry.sender_code,
        )
    )
    return entry


def held_copy(
    session: Session, recipient: str, document_ref: str, sha256: str
) -> InboxEntry | None:
    """The recipient's entry of this very document (same identifier, same file), if it has
    one that was not withdrawn: what a second route brings again."""
    return session.scalar(
        select(InboxEntry)
        .where(
            InboxEntry.recipient_code == recipient,
            InboxEntry.document_ref == document_ref,
            InboxEntry.pdf_sha256 == sha256,
            InboxEntry.revoked_at.is_(None),
        )
        .order_by(InboxEntry.received_at)
        .limit(1)
    )


def arrived_again(session: Session, entry: InboxEntry, *, via: str, actor: str) -> None:
    """The document of ``entry`` came once more, through ``via``: one inbox row still, the
    route added to its history (an arrival event, the status unchanged) and audited."""
    session.add(
        StatusEvent(
            inbox_entry_id=entry.id,
            code=Status.ARRIVED.value,
            actor=actor,
            at=utcnow(),
            via=via[:13],
        )
    )
    audit.record(
        session,
        actor=actor,
        action="delivery.arrived_again",
        target=entry.id,
        details={"via": via[:13], "document": entry.document_ref},
    )


def mark_replaced(session: Session, earlier: Select[InboxEntry], entry: InboxEntry) -> None:
    """Mark the entries ``earlier`` selects (not yet replaced) as replaced by ``entry``."""
    for old in session.scalars(earlier.where(InboxEntry.replaced_by.is_(None))):
        if old.id != entry.id:
            old.replaced_by = entry.id
            audit.record(
                session,
                actor=SYSTEM,
                action="delivery.replaced",
                target=old.id,
                details={"by": entry.id, "document": entry.document_ref},
            )
