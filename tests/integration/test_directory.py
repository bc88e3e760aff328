"""The directory service on a real database: tree rules, import/export, selectors."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from docexchange.domain.accounts import Role
from docexchange.domain.edge import parse_input
from docexchange.domain.inputs import UnitChanges
from docexchange.domain.units import UnitLevel
from docexchange.errors import Conflict, DocExchangeError, Forbidden, InvalidInput
from docexchange.services import directory
from docexchange.services.authz import Actor
from docexchange.storage.models import AuditEvent, Unit

ADMIN = Actor(user_id=0, username="admin", unit_code="000.00.00.H45", roles=frozenset({Role.ADMIN}))
CLERK = Actor(user_id=0, username="clerk", unit_code="000.00.00.H45", roles=frozenset({Role.CLERK}))

PROVINCE = {
    "code": "000.00.00.H45",
    "name": "UBND tỉnh Phú Thọ",
    "abbreviation": "UBND",
    "level": "province",
}


def _unit(code: str, level: str, parent: str | None, **extra: object) -> dict[str, object]:
    return {
        "code": code,
        "name": f"Đơn vị {code}",
        "abbreviation": "UBND",
        "level": level,
        "parent_code": parent,
        **extra,
    }


def _add(session: Session, data: dict[str, object]) -> Unit:
    return directory.create_unit(session, directory.UnitInput.from_mapping(data), actor=ADMIN)


@pytest.fixture
def three_level(session: Session) -> None:
    _add(session, PROVINCE)
    _add(session, _unit("000.00.12.H45", "district", "000.00.00.H45"))
    _add(session, _unit("000.21.12.H45", "commune", "000.00.12.H45"))
    _add(session, _unit("000.22.12.H45", "commune", "000.00.12.H45"))
    _add(session, _unit("000.00.01.H45", "department", "000.00.00.H45"))


def test_three_level_tree(session: Session, three_level: None) -> None:
    communes = directory.list_units(session, parent="000.00.12.H45")
    assert [u.code for u in communes] == ["000.21.12.H45", "000.22.12.H45"]
    assert [u.code for u in directory.list_units(session, level=UnitLevel.DISTRICT)] == [
        "000.00.12.H45"
    ]


def test_two_level_tree_puts_communes_under_the_province(session: Session) -> None:
    _add(session, PROVINCE)
    _add(session, _unit("000.01.00.H45", "commune", "000.00.00.H45"))
    assert [u.code for u in directory.list_units(session, parent="000.00.00.H45")] == [
        "000.01.00.H45"
    ]


def test_only_admins_change_the_directory(session: Session) -> None:
    with pytest.raises(Forbidden):
        directory.create_unit(session, directory.UnitInput.from_mapping(PROVINCE), actor=CLERK)
    assert session.scalar(select(func.count()).select_from(Unit)) == 0


@pytest.mark.parametrize(
    ("data", "error", "code"),
    [
        (_unit("000.00.13.H45", "district", "000.00.77.H45"), InvalidInput, "parent_not_found"),
        (_unit("000.00.13.H45", "commune", None), InvalidInput, "invalid_parent_level"),
        (_unit("000.00.13.H45", "district", "000.21.12.H45"), InvalidInput, "invalid_parent_level"),
        (PROVINCE, Conflict, "unit_exists"),
        (
            _unit("000.00.13.H45", "district", "000.00.00.H45", successor_code="000.00.99.H45"),
            InvalidInput,
            "successor_not_found",
        ),
    ],
)
def test_bad_units_are_refused(
    session: Session,
    three_level: None,
    data: dict[str, object],
    error: type[DocExchangeError],
    code: str,
) -> None:
    with pytest.raises(error) as info:
        _add(session, data)
    assert info.value.code == code


def test_validity_window_must_not_end_before_it_starts() -> None:
    with pytest.raises(InvalidInput) as info:
        directory.UnitInput.from_mapping(
            {**PROVINCE, "valid_from": "2025-07-01", "valid_to": "2025-06-30"}
        )
    assert info.value.code == "invalid_validity"


def test_moving_a_unit_under_its_own_descendant_is_a_cycle(
    session: Session, three_level: None
) -> None:
    _add(session, _unit("000.00.02.H45", "department", "000.00.01.H45"))
    with pytest.raises(Conflict) as info:
        directory.update_unit(
            session,
            "000.00.01.H45",
            parse_input(UnitChanges, {"parent_code": "000.00.02.H45"}),
            actor=ADMIN,
        )
    assert info.value.code == "unit_cycle"
    session.rollback()
    assert session.get(Unit, "000.00.01.H45").parent_code == "000.00.00.H45"  # type: ignore[union-attr]


def test_merger_closes_a_unit_and_names_its_successor(session: Session, three_level: None) -> None:
    directory.update_unit(
        session,
        "000.21.12.H45",
        parse_input(UnitChanges, {"valid_to": "2025-06-30", "successor_code": "000.22.12.H45"}),
        actor=ADMIN,
    )
    unit = session.get(Unit, "000.21.12.H45")
    assert (
        unit is not None
        and unit.valid_to == date(2025, 6, 30)
        and unit.successor_code == "000.22.12.H45"
    )
    active = directory.list_units(session, parent="000.00.12.H45", active_on=date(2025, 7, 1))
    assert [u.code for u in active] == ["000.22.12.H45"]
    events = session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)).all()
    assert events[-1] == "unit.update"


def test_selectors_resolve_to_units(session: Session, three_level: None) -> None:
    children = directory.resolve_recipients(session, ["children:000.00.00.H45"])
    assert [u.code for u in children] == ["000.00.12.H45"]  # the department is excluded
    communes = directory.resolve_recipients(session, ["communes:000.00.00.H45"])
    assert [u.code for u in communes] == ["000.21.12.H45", "000.22.12.H45"]
    directory.create_group(session, "huyen-xa", ["000.22.12.H45", "000.00.12.H45"], actor=ADMIN)
    grouped = directory.resolve_recipients(session, ["group:huyen-xa", "000.22.12.H45"])
    assert [u.code for u in grouped] == ["000.22.12.H45", "000.00.12.H45"]
    directory.update_group(session, "huyen-xa", ["000.21.12.H45"], actor=ADMIN)
    assert [u.code for u in directory.resolve_recipients(session, ["group:huyen-xa"])] == [
        "000.21.12.H45"
    ]


def test_closed_units_are_not_recipients(session: Session, three_level: None) -> None:
    directory.update_unit(
        session, "000.21.12.H45", parse_input(UnitChanges, {"valid_to": "2025-06-30"}), actor=ADMIN
    )
    communes = directory.resolve_recipients(
        session, ["communes:000.00.12.H45"], on=date(2025, 7, 1)
    )
    assert [u.code for u in communes] == ["000.22.12.H45"]
    with pytest.raises(InvalidInput):
        directory.resolve_recipients(session, ["000.21.12.H45"], on=date(2025, 7, 1))


def test_unknown_recipients_are_refused(session: Session, three_level: None) -> None:
    with pytest.raises(DocExchangeError) as info:
        directory.resolve_recipients(session, ["children:000.00.99.H45"])
    assert info.value.code == "unit_not_found"
    with pytest.raises(DocExchangeError) as info:
        directory.resolve_recipients(session, ["group:nobody"])
    assert info.value.code == "group_not_found"


def test_export_then_import_round_trips_in_both_formats(
    session: Session, three_level: None
) -> None:
    exported = directory.export_tree(session)
    assert exported[0]["code"] == "000.00.00.H45"
    for fmt in ("csv", "json"):
        data = directory.render_export(exported, fmt)
        rows = directory.parse_import(data, fmt, max_rows=100)
        result = directory.import_tree(session, rows, actor=ADMIN)
        assert (result.created, result.updated, result.unchanged) == (0, 0, 5)
    changed = json.loads(directory.render_export(exported, "json"))
    changed["units"][1]["name"] = "UBND huyện Đoan Hùng (mới)"
    changed["units"].append(_unit("000.23.12.H45", "commune", "000.00.12.H45"))
    rows = directory.parse_import(json.dumps(changed).encode(), "json", max_rows=100)
    result = directory.import_tree(session, rows, actor=ADMIN)
    assert (result.created, result.updated, result.unchanged) == (1, 1, 4)
    assert session.get(Unit, "000.00.12.H45").name.endswith("(mới)")  # type: ignore[union-attr]


def test_import_is_all_or_nothing(session: Session, three_level: None) -> None:
    csv_data = (
        "code,name,abbreviation,level,parent_code\n"
        "000.31.12.H45,Xã A,UBND,commune,000.00.12.H45\n"
        "000.32.12.H45,Xã B,UBND,commune,000.00.88.H45\n"
    ).encode()
    rows = directory.parse_import(csv_data, "csv", max_rows=100)
    with pytest.raises(InvalidInput) as info:
        directory.import_tree(session, rows, actor=ADMIN)
    assert info.value.code == "import_malformed" and info.value.params["row"] == 2
    session.rollback()
    assert session.get(Unit, "000.31.12.H45") is None


def test_import_with_a_cycle_is_refused(session: Session, three_level: None) -> None:
    rows = directory.parse_import(
        json.dumps(
            [
                _unit("000.00.05.H45", "department", "000.00.06.H45"),
                _unit("000.00.06.H45", "department", "000.00.05.H45"),
            ]
        ).encode(),
        "json",
        max_rows=10,
    )
    with pytest.raises(Conflict) as info:
        directory.import_tree(session, rows, actor=ADMIN)
    assert info.value.code == "unit_cycle"


@pytest.mark.parametrize(
    ("data", "fmt", "code"),
    [
        (b"\xff\xfe not text", "csv", "import_malformed"),
        (b"code,name\n1,2\n", "csv", "import_malformed"),
        (
            b"code,name,abbreviation,level\n000.00.00.H45,A,B,province,extra\n",
            "csv",
            "import_malformed",
        ),
        (b"code,name,abbreviation,level\nbad,A,B,province\n", "csv", "import_malformed"),
        (b"{not json", "json", "import_malformed"),
        (b'{"units": 5}', "json", "import_malformed"),
        (b"[1, 2]", "json", "import_malformed"),
        (b"[]", "json", "import_empty"),
        (b"<units/>", "xml", "import_unsupported_format"),
        (
            b'[{"code":"000.00.00.H45","name":"A","abbreviation":"B","level":"province"},'
            b'{"code":"000.00.00.H45","name":"A","abbreviation":"B","level":"province"}]',
            "json",
            "import_malformed",
        ),
    ],
)
def test_malformed_import_files_get_a_coded_error(data: bytes, fmt: str, code: str) -> None:
    with pytest.raises(InvalidInput) as info:
        directory.parse_import(data, fmt, max_rows=100)
    assert info.value.code == code


def test_import_row_limit() -> None:
    data = ("code,name,abbreviation,level\n" + "000.00.00.H45,A,B,province\n" * 11).encode()
    with pytest.raises(InvalidInput) as info:
        directory.parse_import(data, "csv", max_rows=10)
    assert info.value.code == "import_too_many_rows"


def test_import_cannot_strand_existing_children(session: Session, three_level: None) -> None:
    """Turning the district into a department would leave its communes under a department."""
    rows = directory.parse_import(
        json.dumps([_unit("000.00.12.H45", "department", "000.00.00.H45")]).encode(),
        "json",
        max_rows=10,
    )
    with pytest.raises(InvalidInput) as info:
        directory.import_tree(session, rows, actor=ADMIN)
    assert info.value.code == "import_malformed"
    assert info.value.params["row"] == 1
    reason = info.value.params["reason"]
    assert isinstance(reason, DocExchangeError) and reason.code == "invalid_parent_level"


def test_import_errors_read_in_both_languages() -> None:
    from docexchange.i18n import message_for

    with pytest.raises(InvalidInput) as info:
        directory.parse_import(b"code,name\n1,2\n", "csv", max_rows=10)
    assert message_for(info.value, "en") == (
        "Import file, row 0: the header lacks the columns abbreviation, level."
    )
    assert message_for(info.value, "vi") == (
        "Tệp nhập, dòng 0: dòng tiêu đề thiếu các cột abbreviation, level."
    )
