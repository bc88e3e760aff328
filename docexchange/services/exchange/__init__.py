"""Exchange: send (transactional outbox), deliver (worker), receive, statuses.

One module per concern, as pyHanko splits ``sign/``: :mod:`.sending` (send, forward, the
outbox), :mod:`.packages` (edXML of what goes out), :mod:`.verdicts` (verified once per file),
:mod:`.local` (the delivery worker for units served here), :mod:`.transport` (to peers),
:mod:`.status_outbox` (statuses to peers, in order), :mod:`.inbound` (edXML from peers),
:mod:`.revocation`, :mod:`.inbox` (status moves) and :mod:`.routes` (administration).

Sending writes one delivery row per recipient in the same transaction as the send; the
document id (DESIGN.md §3) makes a second send a no-op that answers with the same rows.
A worker claims pending rows, urgent first (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
several workers share the work; SQLite serialises writers), hands each document over and
marks the row delivered in the same transaction as the inbox entry it makes: a crash at any
point leaves the row pending or fully delivered, never both or neither. The inbox entry is
unique per consignment id, so even a replay creates nothing.

On arrival every signature is verified (the verdict for identical bytes, trust and sender is
computed once and shared by every recipient of a fan-out), the report is stored with the
entry, and status 01 goes back to the sender. A document that fails verification still
arrives, flagged, so the clerk can return it (02) with a reason.
"""

from __future__ import annotations

from docexchange.domain.exchange import DELIVERY_RETRY
from docexchange.services.exchange.common import WorkResult, get_inbox_entry, holders
from docexchange.services.exchange.inbound import receive_edxml
from docexchange.services.exchange.inbox import (
    allowed_moves,
    change_status,
    entry_file,
    forward_targets,
    forwarded_from,
    inbox_senders,
    list_inbox,
    status_history,
)
from docexchange.services.exchange.local import deliver_pending
from docexchange.services.exchange.packages import delivery_package, edxml_package
from docexchange.services.exchange.revocation import revoke_document
from docexchange.services.exchange.routes import Route, exchange_overview, retry_failed
from docexchange.services.exchange.sending import (
    Forwarded,
    OutboxItem,
    deliveries_of,
    forward_entry,
    list_outbox,
    outbox_recipients,
    send_document,
)
from docexchange.services.exchange.verdicts import verdict_for

__all__ = [
    "MAX_ATTEMPTS",
    "Forwarded",
    "OutboxItem",
    "Route",
    "WorkResult",
    "allowed_moves",
    "change_status",
    "deliver_pending",
    "deliveries_of",
    "delivery_package",
    "edxml_package",
    "entry_file",
    "exchange_overview",
    "forward_entry",
    "forward_targets",
    "forwarded_from",
    "get_inbox_entry",
    "holders",
    "inbox_senders",
    "list_inbox",
    "list_outbox",
    "outbox_recipients",
    "receive_edxml",
    "retry_failed",
    "revoke_document",
    "send_document",
    "status_history",
    "verdict_for",
]

#: Attempts before a delivery is marked failed (an admin may retry it).
MAX_ATTEMPTS = DELIVERY_RETRY.give_up_after
