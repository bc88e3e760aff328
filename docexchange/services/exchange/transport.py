"""Peer transport: hand deliveries for units a peer serves to that peer over HTTPS."""

from __future__ import annotations

import logging
from typing import Any

import requests

from docexchange.domain.exchange import (
    DeliveryState,
    Status,
)
from docexchange.services.container import Services
from docexchange.services.exchange.common import WorkResult, back_off, due
from docexchange.services.exchange.packages import delivery_package
from docexchange.services.peers import Peer
from docexchange.storage.base import utcnow
from docexchange.storage.models import (
    Delivery,
)

logger = logging.getLogger(__name__)


def post(peer: Peer, data: bytes, consignment_id: str, *, timeout: float) -> dict[str, Any]:
    """POST an edXML message to a peer; its JSON answer, or an exception."""
    response = requests.post(
        f"{peer.url}/api/v1/exchange/edxml",
        data=data,
        headers={
            "Authorization": f"Bearer {peer.outbound_token}",
            "Content-Type": "application/xml",
            "X-Consignment-Id": consignment_id,
        },
        timeout=timeout,
    )
    if response.status_code != 200:
        raise RuntimeError(
            f"peer {peer.name} answered {response.status_code}: {response.text[:200]}"
        )
    answer = response.json()
    if not isinstance(answer, dict):
        raise RuntimeError(f"peer {peer.name} answered {str(answer)[:200]}")
    return answer


def deliver_remote(services: Services, limit: int) -> WorkResult:
    """Hand pending deliveries for units served by peers over.

    No transaction (and no lock) is held during the HTTP call: two workers may post the same
    delivery at once, which is harmless, because the same consignment id travels on every
    attempt and the peer answers a repeat with its first receipt. The row is then marked
    delivered if it still is pending.
    """
    if not services.peers.peers:
        return WorkResult(0, 0, 0)
    result = WorkResult(0, 0, 0)
    with services.sessions() as session:
        rows = session.execute(due(limit * 4, Delivery.id, Delivery.recipient_code)).all()
        session.rollback()
        for delivery_id, code in rows:
            peer = services.peers.for_code(code)
            if peer is None:
                continue
            try:
                delivery = session.get(Delivery, delivery_id)
                if delivery is None or delivery.state != DeliveryState.PENDING:
                    session.rollback()
                    continue
                consignment = delivery.consignment_id
                package = delivery_package(session, delivery_id, services=services)
                session.rollback()  # nothing held while the peer answers
                receipt = post(
                    peer, package, consignment, timeout=services.settings.peer_timeout_seconds
                )
            except Exception as exc:
                session.rollback()
                logger.warning("delivery %s to peer %s failed: %s", delivery_id, peer.name, exc)
                result += back_off(session, [delivery_id], repr(exc)[:500])
                continue
            delivery = session.get(
                Delivery, delivery_id, with_for_update=True, populate_existing=True
            )
            if delivery is not None and delivery.state == DeliveryState.PENDING:
                now = utcnow()
                delivery.state, delivery.delivered_at = DeliveryState.DELIVERED, now
                if delivery.status_code is None:  # a status may have come back already
                    receipt_code = str(receipt.get("status_code") or Status.ARRIVED.value)
                    delivery.status_code, delivery.status_at = receipt_code[:2], now
                result += WorkResult(1, 0, 0)
            session.commit()
    return result
