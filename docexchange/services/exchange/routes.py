"""Route administration: each route's queue, failed deliveries, retry."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from docexchange.domain.accounts import Role
from docexchange.domain.exchange import DeliveryState, OutboxState
from docexchange.errors import Conflict, NotFound
from docexchange.services import audit
from docexchange.services.authz import Actor, require_role
from docexchange.services.peers import PeerDirectory
from docexchange.storage.base import utcnow
from docexchange.storage.models import (
    Delivery,
    StatusOutbox,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Route:
    """Where deliveries go (this server, or one peer) and how they are doing."""

    name: str  # "" for this server
    url: str
    serves: tuple[str, ...]
    pending: int
    failed: int
    statuses_pending: int
    last_error: str | None


def exchange_overview(
    session: Session, peers: PeerDirectory, *, actor: Actor
) -> tuple[list[Route], Sequence[Delivery]]:
    """Admins and auditors: each route's queue (this server, each peer) and the failed
    deliveries, newest first (an admin may queue them again)."""
    require_role(actor, Role.ADMIN, Role.AUDITOR)
    counts: dict[str, dict[DeliveryState, int]] = {}
    for code, state, count in session.execute(
        select(Delivery.recipient_code, Delivery.state, func.count())
        .where(Delivery.state.in_((DeliveryState.PENDING, DeliveryState.FAILED)))
        .group_by(Delivery.recipient_code, Delivery.state)
    ):
        peer = peers.for_code(code)
        queue = counts.setdefault(peer.name if peer else "", {})
        queue[state] = queue.get(state, 0) + count
    statuses = dict(
        session.execute(
            select(StatusOutbox.peer, func.count())
            .where(StatusOutbox.state == OutboxState.PENDING)
            .group_by(StatusOutbox.peer)
        ).all()
    )
    failed = session.scalars(
        select(Delivery)
        .where(Delivery.state == DeliveryState.FAILED)
        .order_by(Delivery.created_at.desc())
        .limit(200)
    ).all()
    last_errors: dict[str, str | None] = {}
    for delivery in failed:
        peer = peers.for_code(delivery.recipient_code)
        last_errors.setdefault(peer.name if peer else "", delivery.last_error)

    def route(name: str, url: str = "", serves: tuple[str, ...] = ()) -> Route:
        queued = counts.get(name, {})
        return Route(
            name=name,
            url=url,
            serves=serves,
            pending=queued.get(DeliveryState.PENDING, 0),
            failed=queued.get(DeliveryState.FAILED, 0),
            statuses_pending=int(statuses.get(name, 0)),
            last_error=last_errors.get(name),
        )

    return [route(""), *(route(p.name, p.url, p.serves) for p in peers.peers)], failed


def retry_failed(session: Session, delivery_id: str, *, actor: Actor) -> Delivery:
    """Admin: put a failed delivery back in the queue (same consignment id)."""
    require_role(actor, Role.ADMIN)
    delivery = session.get(Delivery, delivery_id[:32], with_for_update=True)
    if delivery is None:
        raise NotFound("delivery_not_found", id=delivery_id[:40])
    if delivery.state != DeliveryState.FAILED:
        raise Conflict("delivery_not_failed", id=delivery.id)
    delivery.state, delivery.attempts, delivery.next_attempt_at = DeliveryState.PENDING, 0, utcnow()
    audit.record(session, actor=actor.username, action="delivery.retry", target=delivery.id)
    session.commit()
    return delivery
