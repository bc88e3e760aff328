"""The hash chain behind the append-only audit log.

Each event stores the hash of its predecessor and its own hash over a canonical encoding
of its fields, so that changing, inserting or removing an event breaks the chain at a point
:func:`find_break` can name.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

__all__ = [
    "GENESIS_HASH",
    "ChainBreak",
    "ChainLink",
    "ChainedEvent",
    "event_hash",
    "find_break",
    "link_hash",
]

GENESIS_HASH = "0" * 64


class ChainLink(Protocol):
    """What the chain check reads of a stored event (an ORM row or a :class:`ChainedEvent`)."""

    @property
    def seq(self) -> int: ...
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def actor(self) -> str | None: ...
    @property
    def action(self) -> str: ...
    @property
    def target(self) -> str | None: ...
    @property
    def details(self) -> dict[str, Any]: ...
    @property
    def prev_hash(self) -> str: ...
    @property
    def hash(self) -> str: ...


@dataclass(frozen=True)
class ChainedEvent:
    """The fields of one audit event that the chain covers."""

    seq: int
    occurred_at: datetime
    actor: str | None
    action: str
    target: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class ChainBreak:
    """Where the chain first fails: the event's sequence number and what happened."""

    seq: int
    problem: str  # "changed" | "inserted" | "removed"


def _canonical(
    *,
    seq: int,
    occurred_at: datetime,
    actor: str | None,
    action: str,
    target: str | None,
    details: dict[str, Any],
    prev_hash: str,
) -> bytes:
    payload = {
        "seq": seq,
        # Microseconds kept: the stored value must round-trip exactly on both databases.
        "at": occurred_at.replace(tzinfo=None).isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "target": target,
        "details": details,
        "prev": prev_hash,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_hash(
    *,
    seq: int,
    occurred_at: datetime,
    actor: str | None,
    action: str,
    target: str | None,
    details: dict[str, Any],
    prev_hash: str,
) -> str:
    """SHA-256 over the canonical JSON of the event and its predecessor's hash."""
    return hashlib.sha256(
        _canonical(
            seq=seq,
            occurred_at=occurred_at,
            actor=actor,
            action=action,
            target=target,
            details=details,
            prev_hash=prev_hash,
        )
    ).hexdigest()


def link_hash(link: ChainLink) -> str:
    """The hash a stored event should carry, recomputed from its fields."""
    return event_hash(
        seq=link.seq,
        occurred_at=link.occurred_at,
        actor=link.actor,
        action=link.action,
        target=link.target,
        details=link.details,
        prev_hash=link.prev_hash,
    )


def find_break(events: Iterable[ChainLink], *, head_seq: int, head_hash: str) -> ChainBreak | None:
    """Check events in ``seq`` order against the chain and its recorded head.

    :param events: every stored event, ordered by ``seq``.
    :param head_seq: the last sequence number the log recorded as appended.
    :param head_hash: the hash of that last event.
    :returns: the first break, or ``None`` when the chain is whole.
    """
    expected_seq = 1
    prev_hash = GENESIS_HASH
    for event in events:
        if event.seq > expected_seq:
            return ChainBreak(expected_seq, "removed")
        if event.seq < expected_seq or event.seq > head_seq:
            # A repeated number, or one past the head the log recorded as appended.
            return ChainBreak(event.seq, "inserted")
        if event.prev_hash != prev_hash:
            # The numbering is continuous, so this event chains to a predecessor whose
            # content is no longer what it was when this event was appended.
            return ChainBreak(max(event.seq - 1, 1), "changed")
        if link_hash(event) != event.hash:
            return ChainBreak(event.seq, "changed")
        prev_hash = event.hash
        expected_seq += 1
    last_seq = expected_seq - 1
    if last_seq < head_seq:
        return ChainBreak(last_seq + 1, "removed")
    if last_seq > head_seq:
        return ChainBreak(head_seq + 1, "inserted")
    if prev_hash != head_hash:
        return ChainBreak(last_seq, "changed")
    return None
