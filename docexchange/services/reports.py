"""The paper register and the fully-electronic ratio report (DESIGN.md §3, §4.4).

Counts come from three places, each one grouped query per report (indexes on unit and
date): documents issued here (``documents``), documents that arrived (``inbox_entries``) and
documents registered on paper (``paper_records``). They are summed up the unit tree in
Python, so a subtree report of a province costs the same three queries as a commune's.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from docexchange.domain.accounts import Role
from docexchange.domain.documents import DocumentState, Secrecy
from docexchange.domain.reports import Counts, Period, Scope, rank, total
from docexchange.domain.timeutil import parse_date
from docexchange.errors import Forbidden, NotFound, invalid_field
from docexchange.services import audit, directory
from docexchange.services.authz import Actor, is_in_subtree, require_role
from docexchange.storage.models import Document, InboxEntry, PaperRecord, Unit

__all__ = [
    "DIRECTIONS",
    "RatioReport",
    "UnitFigures",
    "electronic_ratio",
    "export_rows",
    "list_paper",
    "parse_targets",
    "register_paper",
    "render_ratio",
]

DIRECTIONS = ("sent", "received")


# --- paper register -----------------------------------------------------------------------


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
    secrecy = data.get("secrecy") or Secrecy.NONE.value
    if secrecy not in {s.value for s in Secrecy}:
        raise invalid_field("secrecy", "reason_one_of", values=", ".join(s.value for s in Secrecy))
    record = PaperRecord(
        id=uuid.uuid4().hex,
        unit_code=actor.unit_code,
        direction=str(direction),
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


# --- the ratio ----------------------------------------------------------------------------


def parse_targets(text: str) -> dict[str, float]:
    """``district=1,commune=0.9`` → targets per level (0..1); malformed parts are refused.

    :raises InvalidInput: ``invalid_field``.
    """
    targets: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        level, _, value = part.partition("=")
        try:
            number = float(value)
        except ValueError:
            raise invalid_field("RATIO_TARGETS", "reason_one_of", values="level=0..1") from None
        if not 0 <= number <= 1:
            raise invalid_field("RATIO_TARGETS", "reason_one_of", values="level=0..1")
        targets[level.strip()] = number
    return targets


@dataclass(frozen=True)
class UnitFigures:
    """One unit's figures (its own, or with everything below it)."""

    code: str
    name: str
    level: str
    counts: Counts
    target: float
    rank: int | None = None

    @property
    def below_target(self) -> bool:
        ratio = self.counts.ratio
        return ratio is not None and ratio < self.target


@dataclass(frozen=True)
class RatioReport:
    unit: UnitFigures
    period: Period
    scope: Scope
    rollup: bool
    children: list[UnitFigures]


def _check_access(session: Session, actor: Actor, code: str, scope: Scope) -> None:
    """Everyone sees their own unit; leaders and auditors their subtree; admins all."""
    if actor.has(Role.ADMIN):
        return
    if code == actor.unit_code and scope is Scope.SELF:
        return
    if actor.has(Role.SIGNER, Role.AUDITOR) and is_in_subtree(session, code, actor.unit_code):
        return
    raise Forbidden("unit_forbidden", code=code)


def _per_unit(session: Session, codes: Sequence[str], period: Period) -> dict[str, Counts]:
    """Each unit's own counts in ``period`` (three grouped queries)."""
    counts: dict[str, dict[str, int]] = {}

    def add(code: str, **values: int) -> None:
        row = counts.setdefault(code, {})
        for name, value in values.items():
            row[name] = row.get(name, 0) + int(value or 0)

    secret = Document.secrecy != Secrecy.NONE.value
    electronic = and_(
        Document.sent_at.is_not(None),
        Document.paper_copy.is_(False),
        Document.verified_valid.is_(True),
        Document.verified_sha256 == Document.current_sha256,
    )
    for code, issued, sent_electronic, secret_sent in session.execute(
        select(
            Document.sender_code,
            func.count(),
            func.sum(case((and_(~secret, electronic), 1), else_=0)),
            func.sum(case((secret, 1), else_=0)),
        )
        .where(
            Document.sender_code.in_(codes),
            Document.state == DocumentState.ISSUED.value,
            Document.issued_at >= period.start,
            Document.issued_at < period.end,
        )
        .group_by(Document.sender_code)
    ):
        add(
            code,
            sent_total=issued - (secret_sent or 0),
            sent_electronic=sent_electronic,
            secret_sent=secret_sent,
        )
    for code, arrived, received_electronic in session.execute(
        select(
            InboxEntry.recipient_code,
            func.count(),
            func.sum(
                case(
                    (and_(InboxEntry.verified_valid.is_(True), ~InboxEntry.paper_copy), 1),
                    else_=0,
                )
            ),
        )
        .where(
            InboxEntry.recipient_code.in_(codes),
            InboxEntry.received_at >= period.start,
            InboxEntry.received_at < period.end,
        )
        .group_by(InboxEntry.recipient_code)
    ):
        add(code, received_total=arrived, received_electronic=received_electronic)
    paper_secret = PaperRecord.secrecy != Secrecy.NONE.value
    for code, direction, registered, secret_count in session.execute(
        select(
            PaperRecord.unit_code,
            PaperRecord.direction,
            func.count(),
            func.sum(case((paper_secret, 1), else_=0)),
        )
        .where(
            PaperRecord.unit_code.in_(codes),
            PaperRecord.day >= period.first,
            PaperRecord.day <= period.last,
        )
        .group_by(PaperRecord.unit_code, PaperRecord.direction)
    ):
        plain = registered - (secret_count or 0)
        if direction == "sent":
            add(code, sent_total=plain, secret_sent=secret_count)
        else:
            add(code, received_total=plain, secret_received=secret_count)
    return {code: Counts(**values) for code, values in counts.items()}


