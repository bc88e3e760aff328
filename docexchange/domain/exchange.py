"""Exchange rules: processing statuses (edXML StatusCode), their moves, delivery order.

Statuses per (document, recipient), DESIGN.md §3 and DOMAIN.md §1.6: 01 arrived → 03 accepted
| 02 returned (reason required); 03 → 04 assigned → 05 processing → 06 done; the sender may
ask to take a document back (13) until it is done, and the recipient agrees (15) or refuses
(16, after which the document goes on from where it was). Only forward moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from docexchange.domain.documents import Urgency
from docexchange.errors import Conflict, InvalidInput

__all__ = [
    "DELIVERY_RETRY",
    "RECIPIENT_MOVES",
    "SENDER_MOVES",
    "STATUS_RETRY",
    "DeliveryState",
    "OutboxState",
    "RetryPolicy",
    "Status",
    "check_move",
    "follows",
    "parse_status",
    "urgency_rank",
]


class Status(StrEnum):
    """edXML StatusCode values."""

    ARRIVED = "01"
    RETURNED = "02"
    ACCEPTED = "03"
    ASSIGNED = "04"
    PROCESSING = "05"
    DONE = "06"
    TAKE_BACK_REQUESTED = "13"
    TAKE_BACK_AGREED = "15"
    TAKE_BACK_REFUSED = "16"


#: Where a document's handling has ended: nothing about it can be overdue any more.
FINISHED = frozenset({Status.DONE, Status.RETURNED, Status.TAKE_BACK_AGREED})


def deadline(handling_due: date | None, due_date: date | None) -> date | None:
    """The day a received document must be handled by: the one set on assigning it, else
    the sender's."""
    return handling_due or due_date


def is_overdue(deadline_: date | None, status: Status, today: date) -> bool:
    """Past its deadline and not finished (derived, never stored)."""
    return deadline_ is not None and deadline_ < today and status not in FINISHED


_FORWARD: dict[Status, frozenset[Status]] = {
    Status.ARRIVED: frozenset({Status.RETURNED, Status.ACCEPTED}),
    Status.ACCEPTED: frozenset({Status.ASSIGNED}),
    Status.ASSIGNED: frozenset({Status.PROCESSING}),
    Status.PROCESSING: frozenset({Status.DONE}),
}
#: Statuses from which the sender may still ask for the document back.
_TAKE_BACK_FROM = frozenset({Status.ARRIVED, Status.ACCEPTED, Status.ASSIGNED, Status.PROCESSING})

#: Moves the recipient makes; 13 is the sender's.
RECIPIENT_MOVES = frozenset(
    {
        Status.RETURNED,
        Status.ACCEPTED,
        Status.ASSIGNED,
        Status.PROCESSING,
        Status.DONE,
        Status.TAKE_BACK_AGREED,
        Status.TAKE_BACK_REFUSED,
    }
)
SENDER_MOVES = frozenset({Status.TAKE_BACK_REQUESTED})


def parse_status(value: object) -> Status:
    """:raises InvalidInput: ``invalid_status_code``."""
    try:
        return Status(str(value))
    except ValueError:
        raise InvalidInput("invalid_status_code", code=str(value)[:8]) from None


def check_move(current: Status, new: Status, *, before_take_back: Status | None = None) -> Status:
    """The status after moving from ``current`` to ``new``.

    A refused take-back (16) is recorded, then the document is where it was before the
    request (``before_take_back``).

    :raises Conflict: ``status_move_not_allowed``.
    """
    allowed: frozenset[Status] = _FORWARD.get(current, frozenset())
    if current in _TAKE_BACK_FROM:
        allowed |= {Status.TAKE_BACK_REQUESTED}
    if current is Status.TAKE_BACK_REQUESTED:
        allowed = frozenset({Status.TAKE_BACK_AGREED, Status.TAKE_BACK_REFUSED})
    if new not in allowed:
        raise Conflict("status_move_not_allowed", current=current.value, new=new.value)
    if new is Status.TAKE_BACK_REFUSED and before_take_back is not None:
        return before_take_back
    return new


def _later(current: Status) -> set[Status]:
    """Every status the flow can reach from ``current`` (take-back included)."""
    seen: set[Status] = set()
    todo = [current]
    while todo:
        step = todo.pop()
        nexts = set(_FORWARD.get(step, frozenset()))
        if step in _TAKE_BACK_FROM:
            nexts.add(Status.TAKE_BACK_REQUESTED)
        if step is Status.TAKE_BACK_REQUESTED:
            nexts |= {Status.TAKE_BACK_AGREED, Status.TAKE_BACK_REFUSED}
        todo.extend(nexts - seen)
        seen |= nexts
    return seen


def follows(current: Status | None, new: Status) -> bool:
    """Whether a recipient's report ``new`` can come after ``current``: the same again, or
    later in the flow (a report may skip steps). After a refused take-back (16) the document
    is back where it was, so anything short of the end may follow."""
    if current is None or new is current:
        return True
    if current is Status.TAKE_BACK_REFUSED:
        return new not in (Status.TAKE_BACK_AGREED, Status.TAKE_BACK_REFUSED)
    return new in _later(current)


_RANK = {Urgency.HOA_TOC: 0, Urgency.THUONG_KHAN: 1, Urgency.KHAN: 2, Urgency.NORMAL: 3}


def urgency_rank(urgency: str) -> int:
    """Delivery order: hỏa tốc first, then thượng khẩn, khẩn, normal."""
    return _RANK.get(Urgency(urgency), 3)


class DeliveryState(StrEnum):
    """Where one recipient's delivery is: queued, handed over, given up, or withdrawn."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # attempts exhausted: an admin may queue it again
    REVOKED = "revoked"  # the sender withdrew the document


class OutboxState(StrEnum):
    """A status message (or revocation notice) for a peer: waiting, or sent."""

    PENDING = "pending"
    SENT = "sent"


@dataclass(frozen=True)
class RetryPolicy:
    """When a failed hand-over is tried again: after ``2**attempts`` seconds (at most
    ``2**max_exponent``), until ``give_up_after`` attempts (never, if ``None``)."""

    give_up_after: int | None
    max_exponent: int = 10

    def next_attempt(self, attempts: int, now: datetime) -> datetime | None:
        """When to try after ``attempts`` failures, or ``None``: give up."""
        if self.give_up_after is not None and attempts >= self.give_up_after:
            return None
        return now + timedelta(seconds=2 ** min(attempts, self.max_exponent))


#: Deliveries: 8 attempts over about 8 minutes, then failed (an admin may retry).
DELIVERY_RETRY = RetryPolicy(give_up_after=8)
#: Status messages to peers are never given up: a later status waits for an earlier one.
STATUS_RETRY = RetryPolicy(give_up_after=None)
