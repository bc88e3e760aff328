"""Time in Vietnam: stored in UTC, shown and counted in Asia/Ho_Chi_Minh."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from docexchange.errors import InvalidInput

__all__ = ["VN_TZ", "parse_date", "today_vn"]

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def today_vn(now: datetime | None = None) -> date:
    """The calendar day in Vietnam at ``now`` (default: the current instant)."""
    instant = now or datetime.now(UTC)
    return instant.astimezone(VN_TZ).date()


def parse_date(value: object, *, field: str) -> date | None:
    """Parse ``YYYY-MM-DD``; empty or ``None`` gives ``None``.

    :raises InvalidInput: ``invalid_date``.
    """
    if value is None or value == "":
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or len(value) != 10:
        raise InvalidInput("invalid_date", field=field)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput("invalid_date", field=field) from None
