"""The fully-electronic ratio and the paper register, on a scripted scenario with known counts.

Documents of the province go through the real flow (sign, issue, send, deliver, verify); a few
rows stand for what the flow cannot produce here on demand: a document from a peer whose
signatures failed, and arrivals on either side of midnight at the start of the period.

Every test here pins its own instant (``tests/clock.py``): the scenario runs mid-month and
again at the calendar's edges (a month's first day, 23:30 on its last and 00:10 on the
next, New Year's Eve and Day, 29 February), each ahead of the run's start so that its
tokens and accounts exist by then; its figures must be the same at every one of them.
"""

from __future__ import annotations

import calendar
import io
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook

from docexchange.domain.accounts import Role
from docexchange.domain.reports import Counts, Period, PeriodKind, period_of, rank
from docexchange.domain.timeutil import today_vn, utcnow
from docexchange.services import exchange
from docexchange.services.container import Services
from docexchange.storage.models import InboxEntry, Unit
from tests.clock import office_at, pinned, vn
from tests.conftest import error_code
from tests.web.test_documents import signed_and_issued

PROVINCE, DISTRICT = "000.00.00.H45", "000.00.12.H45"
CHAN_MONG, MINH_LUONG = "000.21.12.H45", "000.22.12.H45"


def _first_of_next_month(day: date, months: int = 1) -> date:
    for _ in range(months):
        day = period_of(PeriodKind.MONTH, day).last + timedelta(days=1)
    return day


def _edges(today: date) -> dict[str, datetime]:
    """The calendar edges the scenario is run at, each after ``today``: where a Vietnamese
    day, month or year begins while UTC is still on the one before (Vietnam is UTC+7)."""
    first = _first_of_next_month(today)
    following = _first_of_next_month(today, 2)
    eve = (
        date(today.year, 12, 31)
        if today < date(today.year, 12, 31)
        else date(today.year + 1, 12, 31)
    )
    leap = next(
        date(year, 2, 29)
        for year in range(today.year, today.year + 9)
        if calendar.isleap(year) and date(year, 2, 29) > today
    )
    return {
        "first-day-of-a-month": vn(first, 9, 0),
        "last-day-of-a-month-23h30": vn(following - timedelta(days=1), 23, 30),
        "first-day-of-a-month-00h10": vn(following, 0, 10),
        "new-years-eve-23h30": vn(eve, 23, 30),
        "new-years-day-00h10": vn(eve + timedelta(days=1), 0, 10),
        "29-february": vn(leap, 12, 0),
    }


#: Instants the report scenario is pinned at: ahead of the run's start (the run's tokens and
#: accounts exist from then on), computed once; 29 February is 2028's until that has passed.
EDGES = _edges(today_vn())
#: The instant of the scenario where the calendar is not the point: mid-month.
MID_MONTH = vn(_first_of_next_month(today_vn()) + timedelta(days=14), 10, 0)


@dataclass(frozen=True)
class Scene:
    """Where the scenario happened: its instant, that day in Vietnam and its month."""

    at: datetime

    @property
    def today(self) -> date:
        return today_vn(self.at)

    @property
    def month(self) -> Period:
        return period_of(PeriodKind.MONTH, self.today)

    @property
    def period(self) -> dict[str, str]:
        return {"from": self.month.first.isoformat(), "to": self.month.last.isoformat()}


#: When the paper-register tests run (dates after it are refused as "in the future").
PAPER_DAY = vn(date(2027, 3, 15), 10, 0)


@pytest.fixture
def paper_day() -> Iterator[None]:
    with pinned(PAPER_DAY):
        yield


@pytest.fixture
def pin(request: pytest.FixtureRequest) -> datetime:
    """The scenario's instant: mid-month unless a test names an edge (``indirect``)."""
    name = getattr(request, "param", None)
    return MID_MONTH if name is None else EDGES[name]


@pytest.fixture
def office(pin: datetime, signing_tokens: Any, services: Services) -> Iterator[Scene]:
    """The office at ``pin``: the clock there, the tokens' certificates valid then."""
    with office_at(services, pin):
        yield Scene(pin)


