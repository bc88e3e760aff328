"""What waits for a person: counts per queue for the home page, and their own deadlines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from docexchange.domain.accounts import Role
from docexchange.domain.documents import DocumentState
from docexchange.domain.exchange import Status
from docexchange.domain.timeutil import VN_TZ
from docexchange.services.authz import Actor
from docexchange.services.documents import signing_queue
from docexchange.services.exchange.common import deadline_column, not_finished
from docexchange.storage.models import Document, InboxEntry

#: How far ahead the digest looks for deadlines (today counts as the first day).
DIGEST_DAYS = 3


@dataclass(frozen=True)
class Queues:
    """How much waits in each queue of the actor's unit (``None``: not the actor's queue)."""

    new_arrivals: int  #: arrived today, still at 01
    to_accept: int | None  #: clerks: everything still at 01
    to_sign: int | None  #: signers: their signing queue
    to_issue: int | None  #: clerks: signed, waiting for a number
    overdue: int  #: past the deadline and not finished


def arrivals_waiting(session: Session, unit_code: str) -> int:
    """Documents at 01 (arrived, not yet accepted or returned) for the unit (the menu's count)."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(InboxEntry)
            .where(
                InboxEntry.recipient_code == unit_code,
                InboxEntry.status_code == Status.ARRIVED.value,
                InboxEntry.revoked_at.is_(None),
            )
        )
        or 0
    )


def queues(session: Session, *, actor: Actor, today: date) -> Queues:
    """The counts for the actor's home page, ``today`` being the Vietnam calendar day."""
    unit = actor.unit_code
    start = datetime.combine(today, time(0, 0), tzinfo=VN_TZ)
    at_arrival = (
        InboxEntry.recipient_code == unit,
        InboxEntry.status_code == Status.ARRIVED.value,
        InboxEntry.revoked_at.is_(None),
    )
    new = session.scalar(
        select(func.count())
        .select_from(InboxEntry)
        .where(*at_arrival, InboxEntry.received_at >= start)
    )
    overdue = session.scalar(
        select(func.count())
        .select_from(InboxEntry)
        .where(
            InboxEntry.recipient_code == unit,
            deadline_column() < today,
            not_finished(),
            InboxEntry.revoked_at.is_(None),
        )
    )
    clerk = actor.has(Role.CLERK)
    to_issue = (
        session.scalar(
            select(func.count())
            .select_from(Document)
            .where(Document.sender_code == unit, Document.state == DocumentState.SIGNED)
        )
        if clerk
        else None
    )
    return Queues(
        new_arrivals=int(new or 0),
        to_accept=arrivals_waiting(session, unit) if clerk else None,
        to_sign=len(signing_queue(session, actor=actor)) if actor.has(Role.SIGNER) else None,
        to_issue=int(to_issue or 0) if to_issue is not None else None,
        overdue=int(overdue or 0),
    )


@dataclass(frozen=True)
class Due:
    """One document assigned to the actor, with its deadline."""

    entry: InboxEntry
    deadline: date
    overdue: bool


def my_deadlines(session: Session, *, actor: Actor, today: date) -> Sequence[Due]:
    """The digest: what is assigned to the actor and not finished, overdue or due within
    :data:`DIGEST_DAYS`, the earliest first."""
    horizon = today + timedelta(days=DIGEST_DAYS - 1)
    entries = session.scalars(
        select(InboxEntry)
        .where(
            InboxEntry.recipient_code == actor.unit_code,
            InboxEntry.assignee == actor.username,
            not_finished(),
            InboxEntry.revoked_at.is_(None),
            deadline_column() <= horizon,
        )
        .order_by(deadline_column(), InboxEntry.received_at)
        .limit(200)
    ).all()
    found = []
    for entry in entries:
        due = entry.handling_due or entry.due_date
        assert due is not None
        found.append(Due(entry, due, due < today))
    return found
