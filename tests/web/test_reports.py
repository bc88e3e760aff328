"""The fully-electronic ratio and the paper register, on a scripted scenario with known counts.

Documents of the province go through the real flow (sign, issue, send, deliver, verify); a few
rows stand for what the flow cannot produce here on demand: a document from a peer whose
signatures failed, and arrivals on either side of midnight at the end of the period.
"""

from __future__ import annotations

import io
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook

from docexchange.domain.accounts import Role
from docexchange.domain.reports import Counts, PeriodKind, period_of, rank
from docexchange.domain.timeutil import VN_TZ, today_vn
from docexchange.services import exchange
from docexchange.services.container import Services
from docexchange.storage.models import InboxEntry, Unit
from tests.conftest import error_code
from tests.web.test_documents import signed_and_issued

PROVINCE, DISTRICT = "000.00.00.H45", "000.00.12.H45"
CHAN_MONG, MINH_LUONG = "000.21.12.H45", "000.22.12.H45"
#: The scenario happens this month (its documents are issued now), in Vietnam time.
MONTH = period_of(PeriodKind.MONTH, today_vn())
THIS_MONTH = {"from": MONTH.first.isoformat(), "to": MONTH.last.isoformat()}


def _day(offset: int) -> str:
    """The day ``offset`` days after the first of this month (negative: the month before)."""
    return (MONTH.first + timedelta(days=offset)).isoformat()


def _vn(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), VN_TZ).astimezone(UTC)


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
                document_ref=f"000.00.00.G22,2026/11/30,{uuid.uuid4().hex[:6]}/VPCP",
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
def scenario(client: FlaskClient, as_user: Any, services: Services) -> None:
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
    assert _paper(client, clerk, direction="sent", date=_day(4)).status_code == 201
    assert _paper(client, clerk, direction="sent", date=_day(5), secrecy="mat").status_code == 201
    commune = as_user("cm.vanthu")
    assert _paper(client, commune, direction="sent", date=today_vn().isoformat()).status_code == 201
    assert _paper(client, commune, direction="received", date=_day(0)).status_code == 201
    assert _paper(client, commune, direction="received", date=_day(-1)).status_code == 201
    # Chân Mộng, from a peer: one failed verification; one arrived at 23:30 on the month's
    # last day in Vietnam (counted), one at 00:10 on the next month's first (not counted).
    _arrival(services, CHAN_MONG, _vn(MONTH.first + timedelta(days=9), 10), valid=False)
    _arrival(services, CHAN_MONG, _vn(MONTH.last, 23, 30), valid=True)
    _arrival(services, CHAN_MONG, _vn(MONTH.last + timedelta(days=1), 0, 10), valid=True)


@pytest.mark.usefixtures("signing_tokens", "registered_certificates", "scenario")
def test_the_scripted_scenario_gives_exactly_the_expected_figures(
    client: FlaskClient, as_user: Any
) -> None:
    auditor = as_user("thanhtra")
    expected = {
        # sent total/electronic, received total/electronic, secret excluded
        PROVINCE: (4, 1, 0, 0, 2),
        DISTRICT: (0, 0, 0, 0, 0),
        CHAN_MONG: (1, 0, 5, 2, 0),
        MINH_LUONG: (0, 0, 2, 1, 0),
    }
    for code, figures in expected.items():
        body = _ratio(client, auditor, unit=code, **THIS_MONTH).get_json()
        assert _figures(body) == figures, code
    commune = _ratio(client, auditor, unit=CHAN_MONG, **THIS_MONTH).get_json()
    assert commune["sent"]["ratio"] == 0.0 and commune["received"]["ratio"] == 0.4
    assert commune["ratio"] == pytest.approx(2 / 6) and commune["below_target"] is True
    empty = _ratio(client, auditor, unit=DISTRICT, **THIS_MONTH).get_json()
    assert (empty["sent"]["ratio"], empty["received"]["ratio"], empty["ratio"]) == (None,) * 3
    assert empty["below_target"] is False

    whole = _ratio(client, auditor, unit=PROVINCE, scope="subtree", **THIS_MONTH).get_json()
    assert _figures(whole) == (5, 1, 7, 3, 2)
    assert [(c["code"], c["rank"]) for c in whole["children"]] == [(DISTRICT, 1)]
    assert _figures(whole["children"][0]) == (1, 0, 7, 3, 0)
    district = _ratio(client, auditor, unit=DISTRICT, scope="subtree", **THIS_MONTH).get_json()
    assert [(c["code"], c["rank"], c["below_target"]) for c in district["children"]] == [
        (MINH_LUONG, 1, True),
        (CHAN_MONG, 2, True),
    ]
    # The next month holds only the arrival after midnight; the month before, one paper record.
    following = period_of(PeriodKind.MONTH, MONTH.last + timedelta(days=15))
    december = _ratio(client, auditor, unit=CHAN_MONG, period="month", **{"from": _day(45)})
    assert december.get_json()["from"] == following.first.isoformat()
    assert december.get_json()["to"] == following.last.isoformat()
    assert _figures(december.get_json()) == (0, 0, 1, 1, 0)
    october = _ratio(client, auditor, unit=CHAN_MONG, **{"from": _day(-1), "to": _day(-1)})
    today = today_vn().isoformat()  # a period of one day holds that day's paper
    one_day = _ratio(client, auditor, unit=CHAN_MONG, **{"from": today, "to": today}).get_json()
    assert one_day["sent"]["total"] == 1
    assert _figures(october.get_json()) == (0, 0, 1, 0, 0)


