"""The unit directory: units, the tree, whole-tree import/export, groups and selectors."""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Select, delete, func, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import CTE

from docexchange.domain.accounts import Role
from docexchange.domain.cells import csv_cell, from_csv_cell
from docexchange.domain.json_input import parse_json
from docexchange.domain.timeutil import parse_date, today_vn
from docexchange.domain.units import (
    SelectorKind,
    UnitLevel,
    check_group_name,
    check_no_cycle,
    check_parent_level,
    check_validity,
    dedupe,
    is_active,
    parse_code,
    parse_selector,
    topological_order,
)
from docexchange.errors import Conflict, DocExchangeError, InvalidInput, NotFound, invalid_field
from docexchange.services import audit
from docexchange.services.authz import Actor, require_role
from docexchange.storage.base import utcnow
from docexchange.storage.models import Unit, UnitGroup, UnitGroupMember

__all__ = [
    "EXPORT_FIELDS",
    "ImportResult",
    "UnitInput",
    "create_group",
    "create_unit",
    "delete_group",
    "export_tree",
    "get_unit",
    "import_tree",
    "list_groups",
    "list_units",
    "parse_import",
    "render_export",
    "resolve_recipients",
    "subtree_codes",
    "subtree_select",
    "update_group",
    "update_unit",
]

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


def _text(data: Mapping[str, Any], name: str, *, max_length: int, required: bool = True) -> str:
    raw = data.get(name)
    if raw is not None and not isinstance(raw, str):  # a boolean or a number is not a name
        raise invalid_field(name, "reason_text")
    value = "" if raw is None else raw.strip()
    if required and not value:
        raise InvalidInput("missing_field", field=name)
    if len(value) > max_length:
        raise invalid_field(name, "reason_max_length", max_length=max_length)
    return value


def _optional_code(data: Mapping[str, Any], name: str) -> str | None:
    raw = data.get(name)
    if raw is None or raw == "":
        return None
    return parse_code(raw).code


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
    def from_mapping(cls, data: Mapping[str, Any]) -> UnitInput:
        """Validate one unit's fields (shape only; references are checked by the service).

        :raises InvalidInput: for a missing or malformed field.
        """
        if not isinstance(data, Mapping):
            raise InvalidInput("invalid_json")
        code = parse_code(_text(data, "code", max_length=64)).code
        level = UnitLevel.parse(_text(data, "level", max_length=16))
        valid_from = parse_date(data.get("valid_from"), field="valid_from")
        valid_to = parse_date(data.get("valid_to"), field="valid_to")
        check_validity(valid_from, valid_to)
        parent_code = _optional_code(data, "parent_code")
        if parent_code == code:
            raise Conflict("unit_cycle", code=code)
        return cls(
            code=code,
            name=_text(data, "name", max_length=200),
            abbreviation=_text(data, "abbreviation", max_length=30),
            level=level,
            parent_code=parent_code,
            valid_from=valid_from,
            valid_to=valid_to,
            successor_code=_optional_code(data, "successor_code"),
        )

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
    level: str | None = None,
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
    if level:
        query = query.where(Unit.level == UnitLevel.parse(level).value)
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


_UPDATABLE = ("name", "abbreviation", "parent_code", "valid_from", "valid_to", "successor_code")


def update_unit(session: Session, code: str, changes: Mapping[str, Any], *, actor: Actor) -> Unit:
    """Change a unit's fields (moving it in the tree, closing it, naming its successor).

    :raises NotFound: ``unit_not_found``.
    :raises Conflict: ``unit_cycle`` when the move would make a cycle.
    :raises InvalidInput: for malformed or unknown fields.
    """
    require_role(actor, Role.ADMIN)
    unit = get_unit(session, code)
    if not isinstance(changes, Mapping) or not changes:
        raise InvalidInput("invalid_json")
    for name in changes:
        if name not in _UPDATABLE:
            raise invalid_field(str(name)[:40], "reason_not_updatable")
    merged = {name: getattr(unit, name) for name in EXPORT_FIELDS}
    merged.update(changes)
    new = UnitInput.from_mapping(merged)
    _check_references(session, new)
    if new.parent_code is not None and new.parent_code != unit.parent_code:
        parents = dict(session.execute(select(Unit.code, Unit.parent_code)).all())
        parents[code] = new.parent_code
        check_no_cycle(parents, code)
    before = {name: getattr(unit, name) for name in changes}
    for name, value in new.row().items():
        if name in changes:
            setattr(unit, name, value)
    session.flush()
    audit.record(
        session,
        actor=actor.username,
        action="unit.update",
        target=code,
        details={"before": _jsonable(before), "after": _jsonable(dict(changes))},
    )
    session.commit()
    return unit


def _jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}


