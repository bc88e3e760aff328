"""The paper register: documents sent or received on paper, counted in the ratio."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from docexchange.domain.accounts import Role
from docexchange.domain.inputs import PaperBody, PaperQuery
from docexchange.domain.reports import (
    Direction,
)
from docexchange.domain.search import Paged
from docexchange.domain.timeutil import today_vn
from docexchange.errors import Forbidden, invalid_field
from docexchange.services import audit
from docexchange.services.authz import Actor, require_role
from docexchange.services.listing import page_of, text_matches
from docexchange.services.numbering import INCOMING_SERIES, next_number
from docexchange.storage.models import (
    PaperRecord,
)

DIRECTIONS = tuple(d.value for d in Direction)


def register_paper(session: Session, body: PaperBody, *, actor: Actor) -> PaperRecord:
    """Clerk: record a document the unit sent or received on paper (secret ones too).

    :raises Forbidden: ``role_required``, ``unit_forbidden`` (another unit's register).
    :raises InvalidInput: ``invalid_field`` (a day after today).
    """
    require_role(actor, Role.CLERK)
    if body.unit_code is not None and body.unit_code != actor.unit_code:
        raise Forbidden("unit_forbidden", code=body.unit_code)
    if body.date is None:
        raise invalid_field("date", "reason_non_empty")
    if body.date > today_vn():
        raise invalid_field("date", "reason_not_in_future")
    record = PaperRecord(
        id=uuid.uuid4().hex,
        unit_code=actor.unit_code,
        direction=body.direction,
        day=body.date,
        number=body.number,
        subject=body.subject,
        counterpart=body.counterpart,
        secrecy=body.secrecy.value,
        created_by=actor.username,
    )
    if record.direction is Direction.RECEIVED:
        # Paper that arrived shares the incoming register's numbers with electronic arrivals.
        record.incoming_year = body.date.year
        record.incoming_number = next_number(
            session, actor.unit_code, body.date.year, INCOMING_SERIES
        )
    session.add(record)
    audit.record(
        session,
        actor=actor.username,
        action="paper.register",
        target=record.id,
        details={
            "direction": record.direction,
            "day": body.date.isoformat(),
            "secrecy": body.secrecy.value,
        },
    )
    session.commit()
    return record


def list_paper(
    session: Session, *, actor: Actor, filters: PaperQuery, today: date
) -> Paged[PaperRecord]:
    """One page of the actor's unit's paper register, newest first, as ``filters`` narrow
    it (words of the subject, number or counterpart; its date, or a period)."""
    first, last = filters.span(today=today)
    query = select(PaperRecord).where(
        PaperRecord.unit_code == actor.unit_code,
        *text_matches(session, filters.q, PaperRecord.search_text),
    )
    if first is not None:
        query = query.where(PaperRecord.day >= first)
    if last is not None:
        query = query.where(PaperRecord.day <= last)
    return page_of(
        session,
        query.order_by(PaperRecord.day.desc(), PaperRecord.created_at.desc(), PaperRecord.id),
        filters.paging,
    )
