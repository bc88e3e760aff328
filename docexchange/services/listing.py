"""Search, date filters and pages, shared by every list (documents, inbox, outbox, paper).

A search word matches a row when its folded ``search_text`` contains it, or (where the list
has an issuer) when the name or abbreviation of the issuing unit does: "ubnd tinh quyet
dinh" finds the Quyết định of Ủy ban nhân dân tỉnh. Every word must match.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, func, or_, select
from sqlalchemy.orm import Session

from docexchange.domain.search import Page, Paged, like_pattern, terms
from docexchange.domain.timeutil import VN_TZ
from docexchange.storage.models import Unit

__all__ = ["day_span", "page_by_key", "page_of", "text_matches"]

T = TypeVar("T")


def text_matches(
    session: Session,
    query: str | None,
    text: SQLColumnExpression[str],
    *,
    issuer: SQLColumnExpression[str] | None = None,
) -> list[ColumnElement[bool]]:
    """One condition per word of ``query``: the word is in ``text``, or in the name of
    the unit whose code is in ``issuer``."""
    found: list[ColumnElement[bool]] = []
    for word in terms(query):
        pattern = like_pattern(word)
        match: ColumnElement[bool] = text.like(pattern, escape="\\")
        if issuer is not None:
            named = select(Unit.code).where(Unit.search_text.like(pattern, escape="\\"))
            match = or_(match, issuer.in_(named))
        found.append(match)
    return found


def day_span(
    moment: SQLColumnExpression[datetime], first: date | None, last: date | None
) -> list[ColumnElement[bool]]:
    """``moment`` falls on a Vietnam calendar day from ``first`` to ``last`` (either open)."""
    found: list[ColumnElement[bool]] = []
    if first is not None:
        found.append(moment >= datetime.combine(first, time(), VN_TZ))
    if last is not None:
        found.append(moment < datetime.combine(last + timedelta(days=1), time(), VN_TZ))
    return found


def page_by_key(
    session: Session, entity: Any, keys: Select[*tuple[Any, ...]], page: Page
) -> Paged[Any]:
    """One page of ``entity`` rows: ``keys`` selects their ids (in order, filtered), which
    an index can answer alone; only the page's rows are then read whole."""
    total = session.scalar(
        keys.with_only_columns(func.count(), maintain_column_froms=True).order_by(None)
    )
    ids = list(session.scalars(keys.limit(page.size).offset(page.offset)))
    rows = {row.id: row for row in session.scalars(select(entity).where(entity.id.in_(ids)))}
    return Paged([rows[i] for i in ids if i in rows], total or 0, page)


def page_of(session: Session, query: Select[*tuple[Any, ...]], page: Page) -> Paged[Any]:
    """One page of ``query`` (already in its order) and how many rows it has in all.

    A query of one entity gives its objects; of several, the rows.
    """
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    result = session.execute(query.limit(page.size).offset(page.offset))
    rows: Sequence[Any] = (
        result.scalars().all() if len(query.column_descriptions) == 1 else result.all()
    )
    return Paged(rows, total or 0, page)