def _paper(client: FlaskClient, headers: dict[str, str], **fields: Any) -> Any:
    body = {"number": "12/UBND", "subject": "Giấy", "counterpart": "Sở Nội vụ", **fields}
    return client.post("/api/v1/paper-records", json=body, headers=headers)


def _report(valid: bool) -> dict[str, Any]:
    """A stored report as the verifier writes it: the peer's leader and seal, the leader's
    signature broken when not ``valid``."""

    def signature(kind: str, passed: bool) -> dict[str, Any]:
        return {
            "kind": kind,
            "indication": "TOTAL_PASSED" if passed else "TOTAL_FAILED",
            "sub_indication": None if passed else "HASH_FAILURE",
            "messages": [] if passed else ["signed_bytes_changed"],
        }

    return {
        "valid": valid,
        "signatures": [signature("personal", valid), signature("organization", True)],
        "messages": [],
    }


def _arrival(services: Services, recipient: str, at: datetime, *, valid: bool) -> None:
    with services.sessions() as session:
        session.add(
            InboxEntry(
                id=uuid.uuid4().hex,
                consignment_id=str(uuid.uuid4()),
                recipient_code=recipient,
                sender_code="000.00.00.G22",
                document_ref=f"000.00.00.G22,{at:%Y/%m/%d},{uuid.uuid4().hex[:6]}/VPCP",
                source_peer="vpcp",
                subject="Từ máy chủ khác",
                doc_type="CV",
                number="1/VPCP",
                urgency="normal",
                urgency_rank=3,
                paper_copy=False,
                pdf_sha256="0" * 64,
                verification=_report(valid),
                verified_valid=valid,
                status_code="01",
                received_at=at,
            )
        )
        session.commit()


def _ratio(client: FlaskClient, headers: dict[str, str], **params: str) -> Any:
    return client.get("/api/v1/reports/electronic-ratio", query_string=params, headers=headers)


def _figures(body: dict[str, Any]) -> tuple[Any, ...]:
    return (
        body["sent"]["total"],
        body["sent"]["electronic"],
        body["received"]["total"],
        body["received"]["electronic"],
        body["secret_excluded"],
    )


@pytest.fixture
def scenario(office: Scene, client: FlaskClient, as_user: Any, services: Services) -> Scene:
    """At ``office.at``: the province issues four documents (two sent, one of them with a
    paper copy; one never sent; one secret) and registers paper; Chân Mộng registers paper
    and gets three documents from a peer: at 00:00 and 00:05 on the month's first day in
    Vietnam (counted; the first failed verification) and at 23:30 on the day before (the
    month before). Every row is dated at or before the scenario's instant."""
    clerk = as_user("pt.vanthu")
    communes = [CHAN_MONG, MINH_LUONG]
    electronic = signed_and_issued(client, as_user, recipients=communes)
    with_paper = signed_and_issued(client, as_user, recipients=communes, paper_copy=True)
    signed_and_issued(client, as_user, recipients=communes)  # issued, never sent
    signed_and_issued(client, as_user, recipients=communes, secrecy="mat")
    for document in (electronic, with_paper):
        sent = client.post(f"/api/v1/documents/{document['id']}/send", headers=clerk)
        assert sent.status_code == 202
    assert exchange.deliver_pending(services).delivered == 4
    today, first = office.today.isoformat(), office.month.first
    before = first - timedelta(days=1)
    assert _paper(client, clerk, direction="sent", date=today).status_code == 201
    assert _paper(client, clerk, direction="sent", date=today, secrecy="mat").status_code == 201
    commune = as_user("cm.vanthu")
    assert _paper(client, commune, direction="sent", date=today).status_code == 201
    assert _paper(client, commune, direction="received", date=today).status_code == 201
    assert _paper(client, commune, direction="received", date=before.isoformat()).status_code == 201
    _arrival(services, CHAN_MONG, vn(first, 0, 0), valid=False)
    _arrival(services, CHAN_MONG, vn(first, 0, 5), valid=True)
    _arrival(services, CHAN_MONG, vn(before, 23, 30), valid=True)
    return office


