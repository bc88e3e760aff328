"""The audit hash chain names the first changed, inserted or removed event."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from docexchange.domain.audit import (
    GENESIS_HASH,
    ChainBreak,
    ChainedEvent,
    event_hash,
    find_break,
    link_hash,
)


def _chain(n: int) -> list[ChainedEvent]:
    events = []
    prev = GENESIS_HASH
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for seq in range(1, n + 1):
        fields = {
            "seq": seq,
            "occurred_at": start + timedelta(seconds=seq),
            "actor": "admin",
            "action": "unit.create",
            "target": f"000.00.{seq:02d}.H45",
            "details": {"n": seq, "name": "UBND xã Chân Mộng"},
            "prev_hash": prev,
        }
        digest = event_hash(**fields)  # type: ignore[arg-type]
        events.append(ChainedEvent(hash=digest, **fields))  # type: ignore[arg-type]
        prev = digest
    return events


def _check(events: list[ChainedEvent], head: ChainedEvent | None) -> ChainBreak | None:
    return find_break(
        events,
        head_seq=head.seq if head else 0,
        head_hash=head.hash if head else GENESIS_HASH,
    )


def test_whole_chain_passes() -> None:
    events = _chain(5)
    assert _check(events, events[-1]) is None
    assert _check([], None) is None


def test_changed_field_is_found() -> None:
    events = _chain(5)
    events[2] = replace(events[2], details={"n": 3, "name": "forged"})
    assert _check(events, events[-1]) == ChainBreak(3, "changed")


def test_rewritten_event_with_recomputed_hash_is_found() -> None:
    events = _chain(5)
    forged = replace(events[1], actor="intruder")
    forged = replace(forged, hash=link_hash(forged))
    events[1] = forged
    assert _check(events, events[-1]) == ChainBreak(2, "changed")


def test_removed_event_is_found() -> None:
    events = _chain(5)
    head = events[-1]
    del events[2]
    assert _check(events, head) == ChainBreak(3, "removed")


def test_removed_tail_is_found_from_the_head() -> None:
    events = _chain(5)
    assert _check(events[:3], events[-1]) == ChainBreak(4, "removed")


def test_inserted_event_is_found() -> None:
    events = _chain(5)
    events.insert(3, replace(events[2], action="forged"))
    assert _check(events, events[-1]) == ChainBreak(3, "inserted")


def test_appended_event_beyond_the_head_is_found() -> None:
    events = _chain(5)
    head = events[3]
    assert _check(events, head) == ChainBreak(5, "inserted")
