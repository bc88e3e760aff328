"""Recipient groups: named lists of units a clerk sends to at once."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from docexchange.domain.accounts import Role
from docexchange.domain.units import (
    check_group_name,
    dedupe,
    parse_code,
)
from docexchange.errors import Conflict, InvalidInput, NotFound, invalid_field
from docexchange.services import audit
from docexchange.services.authz import Actor, require_role
from docexchange.storage.models import Unit, UnitGroup, UnitGroupMember

logger = logging.getLogger(__name__)


def list_groups(session: Session) -> Sequence[UnitGroup]:
    """Every recipient group, by name."""
    return session.scalars(select(UnitGroup).order_by(UnitGroup.name)).all()


def get_group(session: Session, name: str) -> UnitGroup:
    """:raises NotFound: ``group_not_found``."""
    group = session.scalar(select(UnitGroup).where(UnitGroup.name == name))
    if group is None:
        raise NotFound("group_not_found", name=name)
    return group


def _member_codes(session: Session, codes: Sequence[str]) -> list[str]:
    """Parsed member codes (at least one, from :class:`GroupBody`), each a known unit."""
    if not codes:
        raise invalid_field("members", "reason_non_empty_list")
    checked = dedupe(parse_code(c).code for c in codes)
    known = set(session.scalars(select(Unit.code).where(Unit.code.in_(checked))))
    for code in checked:
        if code not in known:
            raise InvalidInput("unit_not_found", code=code)
    return checked


def create_group(
    session: Session,
    name: str,
    members: Sequence[str],
    *,
    description: str = "",
    actor: Actor,
) -> UnitGroup:
    """Admin: create a named recipient list.

    :raises Conflict: ``group_exists``.
    """
    require_role(actor, Role.ADMIN)
    checked_name = check_group_name(name)
    if session.scalar(select(UnitGroup.id).where(UnitGroup.name == checked_name)) is not None:
        raise Conflict("group_exists", name=checked_name)
    codes = _member_codes(session, members)
    group = UnitGroup(
        name=checked_name,
        description=description[:500],
        members=[UnitGroupMember(unit_code=c, position=i) for i, c in enumerate(codes)],
    )
    session.add(group)
    session.flush()
    audit.record(
        session,
        actor=actor.username,
        action="group.create",
        target=checked_name,
        details={"members": codes},
    )
    session.commit()
    return group


def update_group(
    session: Session,
    name: str,
    members: Sequence[str],
    *,
    description: str | None = None,
    actor: Actor,
) -> UnitGroup:
    """Admin: replace a group's members (and description)."""
    require_role(actor, Role.ADMIN)
    group = get_group(session, name)
    codes = _member_codes(session, members)
    before = [m.unit_code for m in group.members]
    session.execute(delete(UnitGroupMember).where(UnitGroupMember.group_id == group.id))
    session.expire(group, ["members"])
    session.add_all(
        UnitGroupMember(group_id=group.id, unit_code=c, position=i) for i, c in enumerate(codes)
    )
    if description is not None:
        group.description = description[:500]
    session.flush()
    audit.record(
        session,
        actor=actor.username,
        action="group.update",
        target=name,
        details={"before": before, "after": codes},
    )
    session.commit()
    session.refresh(group)
    return group


def delete_group(session: Session, name: str, *, actor: Actor) -> None:
    """Admin: delete a group (documents already sent keep their expanded recipients)."""
    require_role(actor, Role.ADMIN)
    group = get_group(session, name)
    members = [m.unit_code for m in group.members]
    session.delete(group)
    audit.record(
        session,
        actor=actor.username,
        action="group.delete",
        target=name,
        details={"members": members},
    )
    session.commit()