# --- whole-tree import and export -------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    """What one import changed."""

    created: int
    updated: int
    unchanged: int
    codes: list[str] = field(default_factory=list)


def parse_import(data: bytes, fmt: str, *, max_rows: int) -> list[UnitInput]:
    """Read a CSV or JSON tree into validated rows (row numbers start at 1).

    CSV needs a header with at least ``code,name,abbreviation,level``; JSON is a list of
    unit objects or ``{"units": [...]}``.

    :raises InvalidInput: ``import_malformed`` naming the row, ``import_too_many_rows``,
        ``import_unsupported_format`` or ``import_empty``.
    """
    records: list[Any]
    if fmt == "json":
        try:
            parsed = parse_json(data)
        except InvalidInput as exc:
            raise _malformed(0, "import_not_json", detail=exc.code) from None
        if isinstance(parsed, dict) and isinstance(parsed.get("units"), list):
            records = parsed["units"]
        elif isinstance(parsed, list):
            records = parsed
        else:
            raise _malformed(0, "import_not_a_list")
    elif fmt == "csv":
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise _malformed(0, "import_not_utf8") from None
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = reader.fieldnames or []
        missing = [n for n in ("code", "name", "abbreviation", "level") if n not in header]
        if missing:
            raise _malformed(0, "import_missing_columns", columns=", ".join(missing))
        try:
            records = []
            for record in reader:
                # Our export quotes formula-like text (spreadsheet safety): read it back as it was.
                records.append(
                    {k: from_csv_cell(v) if isinstance(v, str) else v for k, v in record.items()}
                )
                if len(records) > max_rows:
                    break
        except csv.Error as exc:
            raise _malformed(reader.line_num, "import_bad_csv", detail=str(exc)[:120]) from None
    else:
        raise InvalidInput("import_unsupported_format", format=fmt[:20])
    if len(records) > max_rows:
        raise InvalidInput("import_too_many_rows", limit=max_rows)
    if not records:
        raise InvalidInput("import_empty")
    rows: list[UnitInput] = []
    seen: set[str] = set()
    for number, record in enumerate(records, start=1):
        if not isinstance(record, Mapping):
            raise _malformed(number, "import_not_an_object")
        if None in record:  # a CSV line with more fields than the header
            raise _malformed(number, "import_too_many_fields")
        try:
            unit = UnitInput.from_mapping(record)
        except DocExchangeError as exc:
            raise InvalidInput("import_malformed", row=number, reason=exc) from None
        if unit.code in seen:
            raise _malformed(number, "import_duplicate_code", code=unit.code)
        seen.add(unit.code)
        rows.append(unit)
    return rows


def _malformed(row: int, reason: str, **params: object) -> InvalidInput:
    # The reason is itself a coded error, rendered in the reader's language at the edge.
    return InvalidInput("import_malformed", row=row, reason=InvalidInput(reason, **params))


def import_tree(
    session: Session, rows: Sequence[UnitInput], *, actor: Actor | None, source: str = "api"
) -> ImportResult:
    """Create or update a whole tree in one transaction: all rows, or none.

    A row whose code exists updates that unit; every parent and successor must be in the
    file or already in the directory; the result must still be a tree.

    :raises InvalidInput: ``import_malformed`` naming the first bad row.
    :raises Conflict: ``unit_cycle``.
    """
    if actor is not None:
        require_role(actor, Role.ADMIN)
    if not rows:
        raise InvalidInput("import_empty")
    existing = {
        code: (level, parent, values)
        for code, level, parent, *values in session.execute(
            select(
                Unit.code,
                Unit.level,
                Unit.parent_code,
                Unit.name,
                Unit.abbreviation,
                Unit.valid_from,
                Unit.valid_to,
                Unit.successor_code,
            )
        )
    }
    levels: dict[str, UnitLevel] = {c: UnitLevel(v[0]) for c, v in existing.items()}
    parents: dict[str, str | None] = {c: v[1] for c, v in existing.items()}
    number_of = {row.code: n for n, row in enumerate(rows, start=1)}
    for row in rows:
        levels[row.code] = row.level
        parents[row.code] = row.parent_code
    for row in rows:
        n = number_of[row.code]
        try:
            if row.parent_code is not None and row.parent_code not in levels:
                raise InvalidInput("parent_not_found", code=row.parent_code)
            check_parent_level(row.level, levels[row.parent_code] if row.parent_code else None)
            if row.successor_code is not None and row.successor_code not in levels:
                raise InvalidInput("successor_not_found", code=row.successor_code)
        except DocExchangeError as exc:
            raise InvalidInput("import_malformed", row=n, reason=exc) from None
    # A unit already in the directory, not in the file, must still fit under its parent
    # when the file changes that parent's level.
    for code, parent in parents.items():
        if code in number_of or parent not in number_of:
            continue
        try:
            check_parent_level(levels[code], levels[parent])
        except DocExchangeError as exc:
            raise InvalidInput("import_malformed", row=number_of[parent], reason=exc) from None
    order = topological_order(parents)  # raises unit_cycle
    by_code = {row.code: row for row in rows}
    now = utcnow()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    unchanged = 0
    successors: list[dict[str, Any]] = []
    for code in order:
        if code not in by_code:
            continue
        row = by_code[code]
        values = row.row()
        successor = values.pop("successor_code")
        if code in existing:
            _level, parent, (name, abbr, vfrom, vto, succ) = existing[code]
            if (row.level.value, row.parent_code, row.name, row.abbreviation) == (
                _level,
                parent,
                name,
                abbr,
            ) and (row.valid_from, row.valid_to, row.successor_code) == (vfrom, vto, succ):
                unchanged += 1
                continue
            values["updated_at"] = now
            values["successor_code"] = successor
            updates.append(values)
        else:
            values.update(created_at=now, updated_at=now, successor_code=None)
            inserts.append(values)
            if successor is not None:
                successors.append({"code": code, "successor_code": successor})
    if inserts:
        session.execute(insert(Unit), inserts)
    if updates:
        # Updates go parent-first too, so a moved unit's new parent already exists.
        session.execute(update(Unit), updates)
    if successors:
        session.execute(update(Unit), successors)
    result = ImportResult(
        created=len(inserts),
        updated=len(updates),
        unchanged=unchanged,
        codes=[r.code for r in rows],
    )
    audit.record(
        session,
        actor=actor.username if actor else "system",
        action="unit.import",
        details={
            "source": source,
            "rows": len(rows),
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
        },
    )
    session.commit()
    logger.info(
        "directory import: %d created, %d updated, %d unchanged",
        result.created,
        result.updated,
        result.unchanged,
    )
    return result


