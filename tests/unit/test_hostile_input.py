"""Arbitrary input to the parsers ends in a coded error or a valid result, never a crash."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from docexchange.domain.units import parse_code, parse_selector
from docexchange.errors import DocExchangeError
from docexchange.services import directory

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=20,
)


@given(st.one_of(st.text(max_size=40), st.integers(), st.none(), st.binary(max_size=20)))
def test_codes_and_selectors(value: object) -> None:
    for parse in (parse_code, parse_selector):
        try:
            parse(value)
        except DocExchangeError as exc:
            assert exc.code in {"invalid_unit_code", "invalid_selector", "invalid_group_name"}


@settings(max_examples=200)
@given(st.binary(max_size=400), st.sampled_from(["csv", "json", "xml", ""]))
def test_import_files_of_random_bytes(data: bytes, fmt: str) -> None:
    try:
        rows = directory.parse_import(data, fmt, max_rows=50)
    except DocExchangeError as exc:
        assert exc.code.startswith("import_")
    else:
        assert all(isinstance(r, directory.UnitInput) for r in rows)


@settings(max_examples=200)
@given(json_values)
def test_import_files_of_random_json(value: object) -> None:
    data = json.dumps(value).encode()
    try:
        directory.parse_import(data, "json", max_rows=50)
    except DocExchangeError as exc:
        assert exc.code.startswith("import_")


@settings(max_examples=200)
@given(st.dictionaries(st.sampled_from([*directory.EXPORT_FIELDS, "x"]), json_values, max_size=9))
def test_unit_records_of_random_shape(record: dict[str, object]) -> None:
    try:
        unit = directory.UnitInput.from_mapping(record)
    except DocExchangeError as exc:
        assert exc.code in {
            "missing_field",
            "invalid_field",
            "invalid_unit_code",
            "invalid_unit_level",
            "invalid_date",
            "invalid_validity",
            "unit_cycle",
            "invalid_json",
        }
    else:
        assert unit.code == record["code"]