@pytest.mark.usefixtures("signing_tokens", "registered_certificates", "scenario")
def test_who_sees_which_report(client: FlaskClient, as_user: Any) -> None:
    clerk = as_user("cm.vanthu")
    own = _ratio(client, clerk, **THIS_MONTH)
    assert own.status_code == 200 and own.get_json()["unit"] == CHAN_MONG
    for params in ({"unit": MINH_LUONG}, {"scope": "subtree"}, {"unit": PROVINCE}):
        refused = _ratio(client, clerk, **params, **THIS_MONTH)
        assert (refused.status_code, error_code(refused)) == (403, "unit_forbidden"), params
    leader = as_user("dh.lanhdao")
    assert _ratio(client, leader, unit=DISTRICT, scope="subtree", **THIS_MONTH).status_code == 200
    assert _ratio(client, leader, unit=CHAN_MONG, **THIS_MONTH).status_code == 200
    above = _ratio(client, leader, unit=PROVINCE, **THIS_MONTH)
    assert (above.status_code, error_code(above)) == (403, "unit_forbidden")
    bad = _ratio(client, leader, **{"from": THIS_MONTH["to"], "to": _day(-3)})
    assert (bad.status_code, error_code(bad)) == (422, "invalid_period")
    unknown = _ratio(client, as_user("thanhtra"), unit="000.99.99.H45", **THIS_MONTH)
    assert (unknown.status_code, error_code(unknown)) == (404, "unit_not_found")