@pytest.mark.usefixtures("registered_certificates")
@pytest.mark.parametrize("pin", [None, *EDGES], indirect=True, ids=["mid-month", *EDGES])
def test_the_scripted_scenario_gives_exactly_the_expected_figures(
    scenario: Scene, client: FlaskClient, as_user: Any
) -> None:
    auditor = as_user("thanhtra")
    period = scenario.period
    expected = {
        # sent total/electronic, received total/electronic, secret excluded
        PROVINCE: (4, 1, 0, 0, 2),
        DISTRICT: (0, 0, 0, 0, 0),
        CHAN_MONG: (1, 0, 5, 2, 0),
        MINH_LUONG: (0, 0, 2, 1, 0),
    }
    for code, figures in expected.items():
        body = _ratio(client, auditor, unit=code, **period).get_json()
        assert _figures(body) == figures, code
    commune = _ratio(client, auditor, unit=CHAN_MONG, **period).get_json()
    assert commune["sent"]["ratio"] == 0.0 and commune["received"]["ratio"] == 0.4
    assert commune["ratio"] == pytest.approx(2 / 6) and commune["below_target"] is True
    empty = _ratio(client, auditor, unit=DISTRICT, **period).get_json()
    assert (empty["sent"]["ratio"], empty["received"]["ratio"], empty["ratio"]) == (None,) * 3
    assert empty["below_target"] is False

    whole = _ratio(client, auditor, unit=PROVINCE, scope="subtree", **period).get_json()
    assert _figures(whole) == (5, 1, 7, 3, 2)
    assert [(c["code"], c["rank"]) for c in whole["children"]] == [(DISTRICT, 1)]
    assert _figures(whole["children"][0]) == (1, 0, 7, 3, 0)
    district = _ratio(client, auditor, unit=DISTRICT, scope="subtree", **period).get_json()
    assert [(c["code"], c["rank"], c["below_target"]) for c in district["children"]] == [
        (MINH_LUONG, 1, True),
        (CHAN_MONG, 2, True),
    ]
    # The month before holds the arrival at 23:30 on its last day and one paper record; a
    # period given as "month" from any of its days is that month; the next month is empty.
    before = scenario.month.first - timedelta(days=1)
    previous = _ratio(
        client, auditor, unit=CHAN_MONG, period="month", **{"from": before.isoformat()}
    ).get_json()
    assert (previous["from"], previous["to"]) == (
        period_of(PeriodKind.MONTH, before).first.isoformat(),
        before.isoformat(),
    )
    assert _figures(previous) == (0, 0, 2, 1, 0)
    after = (scenario.month.last + timedelta(days=1)).isoformat()
    following = _ratio(client, auditor, unit=CHAN_MONG, period="month", **{"from": after})
    assert _figures(following.get_json()) == (0, 0, 0, 0, 0)
    # A period of one day: that day's paper and deliveries (and the peer's arrivals when
    # the scenario runs on the month's first day).
    today = scenario.today.isoformat()
    one_day = _ratio(client, auditor, unit=CHAN_MONG, **{"from": today, "to": today}).get_json()
    on_the_first = scenario.today == scenario.month.first
    assert _figures(one_day) == (1, 0, 5 if on_the_first else 3, 2 if on_the_first else 1, 0)


