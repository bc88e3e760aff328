"""Arbitrary input to the parsers ends in a coded error or a valid result, never a crash."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from docexchange.domain.units import parse_code, parse_selector
from docexchange.errors import DocExchangeError, InvalidInput
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


def test_json_from_outside_is_bounded() -> None:
    from docexchange.domain.json_input import MAX_JSON_DEPTH, parse_json

    assert parse_json(b'\xef\xbb\xbf{"a": [1, {"b": "\\"[[["}]}') == {"a": [1, {"b": '"[[['}]}
    assert parse_json("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH) is not None
    for data, code in (
        ("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1), "json_too_deep"),
        ("[" * 100_000, "json_too_deep"),
        ('{"name": "\\ud800"}', "invalid_unicode"),
        ('{"\\udfff": 1}', "invalid_unicode"),
        ("1" * 5000, "invalid_json"),  # longer than Python turns into an int
        (b"\xff\xfe{}", "invalid_json"),
        ("{'a': 1}", "invalid_json"),
    ):
        with pytest.raises(InvalidInput) as caught:
            parse_json(data)
        assert caught.value.code == code, data[:20]


@given(
    st.recursive(
        st.none() | st.booleans() | st.text(), lambda c: st.lists(c) | st.dictionaries(st.text(), c)
    )
)
def test_any_json_value_reads_back_or_is_refused_with_a_code(value: object) -> None:
    from docexchange.domain.json_input import parse_json

    text = json.dumps(value)
    try:
        assert parse_json(text) == value
    except InvalidInput as exc:
        assert exc.code in {"json_too_deep", "invalid_unicode", "invalid_character"}
        assert exc.code != "invalid_character" or "\\u0000" in text


def test_text_no_database_can_store_is_refused() -> None:
    from docexchange.domain.json_input import parse_json

    for data, code in (
        ('{"name": "a\\u0000b"}', "invalid_character"),
        ('{"\\u0000": 1}', "invalid_character"),
        ('{"x": NaN}', "invalid_json"),
        ("[Infinity]", "invalid_json"),
    ):
        with pytest.raises(InvalidInput) as caught:
            parse_json(data)
        assert caught.value.code == code, data


def test_dates_outside_an_offices_range_are_refused() -> None:
    from docexchange.domain.timeutil import parse_date

    assert parse_date("2199-12-31", field="to") is not None
    for value in ("0001-01-01", "9999-12-31", "1899-12-31", "2200-01-01"):
        with pytest.raises(InvalidInput) as caught:
            parse_date(value, field="from")
        assert caught.value.code == "invalid_date", value


def _pdf(objects: list[bytes]) -> bytes:
    """A PDF with these objects (1 is the catalogue) and a correct cross-reference table."""
    out, offsets = bytearray(b"%PDF-1.7\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _tree(depth: int, *, count: int = 1, cycle: bool = False) -> bytes:
    """Catalogue, ``depth`` nested /Pages nodes, one page (or a kid pointing back up)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    for level in range(depth):
        number = level + 2
        objects.append(b"<< /Type /Pages /Kids [%d 0 R] /Count %d >>" % (number + 1, count))
    if cycle:
        objects.append(b"<< /Type /Pages /Kids [2 0 R] /Count %d >>" % count)
    else:
        objects.append(b"<< /Type /Page /MediaBox [0 0 595 842] >>")
    return _pdf(objects)


def test_page_trees_that_exhaust_a_reader_are_refused_at_upload() -> None:
    from pki.pdf import MAX_TREE_DEPTH, PdfRefused, inspect_pdf

    assert inspect_pdf(_tree(3)).pages == 1
    assert inspect_pdf(_tree(MAX_TREE_DEPTH)).pages == 1
    for hostile in (
        _tree(1, count=10**20),  # /Count 100000000000000000000
        _tree(1, count=2),  # a count that lies
        _tree(5000),  # 5,000 levels
        _tree(2, cycle=True),  # a kid that is its own ancestor
    ):
        with pytest.raises(PdfRefused) as caught:
            inspect_pdf(hostile)
        assert caught.value.reason == "malformed"
