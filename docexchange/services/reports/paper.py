"""The paper register: documents sent or received on paper, counted in the ratio."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from docexchange.domain.accounts import Role
from docexchange.domain.documents import Secrecy
from docexchange.domain.reports import (
    Direction,
    Period,
)
from docexchange.domain.timeutil import parse_date, today_vn
from docexchange.errors import Forbidden, invalid_field
from docexchange.services import audit
from docexchange.services.authz import Actor, require_role
from docexchange.storage.models import (
    PaperRecord,
)

DIRECTIONS = tuple(d.value for d in Direction)


def _text(data: Mapping[str, Any], name: str, limit: int) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise invalid_field(name, "reason_non_empty")
    if len(value.strip()) > limit:
        raise invalid_field(name, "reason_max_length", max_length=limit)
    return value.strip()


def register_paper(session: Session, data: Mapping[str, Any], *, actor: Actor) -> PaperRecord:
    """Clerk: record a document the unit sent or received on paper (secret ones too).

    :raises Forbidden: ``role_required``, ``unit_forbidden`` (another unit's register).
    :raises InvalidInput: ``invalid_field``, ``invalid_date``.
    """
    require_role(actor, Role.CLERK)
    unit_code = data.get("unit_code") or actor.unit_code
    if unit_code != actor.unit_code:
        raise Forbidden("unit_forbidden", code=str(unit_code)[:20])
    direction = data.get("direction")
    if direction not in DIRECTIONS:
        raise invalid_field("direction", "reason_one_of", values=", ".join(DIRECTIONS))
    day = parse_date(data.get("date"), field="date")
    if day is None:
        raise invalid_field("date", "reason_non_empty")
    if day > today_vn():
        raise invalid_field("date", "reason_not_in_future")
    secrecy = data.get("secrecy") or Secrecy.NONE.value
    if not isinstance(secrecy, str) or secrecy not in {s.value for s in Secrecy}:
        raise invalid_field("secrecy", "reason_one_of", values=", ".join(s.value for s in Secrecy))
    record = PaperRecord(
        id=uuid.uuid4().hex,
        unit_code=actor.unit_code,
        direction=Direction(direction),
        day=day,
        number=_text(data, "number", 40),
        subject=_text(data, "subject", 500),
        counterpart=_text(data, "counterpart", 200),
        secrecy=str(secrecy),
        created_by=actor.username,
    )
    session.add(record)
    audit.record(
        session,
        actor=actor.username,
        action="paper.register",
        target=record.id,
        details={"direction": record.direction, "day": day.isoformat(), "secrecy": secrecy},
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