@pytest.mark.usefixtures("registered_certificates")
@pytest.mark.parametrize(
    ("last", "first"),
    [
        ("last-day-of-a-month-23h30", "first-day-of-a-month-00h10"),
        ("new-years-eve-23h30", "new-years-day-00h10"),
    ],
)
def test_a_document_counts_on_its_day_in_vietnam(
    last: str, first: str, client: FlaskClient, as_user: Any, services: Services
) -> None:
    """Issued and sent at 23:30 and at 00:10 Vietnam time (16:30 and 17:10 UTC of one UTC
    day): the first counts in the month (and year) that ends, the second in the one that
    begins; numbers start again at 1 on 1 January; identifiers carry the Vietnamese date."""
    before, after = EDGES[last], EDGES[first]
    documents = []
    for instant in (before, after):
        with office_at(services, instant):
            document = signed_and_issued(client, as_user, recipients=[CHAN_MONG])
            sent = client.post(
                f"/api/v1/documents/{document['id']}/send", headers=as_user("pt.vanthu")
            )
            assert sent.status_code == 202
            assert exchange.deliver_pending(services).delivered == 1
            documents.append(document)
    assert before.astimezone(UTC).date() == after.astimezone(UTC).date()  # one UTC day
    new_year = after.year != before.year
    numbers = [d["number"].split("/")[0] for d in documents]
    assert numbers == (["01", "01"] if new_year else ["01", "02"])
    for document, instant in zip(documents, (before, after), strict=True):
        assert f",{instant:%Y/%m/%d}," in document["document_id"]
    with office_at(services, after):
        auditor = as_user("thanhtra")
        for instant in (before, after):
            month = period_of(PeriodKind.MONTH, today_vn(instant))
            span = {"from": month.first.isoformat(), "to": month.last.isoformat()}
            sender = _ratio(client, auditor, unit=PROVINCE, **span).get_json()
            receiver = _ratio(client, auditor, unit=CHAN_MONG, **span).get_json()
            assert _figures(sender)[:2] == (1, 1), instant
            assert _figures(receiver)[2:4] == (1, 1), instant
        if new_year:
            year = _ratio(
                client, auditor, unit=PROVINCE, period="year", **{"from": f"{after.year}-01-01"}
            ).get_json()
            assert (year["from"], _figures(year)[:2]) == (f"{after.year}-01-01", (1, 1))


@pytest.mark.usefixtures("registered_certificates")
def test_who_sees_which_report(scenario: Scene, client: FlaskClient, as_user: Any) -> None:
    clerk = as_user("cm.vanthu")
    own = _ratio(client, clerk, **scenario.period)
    assert own.status_code == 200 and own.get_json()["unit"] == CHAN_MONG
    for params in ({"unit": MINH_LUONG}, {"scope": "subtree"}, {"unit": PROVINCE}):
        refused = _ratio(client, clerk, **params, **scenario.period)
        assert (refused.status_code, error_code(refused)) == (403, "unit_forbidden"), params
    leader = as_user("dh.lanhdao")
    assert (
        _ratio(client, leader, unit=DISTRICT, scope="subtree", **scenario.period).status_code == 200
    )
    assert _ratio(client, leader, unit=CHAN_MONG, **scenario.period).status_code == 200
    above = _ratio(client, leader, unit=PROVINCE, **scenario.period)
    assert (above.status_code, error_code(above)) == (403, "unit_forbidden")
    earlier = (scenario.month.last - timedelta(days=3)).isoformat()
    bad = _ratio(client, leader, **{"from": scenario.period["to"], "to": earlier})
    assert (bad.status_code, error_code(bad)) == (422, "invalid_period")
    unknown = _ratio(client, as_user("thanhtra"), unit="000.99.99.H45", **scenario.period)
    assert (unknown.status_code, error_code(unknown)) == (404, "unit_not_found")


