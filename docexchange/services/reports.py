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
from datetime import date, datetime, timedelta
from typing import Any

from openpyxl import Workbook
from sqlalchemy import ColumnElement, Select, and_, case, func, select
from sqlalchemy.orm import Session

from docexchange.domain.accounts import Role
from docexchange.domain.cells import csv_cell, is_formula_like
from docexchange.domain.documents import DocumentState, Secrecy, SignatureKind, format_number
from docexchange.domain.reports import (
    Counts,
    Period,
    PeriodKind,
    Scope,
    period_of,
    rank,
    total,
)
from docexchange.domain.timeutil import VN_TZ, parse_date, today_vn
from docexchange.errors import Forbidden, NotFound, invalid_field
from docexchange.services import audit, directory
from docexchange.services.authz import Actor, is_in_subtree, require_role
from docexchange.storage.models import (
    CertificateRecord,
    Document,
    InboxEntry,
    PaperRecord,
    Unit,
    User,
)

__all__ = [
    "DIRECTIONS",
    "DRILL_KINDS",
    "PAPER_FIELDS",
    "Coverage",
    "DrillRow",
    "Export",
    "RatioReport",
    "UnitFigures",
    "electronic_ratio",
    "export_rows",
    "list_paper",
    "monthly",
    "parse_targets",
    "register_paper",
    "render_ratio",
    "report_documents",
    "signature_coverage",
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
    if day > today_vn():
        raise invalid_field("date", "reason_not_in_future")
    secrecy = data.get("secrecy") or Secrecy.NONE.value
    if not isinstance(secrecy, str) or secrecy not in {s.value for s in Secrecy}:
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


def _sent_electronically() -> ColumnElement[bool]:
    """A document went fully electronic: sent through the system, no paper copy, and its
    current file verified valid (a personal and an organisation signature, both valid)."""
    return and_(
        Document.sent_at.is_not(None),
        Document.paper_copy.is_(False),
        Document.verified_valid.is_(True),  # on the current file (see the column)
    )


def _per_unit(
    session: Session, codes: Sequence[str] | Select[tuple[str]], period: Period
) -> dict[str, Counts]:
    """Each unit's own counts in ``period`` (three grouped queries) for ``codes`` (a list, or
    a query giving them)."""
    counts: dict[str, dict[str, int]] = {}

    def add(code: str, **values: int) -> None:
        row = counts.setdefault(code, {})
        for name, value in values.items():
            row[name] = row.get(name, 0) + int(value or 0)

    secret = Document.secrecy != Secrecy.NONE.value
    electronic = _sent_electronically()
    for code, issued, sent_electronic, secret_sent in session.execute(
        select(
            Document.sender_code,
            func.count(),
            func.sum(case((and_(~secret, electronic), 1), else_=0)),
            func.sum(case((secret, 1), else_=0)),
        )
        .where(
            Document.sender_code.in_(codes),
            Document.state == DocumentState.ISSUED,
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


@dataclass(frozen=True)
class _Node:
    """What the report needs of a unit."""

    code: str
    name: str
    level: str
    parent_code: str | None
    successor_code: str | None


def _successor(units: Mapping[str, _Node], code: str) -> str:
    """The unit ``code`` was merged into, followed to the end, within ``units``."""
    seen = {code}
    while (nxt := units[code].successor_code) and nxt in units and nxt not in seen:
        seen.add(nxt)
        code = nxt
    return code


def _merged_into(session: Session, codes: Sequence[str] | Select[tuple[str]]) -> list[str]:
    """Units outside ``codes`` merged (directly or along a chain) into one of them."""
    found: list[str] = []
    frontier: Sequence[str] | Select[tuple[str]] = codes
    while True:
        step = list(
            session.scalars(
                select(Unit.code).where(
                    Unit.successor_code.in_(frontier),
                    ~Unit.code.in_(codes),
                    Unit.code.not_in(found),
                )
            )
        )
        if not step:
            return found
        found.extend(step)
        frontier = step


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
    codes = [code] if scope is Scope.SELF else directory.subtree_select(code)
    merged_in = _merged_into(session, codes) if rollup else []
    units = {
        row[0]: _Node(*row)
        for row in session.execute(
            select(Unit.code, Unit.name, Unit.level, Unit.parent_code, Unit.successor_code).where(
                Unit.code.in_(codes) | Unit.code.in_(merged_in)
            )
        )
    }
    own = _per_unit(session, codes, period)
    if merged_in:
        own.update(_per_unit(session, merged_in, period))
    if rollup:
        moved: dict[str, Counts] = {}
        for unit_code, counts in own.items():
            heir = _successor(units, unit_code)
            moved[heir] = moved.get(heir, Counts()) + counts
        own = moved

    def figures(u: _Node, counts: Counts, place: int | None = None) -> UnitFigures:
        return UnitFigures(u.code, u.name, u.level, counts, goals.get(u.level, 1.0), place)

    if scope is Scope.SELF:
        return RatioReport(figures(units[code], own.get(code, Counts())), period, scope, rollup, [])
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
    return RatioReport(figures(units[code], whole), period, scope, rollup, listed)


# --- exports ------------------------------------------------------------------------------

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: The fields of a paper-register entry, as the API and the page take them.
PAPER_FIELDS = ("direction", "date", "number", "subject", "counterpart", "secrecy")

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


@dataclass(frozen=True)
class Export:
    """A file to download."""

    data: bytes
    mimetype: str
    filename: str


def render_ratio(report: RatioReport, fmt: str) -> Export:
    """The report as ``csv`` (UTF-8 with BOM, for spreadsheet programs) or ``xlsx``.

    :raises InvalidInput: ``invalid_field`` for another format.
    """
    title = (
        f"Tỷ lệ văn bản điện tử — {report.unit.name} ({report.unit.code}), "
        f"{report.period.first.isoformat()} đến {report.period.last.isoformat()}"
    )
    rows = export_rows(report)
    name = f"ty-le-dien-tu-{report.unit.code}-{report.period.first}-{report.period.last}"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(EXPORT_HEADINGS)
        writer.writerows([csv_cell(v) for v in row] for row in rows)
        data = ("\ufeff" + buffer.getvalue()).encode("utf-8")
        return Export(data, "text/csv", f"{name}.csv")
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
        for cell in sheet[sheet.max_row]:
            if is_formula_like(cell.value):
                cell.data_type = "s"  # text, never a formula
    for column, width in zip("ABCDEFGHIJ", (16, 40, 12, 14, 12, 12, 14, 12, 12, 14), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return Export(out.getvalue(), XLSX_MIMETYPE, f"{name}.xlsx")


# --- drill-down ---------------------------------------------------------------------------

#: What a number of the report counts, for the list behind it.
DRILL_KINDS = ("sent", "sent_electronic", "received", "received_electronic", "secret")


@dataclass(frozen=True)
class DrillRow:
    """One document behind a number of the report."""

    source: str  # document | inbox | paper
    id: str
    day: date
    unit_code: str
    number: str | None
    subject: str
    electronic: bool


def report_documents(
    session: Session,
    *,
    actor: Actor,
    unit: str | None,
    period: Period,
    scope: Scope,
    kind: str,
    rollup: bool = False,
    limit: int = 500,
) -> list[DrillRow]:
    """The documents behind one number of the ratio report (the same rules, listed;
    ``rollup``: with those of units merged into the ones shown).

    :raises InvalidInput: ``invalid_field`` (kind); :raises Forbidden: ``unit_forbidden``.
    """
    if kind not in DRILL_KINDS:
        raise invalid_field("kind", "reason_one_of", values=", ".join(DRILL_KINDS))
    code = unit or actor.unit_code
    if session.get(Unit, code) is None:
        raise NotFound("unit_not_found", code=code[:20])
    _check_access(session, actor, code, scope)
    codes: list[str] | Select[tuple[str]] = (
        [code] if scope is Scope.SELF else directory.subtree_select(code)
    )
    merged_in = _merged_into(session, codes) if rollup else []
    if merged_in:
        shown = codes if isinstance(codes, list) else list(session.scalars(codes))
        codes = [*shown, *merged_in]
    rows: list[DrillRow] = []
    secret_doc = Document.secrecy != Secrecy.NONE.value
    electronic = _sent_electronically()
    if kind not in {"received", "received_electronic"}:
        query = select(Document).where(
            Document.sender_code.in_(codes),
            Document.state == DocumentState.ISSUED,
            Document.issued_at >= period.start,
            Document.issued_at < period.end,
            secret_doc if kind == "secret" else ~secret_doc,
        )
        if kind == "sent_electronic":
            query = query.where(electronic)
        for d in session.scalars(query.order_by(Document.issued_at).limit(limit)):
            is_electronic = bool(d.sent_at and not d.paper_copy and d.verified_valid)
            issued = d.issued_at.astimezone(VN_TZ).date() if d.issued_at else period.first
            number = f"{format_number(d.number)}/{d.notation}" if d.number else None
            rows.append(
                DrillRow("document", d.id, issued, d.sender_code, number, d.subject, is_electronic)
            )
    if kind in ("received", "received_electronic"):
        query_in = select(InboxEntry).where(
            InboxEntry.recipient_code.in_(codes),
            InboxEntry.received_at >= period.start,
            InboxEntry.received_at < period.end,
        )
        if kind == "received_electronic":
            query_in = query_in.where(InboxEntry.verified_valid.is_(True), ~InboxEntry.paper_copy)
        for e in session.scalars(query_in.order_by(InboxEntry.received_at).limit(limit)):
            rows.append(
                DrillRow(
                    "inbox",
                    e.id,
                    e.received_at.astimezone(VN_TZ).date(),
                    e.recipient_code,
                    e.number,
                    e.subject,
                    e.verified_valid and not e.paper_copy,
                )
            )
    if kind in ("sent", "received", "secret"):
        paper = select(PaperRecord).where(
            PaperRecord.unit_code.in_(codes),
            PaperRecord.day >= period.first,
            PaperRecord.day <= period.last,
        )
        if kind == "secret":
            paper = paper.where(PaperRecord.secrecy != Secrecy.NONE.value)
        else:
            paper = paper.where(
                PaperRecord.direction == kind, PaperRecord.secrecy == Secrecy.NONE.value
            )
        for p in session.scalars(paper.order_by(PaperRecord.day).limit(limit)):
            rows.append(DrillRow("paper", p.id, p.day, p.unit_code, p.number, p.subject, False))
    return sorted(rows, key=lambda r: (r.day, r.source, r.id))[:limit]


def monthly(
    session: Session,
    *,
    actor: Actor,
    unit: str | None,
    scope: Scope,
    last: date,
    months: int = 12,
    rollup: bool = False,
) -> list[tuple[Period, Counts]]:
    """The figures month by month, the ``months`` months up to the one holding ``last``."""
    periods = [period_of(PeriodKind.MONTH, last)]
    while len(periods) < months:
        periods.insert(0, period_of(PeriodKind.MONTH, periods[0].first - timedelta(days=1)))
    return [
        (
            p,
            electronic_ratio(
                session, actor=actor, unit=unit, period=p, scope=scope, rollup=rollup
            ).unit.counts,
        )
        for p in periods
    ]


# --- signature coverage -------------------------------------------------------------------

#: Certificates that expire within this many days are listed.
EXPIRY_WARNING_DAYS = 30


@dataclass
class CoverageRow:
    """How many documents of a unit (or a signer) carry valid signatures."""

    key: str
    name: str
    issued: int = 0
    issued_personal_valid: int = 0
    issued_organisation_valid: int = 0
    issued_both_valid: int = 0
    received: int = 0
    received_personal_valid: int = 0
    received_organisation_valid: int = 0
    received_both_valid: int = 0


@dataclass(frozen=True)
class CoverageFailure:
    """A document without a valid personal or organisation signature, and why."""

    source: str  # document | inbox
    id: str
    unit_code: str
    number: str | None
    subject: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class ExpiringCertificate:
    subject: str
    serial: str
    kind: str
    owner: str
    not_after: datetime


@dataclass(frozen=True)
class Coverage:
    units: list[CoverageRow]
    signers: list[CoverageRow]
    failures: list[CoverageFailure]
    expiring: list[ExpiringCertificate]


def _judged(report: Mapping[str, Any] | None) -> tuple[bool, bool, tuple[str, ...]]:
    """(valid personal signature, valid organisation signature, reasons) of a stored report."""
    if not report:
        return False, False, ("not_verified",)
    signatures = report.get("signatures") or []
    passed = {s.get("kind") for s in signatures if s.get("indication") == "TOTAL_PASSED"}
    personal = SignatureKind.PERSONAL in passed
    organisation = SignatureKind.ORGANIZATION in passed
    reasons: list[str] = []
    for s in signatures:
        if s.get("indication") != "TOTAL_PASSED":
            reasons.extend(s.get("messages") or [s.get("sub_indication") or s.get("indication")])
    reasons.extend(report.get("messages") or [])
    if not personal:
        reasons.append("no_valid_personal_signature")
    if not organisation:
        reasons.append("no_valid_organisation_signature")
    return personal, organisation, tuple(dict.fromkeys(str(r) for r in reasons if r))


def signature_coverage(
    session: Session,
    *,
    actor: Actor,
    unit: str | None,
    period: Period,
    scope: Scope,
    now: datetime,
    limit: int = 1000,
) -> Coverage:
    """Auditors: per unit and per signer, the documents issued and received in ``period``
    and how many carry a valid personal and a valid organisation signature (from the reports
    kept with them: a document never checked counts as not valid, reason ``not_verified``);
    the failing documents with their reasons; certificates expiring within 30 days.

    :raises NotFound: ``unit_not_found``; :raises Forbidden: ``unit_forbidden``.
    """
    code = unit or actor.unit_code
    if session.get(Unit, code) is None:
        raise NotFound("unit_not_found", code=code[:20])
    _check_access(session, actor, code, scope)
    codes = [code] if scope is Scope.SELF else directory.subtree_select(code)
    names = dict(session.execute(select(Unit.code, Unit.name).where(Unit.code.in_(codes))).all())
    units = {c: CoverageRow(c, n) for c, n in sorted(names.items())}
    signers: dict[str, CoverageRow] = {}
    failures: list[CoverageFailure] = []
    people = dict(session.execute(select(User.username, User.full_name)).all())
    issued = session.scalars(
        select(Document).where(
            Document.sender_code.in_(codes),
            Document.state == DocumentState.ISSUED,
            Document.issued_at >= period.start,
            Document.issued_at < period.end,
        )
    )
    for d in issued:
        current = d.verified_valid is not None and d.verified_sha256 == d.current_sha256
        personal, organisation, reasons = _judged(d.verification if current else None)
        leader = next((s.signer for s in d.signatures if s.kind == SignatureKind.PERSONAL), "")
        rows = [units[d.sender_code]]
        if leader:
            rows.append(signers.setdefault(leader, CoverageRow(leader, people.get(leader, ""))))
        for row in rows:
            row.issued += 1
            row.issued_personal_valid += personal
            row.issued_organisation_valid += organisation
            row.issued_both_valid += personal and organisation
        if not (personal and organisation) and len(failures) < limit:
            number = f"{format_number(d.number)}/{d.notation}" if d.number else None
            failures.append(
                CoverageFailure("document", d.id, d.sender_code, number, d.subject, reasons)
            )
    arrived = session.scalars(
        select(InboxEntry).where(
            InboxEntry.recipient_code.in_(codes),
            InboxEntry.received_at >= period.start,
            InboxEntry.received_at < period.end,
        )
    )
    for e in arrived:
        personal, organisation, reasons = _judged(e.verification)
        row = units[e.recipient_code]
        row.received += 1
        row.received_personal_valid += personal
        row.received_organisation_valid += organisation
        row.received_both_valid += personal and organisation
        if not (personal and organisation) and len(failures) < limit:
            failures.append(
                CoverageFailure("inbox", e.id, e.recipient_code, e.number, e.subject, reasons)
            )
    owners = select(User.username).where(User.unit_code.in_(codes))
    expiring = [
        ExpiringCertificate(
            c.subject, c.serial, c.kind, c.owner_username or c.owner_unit_code or "", c.not_after
        )
        for c in session.scalars(
            select(CertificateRecord)
            .where(
                CertificateRecord.not_after >= now,
                CertificateRecord.not_after < now + timedelta(days=EXPIRY_WARNING_DAYS),
                (CertificateRecord.owner_unit_code.in_(codes))
                | (CertificateRecord.owner_username.in_(owners)),
            )
            .order_by(CertificateRecord.not_after)
        )
    ]
    return Coverage(
        [u for u in units.values() if u.issued or u.received],
        sorted(signers.values(), key=lambda r: r.key),
        failures,
        expiring,
    )
