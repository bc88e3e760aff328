"""Numbers that run per unit, year and series: issued documents, and the incoming register.

A counter row per (unit, year, series) is bumped under its row lock until the transaction
ends, so concurrent takers get consecutive numbers, and a rollback gives the number back.
"""

from __future__ import annotations

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from docexchange.errors import Conflict
from docexchange.storage.models import NumberCounter

#: The series of the incoming register ("sổ văn bản đến", NĐ 30 Điều 22): one per unit and
#: year, shared by documents that arrived electronically and on paper.
INCOMING_SERIES = "DEN"


def next_number(session: Session, unit_code: str, year: int, series: str) -> int:
    """Take the next number of a series atomically (row lock until commit)."""
    for _attempt in range(2):
        bumped = session.execute(
            update(NumberCounter)
            .where(
                NumberCounter.unit_code == unit_code,
                NumberCounter.year == year,
                NumberCounter.series == series,
            )
            .values(last_number=NumberCounter.last_number + 1)
            .returning(NumberCounter.last_number)
        ).scalar_one_or_none()
        if bumped is not None:
            return int(bumped)
        try:
            with session.begin_nested():
                session.execute(
                    insert(NumberCounter).values(
                        unit_code=unit_code, year=year, series=series, last_number=1
                    )
                )
            return 1
        except IntegrityError:
            continue  # another transaction created the counter first: bump it instead
    raise Conflict("numbering_busy", code=unit_code)