@pytest.mark.usefixtures("registered_certificates")
def test_merged_units_roll_up_to_their_successor_only_when_asked(
    scenario: Scene, client: FlaskClient, as_user: Any, services: Services
) -> None:
    with services.sessions() as session:
        merged = session.get(Unit, MINH_LUONG)
        assert merged is not None
        merged.successor_code = CHAN_MONG  # the 2025 reform: Minh Lương joins Chân Mộng
        session.commit()
    auditor = as_user("thanhtra")
    apart = _ratio(client, auditor, unit=DISTRICT, scope="subtree", **scenario.period).get_json()
    assert {c["code"]: _figures(c) for c in apart["children"]} == {
        CHAN_MONG: (1, 0, 5, 2, 0),
        MINH_LUONG: (0, 0, 2, 1, 0),
    }
    rolled = _ratio(client, auditor, unit=DISTRICT, scope="subtree", rollup="1", **scenario.period)
    assert {c["code"]: _figures(c) for c in rolled.get_json()["children"]} == {
        CHAN_MONG: (1, 0, 7, 3, 0)
    }
    assert _figures(rolled.get_json()) == _figures(apart)
    from docexchange.domain.reports import Scope, parse_period
    from docexchange.services import reports
    from docexchange.services.authz import Actor

    with services.sessions() as session:
        admin = Actor(0, "t", PROVINCE, frozenset({Role.ADMIN}))
        period = parse_period(scenario.period["from"], scenario.period["to"], today=scenario.today)
        behind = reports.report_documents(
            session,
            actor=admin,
            unit=CHAN_MONG,
            period=period,
            scope=Scope.SELF,
            kind="received",
            rollup=True,
        )
        assert len(behind) == 7 and {r.unit_code for r in behind} == {CHAN_MONG, MINH_LUONG}
    alone = _ratio(client, auditor, unit=CHAN_MONG, rollup="1", **scenario.period).get_json()
    assert _figures(alone) == (1, 0, 7, 3, 0)  # the successor's own report takes them in
    assert _figures(_ratio(client, auditor, unit=CHAN_MONG, **scenario.period).get_json()) == (
        1,
        0,
        5,
        2,
        0,
    )


@pytest.mark.usefixtures("registered_certificates")
def test_the_exports_hold_the_same_figures_as_the_api(
    scenario: Scene, client: FlaskClient, as_user: Any
) -> None:
    auditor = as_user("thanhtra")
    params = {"unit": DISTRICT, "scope": "subtree", **scenario.period}
    api = _ratio(client, auditor, **params).get_json()
    sheet = _ratio(client, auditor, format="xlsx", **params)
    assert sheet.status_code == 200 and "attachment" in sheet.headers["Content-Disposition"]
    rows = list(load_workbook(io.BytesIO(sheet.data)).active.iter_rows(values_only=True))
    assert rows[1][:3] == ("Mã định danh", "Đơn vị", "Văn bản đi")
    body = {row[0]: row for row in rows[2:]}
    for item in (api, *api["children"]):
        code = item.get("unit") or item["code"]
        row = body[code]
        assert (row[2], row[3], row[5], row[6], row[9]) == _figures(item)
        expected = None if item["ratio"] is None else round(100 * item["ratio"], 2)
        assert row[8] == expected
    text = _ratio(client, auditor, format="csv", **params).data.decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0].startswith("Mã định danh,Đơn vị") and len(lines) == 1 + len(body)
    assert lines[1].split(",")[:6] == [DISTRICT, "UBND huyện Đoan Hùng", "1", "0", "0.0", "7"]


@pytest.mark.usefixtures("paper_day")
def test_the_paper_register_checks_what_it_is_given(client: FlaskClient, as_user: Any) -> None:
    clerk = as_user("cm.vanthu")
    missing = _paper(client, clerk, direction="sent")
    assert (missing.status_code, error_code(missing)) == (422, "missing_field")
    assert missing.get_json()["error"]["field"] == "date"
    sideways = _paper(client, clerk, direction="across", date="2027-03-02")
    assert (sideways.status_code, error_code(sideways)) == (422, "invalid_field")
    for bad in ({"date": "2027-03-16"}, {"date": "2027-03-02", "secrecy": ["mat"]}):
        refused = _paper(client, clerk, direction="sent", **bad)
        assert (refused.status_code, error_code(refused)) == (422, "invalid_field"), bad
    today = _paper(client, clerk, direction="sent", date="2027-03-15")
    assert today.status_code == 201  # today is not in the future
    other = _paper(client, clerk, direction="sent", date="2027-03-02", unit_code=PROVINCE)
    assert (other.status_code, error_code(other)) == (403, "unit_forbidden")
    leader = _paper(client, as_user("cm.lanhdao"), direction="sent", date="2027-03-02")
    assert (leader.status_code, error_code(leader)) == (403, "role_required")
    made = _paper(client, clerk, direction="received", date="2027-03-02", secrecy="toi_mat")
    assert made.status_code == 201 and made.get_json()["secrecy"] == "toi_mat"
    listed = client.get("/api/v1/paper-records", headers=clerk).get_json()["items"]
    assert sorted(r["id"] for r in listed) == sorted(
        [made.get_json()["id"], today.get_json()["id"]]
    )
    assert client.get("/api/v1/paper-records", headers=as_user("ml.vanthu")).get_json() == {
        "items": [],
        "total": 0,
        "page": 1,
        "per_page": 50,
    }


