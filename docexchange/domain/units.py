"""Units of government and their identifier codes (DOMAIN.md §2, DESIGN.md §3).

An identifier code (mã định danh, QĐ 28/2018 Điều 10.2.a) has 13 characters in four groups,
``CCC.BB.AA.Xnn``, read right to left: ``Xnn`` is the level-1 unit (a province ``Hnn`` or a
central body ``Gnn``), ``AA`` the level-2 unit under it, ``BB`` level 3 and ``CCC`` level 4;
a group of zeros means that level is not used.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from docexchange.errors import Conflict, InvalidInput

__all__ = [
    "ALLOWED_PARENTS",
    "CODE_PATTERN",
    "IdentifierCode",
    "RecipientSelector",
    "SelectorKind",
    "UnitLevel",
    "check_no_cycle",
    "check_parent_level",
    "check_validity",
    "is_active",
    "parse_code",
    "parse_selector",
]

CODE_PATTERN = re.compile(r"^(\d{3})\.(\d{2})\.(\d{2})\.([A-Z]\d{2})$")
GROUP_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class UnitLevel(StrEnum):
    """Administrative level of a unit (``district`` is historical since 2025-07-01)."""

    CENTRAL = "central"
    PROVINCE = "province"
    DISTRICT = "district"
    COMMUNE = "commune"
    DEPARTMENT = "department"

    @classmethod
    def parse(cls, value: object) -> UnitLevel:
        """Parse a level name.

        :raises InvalidInput: ``invalid_unit_level``.
        """
        try:
            return cls(str(value))
        except ValueError:
            raise InvalidInput("invalid_unit_level", level=str(value)) from None


#: Which parent levels each level may sit under (None = may be a root).
ALLOWED_PARENTS: Mapping[UnitLevel, frozenset[UnitLevel | None]] = {
    UnitLevel.CENTRAL: frozenset({None, UnitLevel.CENTRAL}),
    UnitLevel.PROVINCE: frozenset({None, UnitLevel.CENTRAL}),
    UnitLevel.DISTRICT: frozenset({UnitLevel.PROVINCE}),
    # 3-level tree: province -> district -> commune; 2-level tree: province -> commune.
    UnitLevel.COMMUNE: frozenset({UnitLevel.PROVINCE, UnitLevel.DISTRICT}),
    # An office or department may sit inside any unit, including another department.
    UnitLevel.DEPARTMENT: frozenset(
        {
            UnitLevel.CENTRAL,
            UnitLevel.PROVINCE,
            UnitLevel.DISTRICT,
            UnitLevel.COMMUNE,
            UnitLevel.DEPARTMENT,
        }
    ),
}


@dataclass(frozen=True)
class IdentifierCode:
    """A validated identifier code, decomposed into its level groups."""

    code: str
    level1: str
    level2: str
    level3: str
    level4: str

    @property
    def depth(self) -> int:
        """How many level groups are in use (1 for a province, 4 for the deepest units)."""
        depth = 1
        for group in (self.level2, self.level3, self.level4):
            if int(group) == 0:
                break
            depth += 1
        return depth

    @property
    def prefix_kind(self) -> str:
        """``central`` for G codes, ``province`` for H codes, else ``other``."""
        return {"G": "central", "H": "province"}.get(self.level1[0], "other")

    @property
    def structural_parent(self) -> str | None:
        """The code one level up by structure alone (the stored tree may differ)."""
        depth = self.depth
        if depth == 1:
            return None
        groups = [self.level4, self.level3, self.level2]
        # groups[3 - depth + 1] is the deepest group in use; zero it.
        idx = 3 - (depth - 1)
        groups[idx] = "0" * len(groups[idx])
        return f"{groups[0]}.{groups[1]}.{groups[2]}.{self.level1}"

    def as_dict(self) -> dict[str, object]:
        """The groups as a plain mapping (API output)."""
        return {
            "level1": self.level1,
            "level2": self.level2,
            "level3": self.level3,
            "level4": self.level4,
            "depth": self.depth,
            "structural_parent": self.structural_parent,
        }


def parse_code(value: object) -> IdentifierCode:
    """Validate and decompose an identifier code.

    >>> parse_code("000.21.12.H45").structural_parent
    '000.00.12.H45'

    :raises InvalidInput: ``invalid_unit_code``.
    """
    text = value if isinstance(value, str) else ""
    match = CODE_PATTERN.match(text)
    if match is None:
        shown = str(value)[:40] if value is not None else ""
        raise InvalidInput("invalid_unit_code", code=shown)
    level4, level3, level2, level1 = match.groups()
    return IdentifierCode(code=text, level1=level1, level2=level2, level3=level3, level4=level4)


def check_parent_level(level: UnitLevel, parent_level: UnitLevel | None) -> None:
    """Refuse a parent of a level this level cannot sit under.

    :raises InvalidInput: ``invalid_parent_level``.
    """
    if parent_level not in ALLOWED_PARENTS[level]:
        raise InvalidInput(
            "invalid_parent_level",
            level=level.value,
            parent_level=parent_level.value if parent_level else "root",
        )


def check_validity(valid_from: date | None, valid_to: date | None) -> None:
    """Refuse a validity window that ends before it starts.

    :raises InvalidInput: ``invalid_validity``.
    """
    if valid_from is not None and valid_to is not None and valid_to < valid_from:
        raise InvalidInput(
            "invalid_validity", valid_from=valid_from.isoformat(), valid_to=valid_to.isoformat()
        )


def is_active(valid_from: date | None, valid_to: date | None, on: date) -> bool:
    """Whether a unit with this validity window exists on day ``on``."""
    return (valid_from is None or valid_from <= on) and (valid_to is None or on <= valid_to)


def check_no_cycle(parents: Mapping[str, str | None], start: str) -> None:
    """Walk up from ``start`` in a child -> parent mapping and refuse a cycle.

    :raises Conflict: ``unit_cycle``.
    """
    seen = {start}
    current = parents.get(start)
    while current is not None:
        if current in seen:
            raise Conflict("unit_cycle", code=start)
        seen.add(current)
        current = parents.get(current)


def topological_order(parents: Mapping[str, str | None]) -> list[str]:
    """Order codes so that every parent inside ``parents`` comes before its children.

    :raises Conflict: ``unit_cycle`` if the mapping has a cycle.
    """
    order: list[str] = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for start in parents:
        if state.get(start) == 2:
            continue
        path: list[str] = []
        node: str | None = start
        while node is not None and node in parents and state.get(node) != 2:
            if state.get(node) == 1:
                raise Conflict("unit_cycle", code=node)
            state[node] = 1
            path.append(node)
            node = parents[node]
        for done in reversed(path):
            state[done] = 2
            order.append(done)
    return order


def check_group_name(name: object) -> str:
    """Validate a recipient group name.

    :raises InvalidInput: ``invalid_group_name``.
    """
    text = name if isinstance(name, str) else ""
    if not GROUP_NAME_PATTERN.match(text):
        raise InvalidInput("invalid_group_name", name=str(name)[:80])
    return text


class SelectorKind(StrEnum):
    """The kinds of recipient a sender may name."""

    UNIT = "unit"
    CHILDREN = "children"
    COMMUNES = "communes"
    GROUP = "group"


@dataclass(frozen=True)
class RecipientSelector:
    """A parsed recipient: a unit code or a selector over the directory."""

    kind: SelectorKind
    argument: str

    def __str__(self) -> str:
        if self.kind is SelectorKind.UNIT:
            return self.argument
        return f"{self.kind.value}:{self.argument}"


def parse_selector(value: object) -> RecipientSelector:
    """Parse ``<code>``, ``children:<code>``, ``communes:<code>`` or ``group:<name>``.

    :raises InvalidInput: ``invalid_selector`` (or ``invalid_unit_code`` inside a selector).
    """
    if not isinstance(value, str) or not value:
        raise InvalidInput("invalid_selector", selector=str(value)[:80])
    head, sep, tail = value.partition(":")
    if not sep:
        return RecipientSelector(SelectorKind.UNIT, parse_code(value).code)
    try:
        kind = SelectorKind(head)
    except ValueError:
        raise InvalidInput("invalid_selector", selector=value[:80]) from None
    if kind is SelectorKind.UNIT:
        raise InvalidInput("invalid_selector", selector=value[:80])
    if kind is SelectorKind.GROUP:
        return RecipientSelector(kind, check_group_name(tail))
    return RecipientSelector(kind, parse_code(tail).code)


def dedupe(codes: Iterable[str]) -> list[str]:
    """Keep the first occurrence of each code, in order."""
    return list(dict.fromkeys(codes))