def _successor(units: Mapping[str, Unit], code: str) -> str:
    """The unit ``code`` was merged into, followed to the end, within ``units``."""
    seen = {code}
    while (nxt := units[code].successor_code) and nxt in units and nxt not in seen:
        seen.add(nxt)
        code = nxt
    return code


def electronic_ratio(
    session: Session,
    *,
    actor: Actor,
    unit: str | None,
    period: Period,
    scope: Scope,
    rollup: bool = False,
    targets: Mapping[str, float] | None = None,
) -> RatioReport:
    """The fully-electronic ratio of a unit (``self``) or of its subtree, each child unit
    listed with its own subtree's figures and ranked against its level's target.

    ``rollup``: documents of units merged into another (the 2025 reform) count for their
    successor, which is where they are listed; otherwise they stay under their old names.

    :raises NotFound: ``unit_not_found``; :raises Forbidden: ``unit_forbidden``.
    """
    code = unit or actor.unit_code
    root = session.get(Unit, code)
    if root is None:
        raise NotFound("unit_not_found", code=code[:20])
    _check_access(session, actor, code, scope)
    goals = targets or {}
    codes = [code] if scope is Scope.SELF else directory.subtree_codes(session, code)
    units = {u.code: u for u in session.scalars(select(Unit).where(Unit.code.in_(codes)))}
    own = _per_unit(session, codes, period)
    if rollup:
        moved: dict[str, Counts] = {}
        for unit_code, counts in own.items():
            heir = _successor(units, unit_code)
            moved[heir] = moved.get(heir, Counts()) + counts
        own = moved

    def figures(u: Unit, counts: Counts, place: int | None = None) -> UnitFigures:
        return UnitFigures(u.code, u.name, u.level, counts, goals.get(u.level, 1.0), place)

    if scope is Scope.SELF:
        return RatioReport(figures(root, own.get(code, Counts())), period, scope, rollup, [])
    top: dict[str, str] = {}  # unit -> the child of the root it sits under ("": the root)

    def anchor_of(unit_code: str) -> str:
        path, cursor, found = [], unit_code, ""
        while cursor not in top:
            if cursor == code:
                break
            path.append(cursor)
            parent = units[cursor].parent_code
            if parent == code:
                found = cursor
                break
            if parent is None or parent not in units:
                break
            cursor = parent
        else:
            found = top[cursor]
        for step in path:
            top[step] = found
        return found

    children = {
        u.code: u
        for u in units.values()
        if u.parent_code == code and not (rollup and _successor(units, u.code) != u.code)
    }
    sums: dict[str, Counts] = {c: Counts() for c in children}
    for unit_code, counts in own.items():
        anchor = anchor_of(unit_code)
        if anchor in sums:
            sums[anchor] += counts
    order = rank(sums)
    listed = [figures(children[c], sums[c], i + 1) for i, c in enumerate(order)]
    whole = total(own.values())
    return RatioReport(figures(root, whole), period, scope, rollup, listed)


# --- exports ------------------------------------------------------------------------------

#: Column headings of the exported sheet (Vietnamese, as the office files it).
EXPORT_HEADINGS = (
    "Mã định danh",
    "Đơn vị",
    "Văn bản đi",
    "Văn bản đi điện tử",
    "Tỷ lệ đi (%)",
    "Văn bản đến",
    "Văn bản đến điện tử",
    "Tỷ lệ đến (%)",
    "Tỷ lệ chung (%)",
    "Văn bản mật (không tính)",
)


def _percent(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 2)


def export_rows(report: RatioReport) -> list[tuple[object, ...]]:
    """The report as rows: the unit (or subtree total) first, then each child unit."""
    rows: list[tuple[object, ...]] = []
    for item in (report.unit, *report.children):
        c = item.counts
        rows.append(
            (
                item.code,
                item.name,
                c.sent_total,
                c.sent_electronic,
                _percent(c.sent_ratio),
                c.received_total,
                c.received_electronic,
                _percent(c.received_ratio),
                _percent(c.ratio),
                c.secret_excluded,
            )
        )
    return rows


def render_ratio(report: RatioReport, fmt: str) -> bytes:
    """The report as ``csv`` (UTF-8 with BOM, for spreadsheet programs) or ``xlsx``.

    :raises InvalidInput: ``invalid_field`` for another format.
    """
    title = (
        f"Tỷ lệ văn bản điện tử — {report.unit.name} ({report.unit.code}), "
        f"{report.period.first.isoformat()} đến {report.period.last.isoformat()}"
    )
    rows = export_rows(report)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(EXPORT_HEADINGS)
        writer.writerows(["" if v is None else v for v in row] for row in rows)
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")
    if fmt != "xlsx":
        raise invalid_field("format", "reason_one_of", values="json, csv, xlsx")
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook has its sheet
    sheet.title = "Tỷ lệ điện tử"
    sheet.append([title])
    sheet.append(list(EXPORT_HEADINGS))
    for row in rows:
        sheet.append(list(row))
    for column, width in zip("ABCDEFGHIJ", (16, 40, 12, 14, 12, 12, 14, 12, 12, 14), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
