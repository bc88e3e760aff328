"""Units of the directory, one at a time: read, list, create, change (with history)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from docexchange.domain.accounts import Role
from docexchange.domain.edge import parse_input
from docexchange.domain.inputs import UnitBody, UnitChanges
from docexchange.domain.units import (
    UnitLevel,
    check_no_cycle,
    check_parent_level,
    check_validity,
    is_active,
    parse_code,
)
from docexchange.errors import Conflict, InvalidInput, NotFound
from docexchange.services import audit
from docexchange.services.authz import Actor, require_role
from docexchange.storage.models import Unit

logger = logging.getLogger(__name__)


EXPORT_FIELDS = (
    "code",
    "name",
    "abbreviation",
    "level",
    "parent_code",
    "valid_from",
    "valid_to",
    "successor_code",
)


@dataclass(frozen=True)
class UnitInput:
    """A validated unit as given by an admin or an import row."""

    code: str
    name: str
    abbreviation: str
    level: UnitLevel
    parent_code: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    successor_code: str | None = None

    @classmethod
    def from_body(cls, body: UnitBody) -> UnitInput:
        """The unit a parsed body describes, once its dates and parent agree.

        :raises InvalidInput: ``invalid_validity``; :raises Conflict: ``unit_cycle``.
        """
        check_validity(body.valid_from, body.valid_to)
        if body.parent_code == body.code:
            raise Conflict("unit_cycle", code=body.code)
        return cls(**body.model_dump())

    @classmethod
    def from_mapping(cls, data: object) -> UnitInput:
        """An import row (CSV or JSON values) parsed as :class:`UnitBody`, then checked.

        :raises InvalidInput: for a missing or malformed field.
        """
        return cls.from_body(parse_input(UnitBody, data))

    def row(self) -> dict[str, Any]:
        """Column values for the ``units`` table."""
        values = asdict(self)
        values["level"] = self.level.value
        return values


def get_unit(session: Session, code: str) -> Unit:
    """:raises NotFound: ``unit_not_found`` (``invalid_unit_code`` for a malformed code)."""
    parse_code(code)
    unit = session.get(Unit, code)
    if unit is None:
        raise NotFound("unit_not_found", code=code)
    return unit


def list_units(
    session: Session,
    *,
    parent: str | None = None,
    level: UnitLevel | None = None,
    active_on: date | None = None,
    roots_only: bool = False,
) -> Sequence[Unit]:
    """Units filtered by parent code and level, ordered by code.

    :param roots_only: only units without a parent (the tops of the tree).
    :raises NotFound: ``unit_not_found`` when ``parent`` does not exist.
    """
    query = select(Unit).order_by(Unit.code)
    if roots_only:
        query = query.where(Unit.parent_code.is_(None))
    if parent:
        get_unit(session, parent)
        query = query.where(Unit.parent_code == parent)
    if level is not None:
        query = query.where(Unit.level == level.value)
    units = session.scalars(query).all()
    if active_on is not None:
        units = [u for u in units if is_active(u.valid_from, u.valid_to, active_on)]
    return units


def _check_references(session: Session, unit: UnitInput) -> None:
    parent_level: UnitLevel | None = None
    if unit.parent_code is not None:
        parent = session.get(Unit, unit.parent_code)
        if parent is None:
            raise InvalidInput("parent_not_found", code=unit.parent_code)
        parent_level = UnitLevel(parent.level)
    check_parent_level(unit.level, parent_level)
    if unit.successor_code is not None and session.get(Unit, unit.successor_code) is None:
        raise InvalidInput("successor_not_found", code=unit.successor_code)


def create_unit(session: Session, unit: UnitInput, *, actor: Actor | None) -> Unit:
    """Add one unit under an existing parent.

    :raises Conflict: ``unit_exists``.
    :raises InvalidInput: unknown parent or successor, wrong parent level.
    """
    if actor is not None:
        require_role(actor, Role.ADMIN)
    if session.get(Unit, unit.code) is not None:
        raise Conflict("unit_exists", code=unit.code)
    _check_references(session, unit)
    row = Unit(**unit.row())
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor.username if actor else "system",
        action="unit.create",
        target=unit.code,
        details=_jsonable(unit.row()),
    )
    session.commit()
    return row


def update_unit(session: Session, code: str, changes: UnitChanges, *, actor: Actor) -> Unit:
    """Change a unit's fields (moving it in the tree, closing it, naming its successor).

    :raises NotFound: ``unit_not_found``.
    :raises Conflict: ``unit_cycle`` when the move would make a cycle.
    :raises InvalidInput: for malformed or unknown fields.
    """
    require_role(actor, Role.ADMIN)
    unit = get_unit(session, code)
    given = changes.given()
    merged = {name: getattr(unit, name) for name in EXPORT_FIELDS}
    merged.update(given)
    new = UnitInput.from_mapping(merged)
    _check_references(session, new)
    if new.parent_code is not None and new.parent_code != unit.parent_code:
        parents = dict(session.execute(select(Unit.code, Unit.parent_code)).all())
        parents[code] = new.parent_code
        check_no_cycle(parents, code)
    before = {name: getattr(unit, name) for name in given}
    for name, value in new.row().items():
        if name in given:
            setattr(unit, name, value)
    session.flush()
    audit.record(
        session,
        actor=actor.username,
        action="unit.update",
        target=code,
        details={"before": _jsonable(before), "after": _jsonable(given)},
    )
    session.commit()
    return unit


def unit_fields(unit: Unit) -> dict[str, Any]:
    """A unit's fields (``EXPORT_FIELDS``, in that order) as plain values: dates as text."""
    return _jsonable({name: getattr(unit, name) for name in EXPORT_FIELDS})


def _jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}


def child_counts(session: Session, codes: Sequence[str]) -> dict[str, int]:
    """How many direct children each of ``codes`` has."""
    if not codes:
        return {}
    rows = session.execute(
        select(Unit.parent_code, func.count())
        .where(Unit.parent_code.in_(codes))
        .group_by(Unit.parent_code)
    )
    return {str(parent): int(count) for parent, count in rows}


def named(session: Session, codes: set[str]) -> list[tuple[str, str]]:
    """``codes`` with their units' names (a code the directory does not know: itself), by
    name."""
    rows = session.execute(select(Unit.code, Unit.name).where(Unit.code.in_(codes)))
    names = {str(code): str(name) for code, name in rows}
    return sorted(((c, names.get(c, c)) for c in codes), key=lambda pair: (pair[1], pair[0]))


def unit_name(session: Session, code: str) -> str:
    """A unit's name for a page (its code when the directory does not know it)."""
    unit = session.get(Unit, code[:13])
    return unit.name if unit is not None else code
