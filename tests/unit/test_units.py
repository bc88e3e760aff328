"""Identifier codes, levels, the tree rules and recipient selectors."""

from __future__ import annotations

import pytest

from docexchange.domain.units import (
    SelectorKind,
    UnitLevel,
    check_no_cycle,
    check_parent_level,
    parse_code,
    parse_selector,
    topological_order,
)
from docexchange.errors import Conflict, DocExchangeError, InvalidInput


@pytest.mark.parametrize(
    ("code", "depth", "parent"),
    [
        ("000.00.00.H45", 1, None),
        ("000.00.12.H45", 2, "000.00.00.H45"),
        ("000.21.12.H45", 3, "000.00.12.H45"),
        ("001.02.01.H59", 4, "000.02.01.H59"),
        ("000.00.00.G22", 1, None),
    ],
)
def test_code_decomposes_into_level_groups(code: str, depth: int, parent: str | None) -> None:
    parsed = parse_code(code)
    assert parsed.depth == depth
    assert parsed.structural_parent == parent
    assert parsed.level1 == code[-3:]


def test_code_groups_are_read_right_to_left() -> None:
    parsed = parse_code("001.02.03.H59")
    assert (parsed.level1, parsed.level2, parsed.level3, parsed.level4) == (
        "H59",
        "03",
        "02",
        "001",
    )
    assert parsed.prefix_kind == "province"
    assert parse_code("000.00.00.G22").prefix_kind == "central"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "000.00.00.h45",
        "00.00.00.H45",
        "000.00.00.H4",
        "000-00-00-H45",
        "000.00.00.H45 ",
        None,
        12,
    ],
)
def test_malformed_codes_are_refused_with_a_code(bad: object) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_code(bad)
    assert info.value.code == "invalid_unit_code"


def test_level_rules_allow_both_trees() -> None:
    check_parent_level(UnitLevel.COMMUNE, UnitLevel.DISTRICT)  # 3-level
    check_parent_level(UnitLevel.COMMUNE, UnitLevel.PROVINCE)  # 2-level
    check_parent_level(UnitLevel.DEPARTMENT, UnitLevel.COMMUNE)
    check_parent_level(UnitLevel.PROVINCE, None)
    for level, parent in [
        (UnitLevel.COMMUNE, None),
        (UnitLevel.DISTRICT, UnitLevel.COMMUNE),
        (UnitLevel.PROVINCE, UnitLevel.PROVINCE),
    ]:
        with pytest.raises(InvalidInput) as info:
            check_parent_level(level, parent)
        assert info.value.code == "invalid_parent_level"


def test_unknown_level_is_refused() -> None:
    with pytest.raises(InvalidInput) as info:
        UnitLevel.parse("ward")
    assert info.value.code == "invalid_unit_level"


def test_cycles_are_found() -> None:
    check_no_cycle({"a": "b", "b": None}, "a")
    with pytest.raises(Conflict) as info:
        check_no_cycle({"a": "b", "b": "c", "c": "a"}, "a")
    assert info.value.code == "unit_cycle"


def test_topological_order_puts_parents_first() -> None:
    parents = {"c": "b", "b": "a", "a": None, "d": "a", "x": "outside"}
    order = topological_order(parents)
    assert sorted(order) == sorted(parents)
    assert order.index("a") < order.index("b") < order.index("c")
    assert order.index("a") < order.index("d")
    with pytest.raises(Conflict):
        topological_order({"a": "b", "b": "a"})


@pytest.mark.parametrize(
    ("raw", "kind", "argument"),
    [
        ("000.21.12.H45", SelectorKind.UNIT, "000.21.12.H45"),
        ("children:000.00.12.H45", SelectorKind.CHILDREN, "000.00.12.H45"),
        ("communes:000.00.00.H45", SelectorKind.COMMUNES, "000.00.00.H45"),
        ("group:so-nganh", SelectorKind.GROUP, "so-nganh"),
    ],
)
def test_selectors_parse(raw: str, kind: SelectorKind, argument: str) -> None:
    selector = parse_selector(raw)
    assert (selector.kind, selector.argument) == (kind, argument)
    assert str(selector) == raw


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("province:000.00.00.H45", "invalid_selector"),
        ("children:nonsense", "invalid_unit_code"),
        ("group:", "invalid_group_name"),
        ("group:a b", "invalid_group_name"),
        ("", "invalid_selector"),
        ("unit:000.00.00.H45", "invalid_selector"),
    ],
)
def test_bad_selectors_are_refused(raw: str, code: str) -> None:
    with pytest.raises(DocExchangeError) as info:
        parse_selector(raw)
    assert info.value.code == code


def test_a_citizen_id_in_a_certificate_subject_is_masked() -> None:
    from docexchange.domain.accounts import mask_personal_ids

    subject = "User ID: CCCD:046119643979, Common Name: Nguyễn Văn Tỉnh"
    assert mask_personal_ids(subject) == "User ID: CCCD:0461******79, Common Name: Nguyễn Văn Tỉnh"
    assert mask_personal_ids("CMND: 123456789") == "CMND:1234***89"
    assert mask_personal_ids("Organization Identifier: 000.00.00.H45") == (
        "Organization Identifier: 000.00.00.H45"
    )
