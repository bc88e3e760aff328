"""The paper register: documents sent or received on paper, counted in the ratio."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from docexchange.domain.accounts import Role
from docexchange.domain.inputs import PaperBody
from docexchange.domain.reports import (
    Direction,
    Period,
)
from docexchange.domain.timeutil import today_vn
from docexchange.errors import Forbidden, invalid_field
from docexchange.services import audit
from docexchange.services.authz import Actor, require_role
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
    session: Session, *, actor: Actor, period: Period | None = None
) -> Sequence[PaperRecord]:
    """The actor's unit's paper register, newest first."""
    query = select(PaperRecord).where(PaperRecord.unit_code == actor.unit_code)
    if period is not None:
        query = query.where(PaperRecord.day.between(period.first, period.last))
    return session.scalars(
        query.order_by(PaperRecord.day.desc(), PaperRecord.created_at.desc()).limit(1000)
    ).all()
