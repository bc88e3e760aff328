"""Time in Vietnam: stored in UTC, shown and counted in Asia/Ho_Chi_Minh.

:func:`utcnow` is the one place docexchange reads the clock: every "now" of the services
(issue dates, arrivals, token expiry, report periods, the paper register's "today") comes
from it. Tests pin it with ``time-machine`` (README, "Tests"), which moves this clock and
the libraries' own (pyHanko's signing time, the demo CA's OCSP and time stamps) together.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from docexchange.errors import InvalidInput

__all__ = ["VN_TZ", "now_vn", "parse_date", "today_vn", "utcnow"]

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def utcnow() -> datetime:
    """Now, as an aware UTC datetime with microseconds."""
    return datetime.now(UTC)


def now_vn() -> datetime:
    """Now, as an aware datetime in Vietnam time."""
    return utcnow().astimezone(VN_TZ)


def today_vn(now: datetime | None = None) -> date:
    """The calendar day in Vietnam at ``now`` (default: the current instant)."""
    instant = now or utcnow()
    return instant.astimezone(VN_TZ).date()


def stamp_time(moment: datetime) -> str:
    """``moment`` as a visible signature shows it: ``05/02/2027 09:30:01 +07:00``."""
    return moment.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M:%S +07:00")


#: The days a date given to the server may name: documents, deadlines and report periods
#: of an office (anything outside is a typing error, and would overflow date arithmetic).
EARLIEST_DATE, LATEST_DATE = date(1900, 1, 1), date(2199, 12, 31)


def parse_date(value: object, *, field: str) -> date | None:
    """Parse ``YYYY-MM-DD`` between 1900 and 2199; empty or ``None`` gives ``None``.

    :raises InvalidInput: ``invalid_date``.
    """
    if value is None or value == "":
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        parsed = value
    elif not isinstance(value, str) or len(value) != 10:
        raise InvalidInput("invalid_date", field=field)
    else:
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            raise InvalidInput("invalid_date", field=field) from None
    if not EARLIEST_DATE <= parsed <= LATEST_DATE:
        raise InvalidInput("invalid_date", field=field)
    return parsed