@pytest.mark.usefixtures("signing_tokens", "registered_certificates", "scenario")
def test_merged_units_roll_up_to_their_successor_only_when_asked(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    with services.sessions() as session:
        merged = session.get(Unit, MINH_LUONG)
        assert merged is not None
        merged.successor_code = CHAN_MONG  # the 2025 reform: Minh Lương joins Chân Mộng
        session.commit()
    auditor = as_user("thanhtra")
    apart = _ratio(client, auditor, unit=DISTRICT, scope="subtree", **THIS_MONTH).get_json()
    assert {c["code"]: _figures(c) for c in apart["children"]} == {
        CHAN_MONG: (1, 0, 5, 2, 0),
        MINH_LUONG: (0, 0, 2, 1, 0),
    }
    rolled = _ratio(client, auditor, unit=DISTRICT, scope="subtree", rollup="1", **THIS_MONTH)
    assert {c["code"]: _figures(c) for c in rolled.get_json()["children"]} == {
        CHAN_MONG: (1, 0, 7, 3, 0)
    }
    assert _figures(rolled.get_json()) == _figures(apart)
    from docexchange.domain.reports import Scope, parse_period
    from docexchange.services import reports
    from docexchange.services.authz import Actor

    with services.sessions() as session:
        admin = Actor(0, "t", PROVINCE, frozenset({Role.ADMIN}))
        period = parse_period(THIS_MONTH["from"], THIS_MONTH["to"], today=MONTH.first)
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
    alone = _ratio(client, auditor, unit=CHAN_MONG, rollup="1", **THIS_MONTH).get_json()
    assert _figures(alone) == (1, 0, 7, 3, 0)  # the successor's own report takes them in
    assert _figures(_ratio(client, auditor, unit=CHAN_MONG, **THIS_MONTH).get_json()) == (
        1,
        0,
        5,
        2,
        0,
    )


@pytest.mark.usefixtures("signing_tokens", "registered_certificates", "scenario")
def test_the_exports_hold_the_same_figures_as_the_api(client: FlaskClient, as_user: Any) -> None:
    auditor = as_user("thanhtra")
    params = {"unit": DISTRICT, "scope": "subtree", **THIS_MONTH}
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


def test_the_paper_register_checks_what_it_is_given(client: FlaskClient, as_user: Any) -> None:
    clerk = as_user("cm.vanthu")
    missing = _paper(client, clerk, direction="sent")
    assert (missing.status_code, error_code(missing)) == (422, "invalid_field")
    sideways = _paper(client, clerk, direction="across", date="2026-11-02")
    assert (sideways.status_code, error_code(sideways)) == (422, "invalid_field")
    later = (today_vn() + timedelta(days=1)).isoformat()
    for bad in ({"date": later}, {"date": "2026-11-02", "secrecy": ["mat"]}):
        refused = _paper(client, clerk, direction="sent", **bad)
        assert (refused.status_code, error_code(refused)) == (422, "invalid_field"), bad
    other = _paper(client, clerk, direction="sent", date="2026-11-02", unit_code=PROVINCE)
    assert (other.status_code, error_code(other)) == (403, "unit_forbidden")
    leader = _paper(client, as_user("cm.lanhdao"), direction="sent", date="2026-11-02")
    assert (leader.status_code, error_code(leader)) == (403, "role_required")
    made = _paper(client, clerk, direction="received", date="2026-11-02", secrecy="toi_mat")
    assert made.status_code == 201 and made.get_json()["secrecy"] == "toi_mat"
    listed = client.get("/api/v1/paper-records", headers=clerk).get_json()["items"]
    assert [r["id"] for r in listed] == [made.get_json()["id"]]
    assert client.get("/api/v1/paper-records", headers=as_user("ml.vanthu")).get_json() == {
        "items": []
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


@pytest.mark.usefixtures("signing_tokens", "registered_certificates", "scenario")
def test_the_dashboard_ranks_and_drills_down(client: FlaskClient) -> None:
    from tests.web.test_ui import _login

    _login(client, "dh.lanhdao")
    page = client.get("/reports", query_string={"unit": DISTRICT, **THIS_MONTH}).get_data(
        as_text=True
    )
    assert "Xếp hạng các đơn vị cấp dưới" in page
    ranking = page.split('id="ranking"')[1].split("</table>")[0]
    assert ranking.index(MINH_LUONG) < ranking.index(CHAN_MONG)  # 50 % before 33.3 %
    assert "50.0 %" in ranking and "33.3 %" in ranking and "chưa đạt" in ranking
    figures = page.split('id="figures"')[1].split("</section>")[0]
    assert ">7</a>" in figures and ">3</a>" in figures  # received, received electronic
    assert page.count("<rect") >= 1  # November has a bar in the trend
    behind = client.get(
        "/reports/documents",
        query_string={"unit": CHAN_MONG, "scope": "self", "kind": "received", **THIS_MONTH},
    ).get_data(as_text=True)
    table = behind.split('id="behind"')[1]
    assert table.count('data-source="inbox"') == 4 and table.count('data-source="paper"') == 1
    electronic = client.get(
        "/reports/documents",
        query_string={
            "unit": CHAN_MONG,
            "scope": "self",
            "kind": "received_electronic",
            **THIS_MONTH,
        },
    ).get_data(as_text=True)
    assert electronic.split('id="behind"')[1].count("<tr data-source") == 2
    sheet = client.get(
        "/reports/export", query_string={"unit": DISTRICT, "format": "xlsx", **THIS_MONTH}
    )
    rows = list(load_workbook(io.BytesIO(sheet.data)).active.iter_rows(values_only=True))
    assert rows[2][:4] == (DISTRICT, "UBND huyện Đoan Hùng", 1, 0)
    above = client.get("/reports", query_string={"unit": PROVINCE, **THIS_MONTH})
    assert above.status_code == 403


def test_a_clerk_registers_paper_on_its_page(client: FlaskClient, as_user: Any) -> None:
    from tests.web.test_ui import _csrf, _login

    _login(client, "cm.vanthu")
    page = client.get("/paper").get_data(as_text=True)
    done = client.post(
        "/paper",
        data={
            "csrf_token": _csrf(page),
            "direction": "received",
            "date": "2026-11-20",
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
            "date": "20/11/2026",
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


@pytest.mark.usefixtures("signing_tokens", "registered_certificates", "scenario")
def test_signature_coverage_per_unit_and_signer_with_reasons(
    client: FlaskClient, as_user: Any, services: Services
) -> None:

    from docexchange.storage.models import CertificateRecord

    soon = datetime.now(UTC) + timedelta(days=10)
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
                    not_after=datetime.now(UTC) + timedelta(days=days),
                )
            )
        session.commit()
    auditor = as_user("thanhtra")
    body = client.get(
        "/api/v1/reports/signature-coverage",
        query_string={"unit": PROVINCE, "scope": "subtree", **THIS_MONTH},
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
        query_string={"unit": PROVINCE, **THIS_MONTH},
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
    assert client.post(f"/api/v1/documents/{doc}/sign", json={"pin": PIN}, headers=leader)
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


@pytest.mark.usefixtures("signing_tokens", "registered_certificates", "scenario")
def test_the_signature_coverage_page(client: FlaskClient) -> None:
    from tests.web.test_ui import _login

    _login(client, "thanhtra")
    page = client.get(
        "/reports/signatures", query_string={"unit": PROVINCE, "scope": "subtree", **THIS_MONTH}
    ).get_data(as_text=True)
    units = page.split('id="coverage-units"')[1].split("</table>")[0]
    province = units.split(f'data-unit="{PROVINCE}"')[1].split("</tr>")[0]
    assert "<td>4</td><td>2</td><td>2</td><td>2</td>" in province
    signers = page.split('id="coverage-signers"')[1].split("</table>")[0]
    assert 'data-signer="pt.lanhdao"' in signers and "Nguyễn Văn Tỉnh" in signers
    failures = page.split('id="coverage-failures"')[1].split("</table>")[0]
    assert "Nội dung đã ký bị thay đổi sau khi ký." in failures
    assert "Chữ ký số của tệp này chưa được kiểm tra." in failures
    dashboard = client.get("/reports", query_string={"unit": PROVINCE, **THIS_MONTH})
    assert 'id="coverage-link"' in dashboard.get_data(as_text=True)
