"""Subtrees and recipient selectors (a code, children:, communes:, group:) expanded to units."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy import Select, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import CTE

from docexchange.domain.timeutil import today_vn
from docexchange.domain.units import (
    SelectorKind,
    UnitLevel,
    is_active,
    parse_selector,
)
from docexchange.errors import InvalidInput, invalid_field
from docexchange.services.directory.groups import get_group
from docexchange.storage.models import Unit, UnitGroupMember

logger = logging.getLogger(__name__)


def _subtree_cte(root: str) -> CTE:
    tree = select(Unit.code).where(Unit.code == root).cte("subtree", recursive=True)
    return tree.union_all(select(Unit.code).where(Unit.parent_code == tree.c.code))


def subtree_select(root: str) -> Select[tuple[str]]:
    """``root`` and every unit below it, as a query to use inside another (no parameters
    per unit: a province-wide filter stays one small statement)."""
    tree = _subtree_cte(root)
    return select(tree.c.code)


def subtree_codes(session: Session, root: str) -> list[str]:
    """``root`` and every unit below it (recursive query on both databases)."""
    tree = _subtree_cte(root)
    return list(session.scalars(select(tree.c.code)))


def resolve_recipients(
    session: Session, selectors: Sequence[object], *, on: date | None = None
) -> list[Unit]:
    """Expand unit codes and selectors into the units they name, deduplicated, in order.

    ``children:<code>``: active direct children, departments excluded;
    ``communes:<code>``: every active commune in the subtree; ``group:<name>``: the group's
    active members. A unit named directly must exist and be active.

    :raises InvalidInput: ``invalid_selector``, ``invalid_unit_code``, ``unit_not_found``.
    :raises NotFound: ``group_not_found``.
    """
    day = on or today_vn()
    if not isinstance(selectors, list | tuple) or not selectors:
        raise invalid_field("recipients", "reason_non_empty_list")
    found: dict[str, Unit] = {}
    for raw in selectors:
        selector = parse_selector(raw)
        units: Iterable[Unit]
        if selector.kind is SelectorKind.GROUP:
            group = get_group(session, selector.argument)
            units = session.scalars(
                select(Unit)
                .join(UnitGroupMember, UnitGroupMember.unit_code == Unit.code)
                .where(UnitGroupMember.group_id == group.id)
                .order_by(UnitGroupMember.position)
            ).all()
        else:
            anchor = session.get(Unit, selector.argument)
            if anchor is None:
                raise InvalidInput("unit_not_found", code=selector.argument)
            if selector.kind is SelectorKind.UNIT:
                if not is_active(anchor.valid_from, anchor.valid_to, day):
                    raise invalid_field("recipients", "reason_unit_closed", code=anchor.code)
                units = [anchor]
            elif selector.kind is SelectorKind.CHILDREN:
                units = session.scalars(
                    select(Unit)
                    .where(
                        Unit.parent_code == anchor.code,
                        Unit.level != UnitLevel.DEPARTMENT.value,
                    )
                    .order_by(Unit.code)
                ).all()
            else:
                tree = _subtree_cte(anchor.code)
                units = session.scalars(
                    select(Unit)
                    .join(tree, tree.c.code == Unit.code)
                    .where(Unit.level == UnitLevel.COMMUNE.value)
                    .order_by(Unit.code)
                ).all()
        for unit in units:
            if is_active(unit.valid_from, unit.valid_to, day):
                found.setdefault(unit.code, unit)
    return list(found.values())
