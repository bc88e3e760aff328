"""Spreadsheet cells that cannot turn into formulas (CSV/formula injection, OWASP).

A unit named ``=HYPERLINK("http://…")`` must reach the reader of an export as that text, not
as a live formula. Text starting with ``= + - @``, a tab or a carriage return is a formula
trigger in spreadsheet programs.
"""

from __future__ import annotations

__all__ = ["FORMULA_TRIGGERS", "csv_cell", "from_csv_cell", "is_formula_like"]

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(value: object) -> bool:
    """Whether a spreadsheet program would read ``value`` as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)


def csv_cell(value: object) -> object:
    """``value`` for a CSV cell: formula-like text behind an apostrophe (shown as text)."""
    if value is None:
        return ""
    return f"'{value}" if is_formula_like(value) else value


def from_csv_cell(value: str) -> str:
    """Undo :func:`csv_cell` on text read back from our own CSV (a re-import)."""
    if value.startswith("'") and is_formula_like(value[1:]):
        return value[1:]
    return value
