"""The fully-electronic ratio (DESIGN.md §3): periods, counts, ratios, ranking — pure rules.

For a unit U and a period P (both dates included, in Asia/Ho_Chi_Minh):
``sent_total`` counts the documents U issued in P, electronic or registered on paper, secret
ones excluded; ``sent_electronic`` those of them sent through the system with a valid personal
and a valid organisation signature and no paper copy. ``received_*`` likewise for what U
received (registered on paper, or arrived verified valid and without a paper copy). A ratio
is electronic / total, ``None`` when the total is 0. Secret documents are counted beside.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from docexchange.domain.timeutil import VN_TZ, parse_date
from docexchange.errors import InvalidInput, invalid_field

__all__ = [
    "Counts",
    "Direction",
    "Period",
    "PeriodKind",
    "Scope",
    "parse_period",
    "parse_scope",
    "period_of",
    "rank",
    "ratio",
    "total",
]


class Direction(StrEnum):
    """Which way a paper document went: sent by the unit, or received."""

    SENT = "sent"
    RECEIVED = "received"


class Scope(StrEnum):
    SELF = "self"
    SUBTREE = "subtree"


class PeriodKind(StrEnum):
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


@dataclass(frozen=True)
class Period:
    """Calendar days ``first`` to ``last``, both included, in Vietnam time."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        """The first instant (UTC) of the period."""
        return datetime.combine(self.first, time(), VN_TZ).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """The first instant (UTC) after the period."""
        return datetime.combine(self.last + timedelta(days=1), time(), VN_TZ).astimezone(UTC)


def period_of(kind: PeriodKind, day: date) -> Period:
    """The week (Monday to Sunday), month, quarter or year that contains ``day``."""
    if kind is PeriodKind.WEEK:
        first = day - timedelta(days=day.weekday())
        return Period(first, first + timedelta(days=6))
    if kind is PeriodKind.MONTH:
        first = day.replace(day=1)
    elif kind is PeriodKind.QUARTER:
        first = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    else:
        first = date(day.year, 1, 1)
    months = {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.YEAR: 12}[kind]
    month = first.month - 1 + months
    following = date(first.year + month // 12, month % 12 + 1, 1)
    return Period(first, following - timedelta(days=1))


#: Longest period a report covers (a few years of history).
MAX_DAYS = 3 * 366


def parse_period(first: object, last: object, *, kind: object = None, today: date) -> Period:
    """``from``/``to`` dates, or a ``period`` kind containing ``from`` (default: today).

    :raises InvalidInput: ``invalid_date``, ``invalid_period``.
    """
    start = parse_date(first, field="from")
    if kind not in (None, ""):
        try:
            chosen = PeriodKind(str(kind))
        except ValueError:
            raise InvalidInput("invalid_period", reason=str(kind)[:20]) from None
        return period_of(chosen, start or today)
    end = parse_date(last, field="to")
    if start is None or end is None:
        start, end = (start or end or today), (end or start or today)
    if end < start or (end - start).days > MAX_DAYS:
        raise InvalidInput("invalid_period", reason=f"{start.isoformat()}…{end.isoformat()}")
    return Period(start, end)


def parse_scope(value: object, *, default: Scope = Scope.SELF) -> Scope:
    """``self`` or ``subtree`` (``default`` when absent).

    :raises InvalidInput: ``invalid_field``.
    """
    if value in (None, ""):
        return default
    try:
        return Scope(str(value))
    except ValueError:
        raise invalid_field("scope", "reason_one_of", values="self, subtree") from None


def ratio(electronic: int, total: int) -> float | None:
    """electronic / total, ``None`` when nothing was sent or received."""
    return electronic / total if total else None


@dataclass(frozen=True)
class Counts:
    """What a unit (or a subtree) sent and received in a period."""

    sent_total: int = 0
    sent_electronic: int = 0
    received_total: int = 0
    received_electronic: int = 0
    secret_sent: int = 0
    secret_received: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.sent_total + other.sent_total,
            self.sent_electronic + other.sent_electronic,
            self.received_total + other.received_total,
            self.received_electronic + other.received_electronic,
            self.secret_sent + other.secret_sent,
            self.secret_received + other.secret_received,
        )

    @property
    def sent_ratio(self) -> float | None:
        return ratio(self.sent_electronic, self.sent_total)

    @property
    def received_ratio(self) -> float | None:
        return ratio(self.received_electronic, self.received_total)

    @property
    def ratio(self) -> float | None:
        """Sent and received together: the figure units are ranked by."""
        return ratio(
            self.sent_electronic + self.received_electronic,
            self.sent_total + self.received_total,
        )

    @property
    def secret_excluded(self) -> int:
        return self.secret_sent + self.secret_received


def total(counts: Iterable[Counts]) -> Counts:
    """The sum of ``counts``."""
    out = Counts()
    for item in counts:
        out += item
    return out


def rank(rows: Mapping[str, Counts]) -> list[str]:
    """Codes best first: by ratio (units with nothing to count last), then by volume, code."""
    return sorted(
        rows,
        key=lambda code: (
            rows[code].ratio is None,
            -(rows[code].ratio or 0.0),
            -(rows[code].sent_total + rows[code].received_total),
            code,
        ),
    )
