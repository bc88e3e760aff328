"""Finding documents by what a clerk types: Vietnamese with or without its marks.

Each searchable row keeps a *folded* copy of its text (lower case, marks removed, "đ" as
"d"), and a search folds what was typed the same way, so "quyet dinh" finds "Quyết định"
and "QUYẾT ĐỊNH" alike. Each word typed must appear (in any order); the database matches
them with ``LIKE '%word%'`` (a trigram index makes that fast on PostgreSQL).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = [
    "MAX_PER_PAGE",
    "MAX_TERMS",
    "Page",
    "Paged",
    "fold",
    "found_in",
    "like_pattern",
    "search_text",
    "terms",
]

#: A page holds at most this many rows (``per_page``).
MAX_PER_PAGE = 200
#: Words of a search beyond this many are ignored (each one costs a match).
MAX_TERMS = 8

T = TypeVar("T")

_D = str.maketrans({"đ": "d", "Đ": "d"})


def fold(text: str) -> str:
    """``text`` lower case, without Vietnamese marks, spaces collapsed.

    >>> fold("Quyết  định số 12/QĐ-UBND")
    'quyet dinh so 12/qd-ubnd'
    """
    decomposed = unicodedata.normalize("NFD", text.translate(_D))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def search_text(*parts: str | None) -> str:
    """What a row is found by: its parts (subject, number, type…) folded into one text."""
    return fold(" ".join(p for p in parts if p))


def terms(query: str | None) -> tuple[str, ...]:
    """The folded words of a search (none for an empty one), at most :data:`MAX_TERMS`."""
    if not query:
        return ()
    return tuple(dict.fromkeys(fold(query).split()))[:MAX_TERMS]


def found_in(query: str | None, *parts: str | None) -> bool:
    """Whether every word of ``query`` is in ``parts`` (for rows already in memory)."""
    text = search_text(*parts)
    return all(word in text for word in terms(query))


def like_pattern(term: str) -> str:
    """``%term%`` for ``LIKE … ESCAPE '\\'``, the term's own ``%``, ``_`` and ``\\`` literal."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class Page:
    """Which page of a list: ``number`` from 1, ``size`` rows each."""

    number: int = 1
    size: int = 50

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


@dataclass(frozen=True)
class Paged(Generic[T]):
    """One page of a list and how many rows the whole list has."""

    items: Sequence[T]
    total: int
    page: Page

    @classmethod
    def of(cls, rows: Sequence[T], page: Page) -> Paged[T]:
        """The page of ``rows`` (all of a list, in order)."""
        return cls(rows[page.offset : page.offset + page.size], len(rows), page)

    @property
    def pages(self) -> int:
        """How many pages the list has (at least one, even when empty)."""
        return max(1, -(-self.total // self.page.size))