def export_tree(session: Session) -> list[dict[str, Any]]:
    """Every unit, parents before children, as plain values (re-importable)."""
    units = {u.code: u for u in session.scalars(select(Unit))}
    order = topological_order({c: u.parent_code for c, u in units.items()})
    out = []
    for code in order:
        unit = units[code]
        out.append(
            {
                "code": unit.code,
                "name": unit.name,
                "abbreviation": unit.abbreviation,
                "level": unit.level,
                "parent_code": unit.parent_code,
                "valid_from": unit.valid_from.isoformat() if unit.valid_from else None,
                "valid_to": unit.valid_to.isoformat() if unit.valid_to else None,
                "successor_code": unit.successor_code,
            }
        )
    return out


def render_export(rows: Iterable[Mapping[str, Any]], fmt: str) -> bytes:
    """Serialise an export as CSV (UTF-8 with BOM, for spreadsheet users) or JSON.

    :raises InvalidInput: ``import_unsupported_format``.
    """
    if fmt == "json":
        return json.dumps({"units": list(rows)}, ensure_ascii=False, indent=1).encode()
    if fmt == "csv":
        buffer = io.StringIO(newline="")
        writer = csv.DictWriter(buffer, fieldnames=EXPORT_FIELDS, lineterminator="\r\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: csv_cell(row.get(k)) for k in EXPORT_FIELDS})
        return ("\ufeff" + buffer.getvalue()).encode()
    raise InvalidInput("import_unsupported_format", format=fmt[:20])


# --- recipient groups and selectors -----------------------------------------------------


def list_groups(session: Session) -> Sequence[UnitGroup]:
    """Every recipient group, by name."""
    return session.scalars(select(UnitGroup).order_by(UnitGroup.name)).all()


def get_group(session: Session, name: str) -> UnitGroup:
    """:raises NotFound: ``group_not_found``."""
    group = session.scalar(select(UnitGroup).where(UnitGroup.name == name))
    if group is None:
        raise NotFound("group_not_found", name=name)
    return group


def _member_codes(session: Session, codes: object) -> list[str]:
    if not isinstance(codes, list) or not codes:
        raise invalid_field("members", "reason_non_empty_list")
    checked = dedupe(parse_code(c).code for c in codes)
    known = set(session.scalars(select(Unit.code).where(Unit.code.in_(checked))))
    for code in checked:
        if code not in known:
            raise InvalidInput("unit_not_found", code=code)
    return checked


def create_group(
    session: Session, name: object, members: object, *, description: str = "", actor: Actor
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
    members: object,
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


def import_file(
    session: Session, data: bytes, fmt: str, *, max_rows: int, actor: Actor | None
) -> ImportResult:
    """Check the actor, then parse and import a CSV or JSON file (see :func:`import_tree`)."""
    if actor is not None:
        require_role(actor, Role.ADMIN)
    rows = parse_import(data, fmt, max_rows=max_rows)
    return import_tree(session, rows, actor=actor, source=fmt)
