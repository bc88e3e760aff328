"""Append-only, hash-chained audit log: record events and verify the chain."""

from __future__ import annotations

import logging
from collections.abc import Generator, Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from docexchange.domain.audit import GENESIS_HASH, ChainBreak, event_hash, find_break
from docexchange.storage.base import utcnow
from docexchange.storage.models import AuditEvent, AuditHead

__all__ = ["history", "record", "verify_chain"]

logger = logging.getLogger(__name__)

_HEAD_ID = 1


def ensure_head(session: Session) -> None:
    """Create the chain's head row if the database has none (fresh schema)."""
    if session.get(AuditHead, _HEAD_ID) is None:
        session.add(AuditHead(id=_HEAD_ID, seq=0, hash=GENESIS_HASH))
        session.flush()


def record(
    session: Session,
    *,
    actor: str | None,
    action: str,
    target: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction (it commits with the change it records).

    The head row is updated first, which takes its row lock on PostgreSQL, so concurrent
    appends are serialised and the sequence stays gapless.

    :param details: JSON-safe values; never secrets.
    """
    bumped = session.execute(
        update(AuditHead)
        .where(AuditHead.id == _HEAD_ID)
        .values(seq=AuditHead.seq + 1)
        .returning(AuditHead.seq, AuditHead.hash)
    ).one_or_none()
    if bumped is None:
        ensure_head(session)
        return record(session, actor=actor, action=action, target=target, details=details)
    seq, prev_hash = bumped
    occurred_at = utcnow()
    payload = dict(details or {})
    digest = event_hash(
        seq=seq,
        occurred_at=occurred_at,
        actor=actor,
        action=action,
        target=target,
        details=payload,
        prev_hash=prev_hash,
    )
    event = AuditEvent(
        seq=seq,
        occurred_at=occurred_at,
        actor=actor,
        action=action,
        target=target,
        details=payload,
        prev_hash=prev_hash,
        hash=digest,
    )
    session.add(event)
    session.execute(update(AuditHead).where(AuditHead.id == _HEAD_ID).values(hash=digest))
    logger.info("audit %s %s by %s", action, target or "-", actor or "-")
    return event


def history(session: Session, target: str, *, limit: int = 200) -> Sequence[AuditEvent]:
    """The events about one object (a document, a delivery), oldest first."""
    return session.scalars(
        select(AuditEvent).where(AuditEvent.target == target).order_by(AuditEvent.seq).limit(limit)
    ).all()


def _stored_events(session: Session) -> Generator[AuditEvent, None, None]:
    result = session.execute(
        select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=2000)
    )
    try:
        yield from result.scalars()
    finally:
        # A break found early leaves rows unread: close the server-side cursor.
        result.close()


def verify_chain(session: Session) -> tuple[int, ChainBreak | None]:
    """Check the whole log.

    :returns: the number of events recorded as appended and the first break, if any.
    """
    head = session.get(AuditHead, _HEAD_ID)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    events = _stored_events(session)
    try:
        return head_seq, find_break(events, head_seq=head_seq, head_hash=head_hash)
    finally:
        events.close()
