"""The whole unit tree imported (CSV or JSON, checked before anything is written) and exported."""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from docexchange.domain.accounts import Role
from docexchange.domain.cells import csv_cell, from_csv_cell
from docexchange.domain.json_input import parse_json
from docexchange.domain.search import search_text
from docexchange.domain.units import (
    UnitLevel,
    check_parent_level,
    topological_order,
)
from docexchange.errors import DocExchangeError, InvalidInput
from docexchange.services import audit
from docexchange.services.authz import Actor, require_role
from docexchange.services.directory.units import EXPORT_FIELDS, UnitInput, unit_fields
from docexchange.storage.base import utcnow
from docexchange.storage.models import Unit

logger = logging.getLogger(__name__)


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
        # A bulk write: the ORM's hook that keeps what a unit is found by does not run.
        values["search_text"] = search_text(row.name, row.abbreviation)
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
    return [unit_fields(units[code]) for code in order]


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


def import_file(
    session: Session, data: bytes, fmt: str, *, max_rows: int, actor: Actor | None
) -> ImportResult:
    """Check the actor, then parse and import a CSV or JSON file (see :func:`import_tree`)."""
    if actor is not None:
        require_role(actor, Role.ADMIN)
    rows = parse_import(data, fmt, max_rows=max_rows)
    return import_tree(session, rows, actor=actor, source=fmt)