def test_periods_and_ranking_rules() -> None:
    from datetime import date

    assert period_of(PeriodKind.WEEK, date(2026, 11, 26)).first == date(2026, 11, 23)
    assert period_of(PeriodKind.QUARTER, date(2026, 11, 26)).first == date(2026, 10, 1)
    assert period_of(PeriodKind.QUARTER, date(2026, 11, 26)).last == date(2026, 12, 31)
    assert period_of(PeriodKind.YEAR, date(2026, 2, 1)).last == date(2026, 12, 31)
    assert period_of(PeriodKind.MONTH, date(2028, 2, 10)).last == date(2028, 2, 29)
    nov = period_of(PeriodKind.MONTH, date(2026, 11, 26))
    assert nov.start == datetime(2026, 10, 31, 17, 0, tzinfo=UTC)
    assert nov.end == datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
    rows = {"a": Counts(2, 1), "b": Counts(), "c": Counts(4, 4), "d": Counts(8, 4)}
    assert rank(rows) == ["c", "d", "a", "b"]
    assert Counts().ratio is None and Counts(received_total=3).received_ratio == 0.0


@pytest.mark.usefixtures("registered_certificates")
def test_the_dashboard_ranks_and_drills_down(scenario: Scene, client: FlaskClient) -> None:
    from tests.web.test_ui import _login

    _login(client, "dh.lanhdao")
    page = client.get("/reports", query_string={"unit": DISTRICT, **scenario.period}).get_data(
        as_text=True
    )
    assert "Xếp hạng các đơn vị cấp dưới" in page
    ranking = page.split('id="ranking"')[1].split("</table>")[0]
    assert ranking.index(MINH_LUONG) < ranking.index(CHAN_MONG)  # 50 % before 33.3 %
    assert "50.0 %" in ranking and "33.3 %" in ranking and "chưa đạt" in ranking
    figures = page.split('id="figures"')[1].split("</section>")[0]
    assert ">7</a>" in figures and ">3</a>" in figures  # received, received electronic
    # The trend's twelve months end with this one: bars for the month before (1 of 2
    # received electronically) and this one (3 of 8); none for months without documents.
    trend = page.split('id="trend"')[1].split("</svg>")[0]
    assert re.findall(r'<rect x="(\d+)" y="([\d.]+)"', trend) == [("406", "60.0"), ("446", "72.5")]
    behind = client.get(
        "/reports/documents",
        query_string={"unit": CHAN_MONG, "scope": "self", "kind": "received", **scenario.period},
    ).get_data(as_text=True)
    table = behind.split('id="behind"')[1]
    assert table.count('data-source="inbox"') == 4 and table.count('data-source="paper"') == 1
    electronic = client.get(
        "/reports/documents",
        query_string={
            "unit": CHAN_MONG,
            "scope": "self",
            "kind": "received_electronic",
            **scenario.period,
        },
    ).get_data(as_text=True)
    assert electronic.split('id="behind"')[1].count("<tr data-source") == 2
    sheet = client.get(
        "/reports/export", query_string={"unit": DISTRICT, "format": "xlsx", **scenario.period}
    )
    rows = list(load_workbook(io.BytesIO(sheet.data)).active.iter_rows(values_only=True))
    assert rows[2][:4] == (DISTRICT, "UBND huyện Đoan Hùng", 1, 0)
    above = client.get("/reports", query_string={"unit": PROVINCE, **scenario.period})
    assert above.status_code == 403


