"""The fully-electronic send/receive ratio per unit and over a subtree, and its trend."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, Select, and_, case, func, select
from sqlalchemy.orm import Session

from docexchange.domain.accounts import Role
from docexchange.domain.documents import DocumentState, Secrecy
from docexchange.domain.reports import (
    Counts,
    Direction,
    Period,
    PeriodKind,
    Scope,
    period_of,
    rank,
    total,
)
from docexchange.errors import Forbidden, NotFound, invalid_field
from docexchange.services import directory
from docexchange.services.authz import Actor, is_in_subtree
from docexchange.storage.models import (
    Document,
    InboxEntry,
    PaperRecord,
    Unit,
)


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
        if direction == Direction.SENT:
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