@pytest.mark.usefixtures("paper_day")
def test_a_clerk_registers_paper_on_its_page(client: FlaskClient, as_user: Any) -> None:
    from tests.web.test_ui import _csrf, _login

    _login(client, "cm.vanthu")
    page = client.get("/paper").get_data(as_text=True)
    done = client.post(
        "/paper",
        data={
            "csrf_token": _csrf(page),
            "direction": "received",
            "date": "2027-03-10",
            "number": "45/SNV",
            "subject": "Về việc tuyển dụng",
            "counterpart": "Sở Nội vụ",
            "secrecy": "none",
        },
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Đã vào sổ văn bản giấy 45/SNV." in done and "Về việc tuyển dụng" in done
    wrong = client.post(
        "/paper",
        data={
            "csrf_token": _csrf(done),
            "direction": "received",
            "date": "10/03/2027",
            "number": "46/SNV",
            "subject": "x",
            "counterpart": "y",
            "secrecy": "none",
        },
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "46/SNV" not in wrong.split('id="paper"')[1] and 'class="flash error"' in wrong
    listed = client.get("/api/v1/paper-records", headers=as_user("cm.vanthu")).get_json()
    assert [r["number"] for r in listed["items"]] == ["45/SNV"]


@pytest.mark.usefixtures("registered_certificates")
def test_signature_coverage_per_unit_and_signer_with_reasons(
    scenario: Scene, client: FlaskClient, as_user: Any, services: Services
) -> None:

    from docexchange.storage.models import CertificateRecord

    soon = utcnow() + timedelta(days=10)
    with services.sessions() as session:
        for serial, days in (("51", 10), ("52", 45)):
            session.add(
                CertificateRecord(
                    issuer="CN=CA",
                    serial=serial,
                    subject=f"CN=Lãnh đạo {serial}",
                    kind="personal",
                    owner_username="cm.lanhdao",
                    owner_unit_code=None,
                    not_after=utcnow() + timedelta(days=days),
                )
            )
        session.commit()
    auditor = as_user("thanhtra")
    body = client.get(
        "/api/v1/reports/signature-coverage",
        query_string={"unit": PROVINCE, "scope": "subtree", **scenario.period},
        headers=auditor,
    ).get_json()
    units = {u["code"]: u for u in body["units"]}
    assert units[PROVINCE]["issued"] == {
        "total": 4,
        "personal_valid": 2,
        "organisation_valid": 2,
        "both_valid": 2,
    }
    assert units[CHAN_MONG]["received"] == {
        "total": 4,
        "personal_valid": 3,
        "organisation_valid": 4,
        "both_valid": 3,
    }
    assert units[MINH_LUONG]["received"]["both_valid"] == 2
    assert [
        (s["username"], s["issued"]["total"], s["issued"]["both_valid"]) for s in body["signers"]
    ] == [("pt.lanhdao", 4, 2)]
    reasons = {
        (f["source"], f["unit_code"]): [r["code"] for r in f["reasons"]] for f in body["failures"]
    }
    assert reasons[("inbox", CHAN_MONG)] == ["signed_bytes_changed", "no_valid_personal_signature"]
    assert [f["source"] for f in body["failures"]].count("document") == 2  # never checked
    assert "not_verified" in reasons[("document", PROVINCE)]
    assert [c["serial"] for c in body["expiring_certificates"]] == ["51"]
    assert body["expiring_certificates"][0]["not_after"][:10] == soon.date().isoformat()
    commune = client.get(
        "/api/v1/reports/signature-coverage",
        query_string={"unit": PROVINCE, **scenario.period},
        headers=as_user("cm.vanthu"),
    )
    assert (commune.status_code, error_code(commune)) == (403, "unit_forbidden")


@pytest.mark.usefixtures("signing_tokens", "registered_certificates")
def test_a_verdict_on_an_earlier_revision_does_not_count(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    """Checked when signed, then issued (a new revision): the verdict column forgets it, so
    the ratio cannot count the document as verified until its issued file is checked."""
    from docexchange.storage.models import Document
    from tests.web.test_documents import PIN, upload

    clerk, leader = as_user("pt.vanthu"), as_user("pt.lanhdao")
    doc = upload(client, clerk, recipients=[CHAN_MONG]).get_json()["id"]
    signed = client.post(f"/api/v1/documents/{doc}/sign", json={"pin": PIN}, headers=leader)
    assert signed.status_code == 200, signed.get_json()
    checked = client.post(f"/api/v1/documents/{doc}/verify", headers=clerk)
    assert checked.status_code == 200
    with services.sessions() as session:
        stored = session.get(Document, doc)
        assert stored is not None and stored.verified_valid is False  # no organisation seal yet
    issued = client.post(f"/api/v1/documents/{doc}/issue", json={"pin": PIN}, headers=clerk)
    assert issued.status_code == 200 and issued.get_json()["verification"]["current"] is False
    with services.sessions() as session:
        stored = session.get(Document, doc)
        assert stored is not None and stored.verified_valid is None
    assert client.post(f"/api/v1/documents/{doc}/send", headers=clerk).status_code == 202
    with services.sessions() as session:
        stored = session.get(Document, doc)
        assert stored is not None and stored.verified_valid is True  # checked again to send


@pytest.mark.usefixtures("registered_certificates")
def test_the_signature_coverage_page(scenario: Scene, client: FlaskClient) -> None:
    from tests.web.test_ui import _login

    _login(client, "thanhtra")
    page = client.get(
        "/reports/signatures",
        query_string={"unit": PROVINCE, "scope": "subtree", **scenario.period},
    ).get_data(as_text=True)
    units = page.split('id="coverage-units"')[1].split("</table>")[0]
    province = units.split(f'data-unit="{PROVINCE}"')[1].split("</tr>")[0]
    assert "<td>4</td><td>2</td><td>2</td><td>2</td>" in province
    signers = page.split('id="coverage-signers"')[1].split("</table>")[0]
    assert 'data-signer="pt.lanhdao"' in signers and "Nguyễn Văn Tỉnh" in signers
    failures = page.split('id="coverage-failures"')[1].split("</table>")[0]
    assert "Nội dung đã ký bị thay đổi sau khi ký." in failures
    assert "Chữ ký số của tệp này chưa được kiểm tra." in failures
    dashboard = client.get("/reports", query_string={"unit": PROVINCE, **scenario.period})
    assert 'id="coverage-link"' in dashboard.get_data(as_text=True)


@pytest.mark.usefixtures("paper_day")
def test_exports_never_carry_a_live_formula(client: FlaskClient, as_user: Any) -> None:
    """A unit named like a formula reaches the sheet's reader as text (OWASP CSV injection)."""
    formula = '=HYPERLINK("http://127.0.0.1:9/x","Bấm vào đây")'
    admin, auditor = as_user("admin"), as_user("thanhtra")
    renamed = client.patch(f"/api/v1/units/{CHAN_MONG}", json={"name": formula}, headers=admin)
    assert renamed.status_code == 200, renamed.get_json()
    params = {"unit": DISTRICT, "scope": "subtree", "from": "2027-03-01", "to": "2027-03-31"}
    sheet = _ratio(client, auditor, format="xlsx", **params)
    cells = [c for row in load_workbook(io.BytesIO(sheet.data)).active.iter_rows() for c in row]
    [named] = [c for c in cells if c.value == formula]
    assert named.data_type == "s"  # a string cell, not a formula
    text = _ratio(client, auditor, format="csv", **params).data.decode("utf-8-sig")
    [line] = [line for line in text.splitlines() if line.startswith(CHAN_MONG)]
    assert "\"'=HYPERLINK(" in line and ',"=HYPERLINK' not in line
