"""Search, filters and pages of the lists: Vietnamese with or without its marks, every
filter of the contract, ``{items, total, page, per_page}``, the same on the pages."""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from docexchange.domain.search import fold, found_in, like_pattern, terms
from docexchange.services.container import Services
from docexchange.storage.models import InboxEntry
from tests.clock import pinned, vn
from tests.conftest import error_code
from tests.web.test_ui import _login

CHAN_MONG = "000.21.12.H45"
PROVINCE = "000.00.00.H45"
DISTRICT = "000.00.12.H45"
TODAY = date(2027, 3, 1)

pytestmark = pytest.mark.usefixtures("on_monday")


@pytest.fixture
def on_monday() -> Iterator[None]:
    with pinned(vn(TODAY, 8, 0)):
        yield


def add_arrivals(services: Services, count: int, **fields: Any) -> list[str]:
    """``count`` rows in Chân Mộng's inbox, one minute apart (newest last), written through
    the ORM as an arrival is; ``fields`` override the defaults (a callable gets the index)."""
    ids = []
    with services.sessions() as session:
        for n in range(count):
            values: dict[str, Any] = {
                "subject": f"Công văn về việc báo cáo số liệu tháng {n}",
                "doc_type": "CV",
                "number": f"{n + 1}/UBND-VP",
                "sender_code": PROVINCE,
                "status_code": "01",
                "received_at": datetime(2027, 2, 1, 1, 0, tzinfo=UTC) + timedelta(minutes=n),
            }
            values.update({k: v(n) if callable(v) else v for k, v in fields.items()})
            entry = InboxEntry(
                id=secrets.token_hex(16),
                consignment_id=str(uuid.uuid4()),
                recipient_code=CHAN_MONG,
                document_ref=f"{values['sender_code']},2027/02/01,{values['number']}",
                urgency="normal",
                urgency_rank=3,
                paper_copy=False,
                pdf_sha256="0" * 64,
                verification={"valid": True},
                verified_valid=True,
                **values,
            )
            session.add(entry)
            ids.append(entry.id)
        session.commit()
    return ids


def test_folding_drops_the_marks_and_a_search_escapes_like() -> None:
    assert fold("QUYẾT ĐỊNH  về việc") == "quyet dinh ve viec"
    assert fold("Đoan Hùng") == fold("doan hung") == "doan hung"
    assert terms("  Quyết   định quyet ") == ("quyet", "dinh")
    assert like_pattern("50%_a\\b") == "%50\\%\\_a\\\\b%"
    assert found_in("dinh quyet", "Quyết định số 5") and not found_in("nghi dinh", "Quyết định")


def test_the_inbox_finds_with_or_without_marks_and_by_the_issuers_name(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    add_arrivals(services, 3)
    add_arrivals(
        services,
        2,
        subject=lambda n: f"Quyết định phê duyệt kế hoạch {n}",
        doc_type="QĐ",
        number=lambda n: f"{n + 7}/QĐ-UBND",
        sender_code=DISTRICT,
    )
    clerk = as_user("cm.vanthu")

    def found(query: str) -> list[str]:
        body = client.get(f"/api/v1/inbox?{query}", headers=clerk).get_json()
        assert set(body) == {"items", "total", "page", "per_page"}, body
        assert body["total"] == len(body["items"])
        return sorted(item["subject"] for item in body["items"])

    decisions = ["Quyết định phê duyệt kế hoạch 0", "Quyết định phê duyệt kế hoạch 1"]
    assert found("q=quyet+dinh") == decisions
    assert found("q=Quy%E1%BA%BFt+%C4%91%E1%BB%8Bnh") == decisions  # "Quyết định"
    assert found("q=QUYET") == decisions
    assert found("q=doan+hung") == decisions  # the issuer: UBND huyện Đoan Hùng
    assert found("q=phu+tho+bao+cao") == [
        f"Công văn về việc báo cáo số liệu tháng {n}" for n in range(3)
    ]
    assert found("q=8%2FQ%C4%90") == ["Quyết định phê duyệt kế hoạch 1"]  # number "8/QĐ"
    assert found("q=%25") == []  # a literal "%", not a wildcard
    assert found("q=nghi+quyet") == []


def test_the_inbox_filters_by_day_sender_status_type_and_deadline(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    add_arrivals(
        services,
        6,
        received_at=lambda n: vn(date(2027, 2, 20 + n), 9, 0),  # 20 … 25 February
        status_code=lambda n: "06" if n == 0 else "03",
        due_date=lambda n: date(2027, 2, 27) if n < 3 else None,
        sender_code=lambda n: DISTRICT if n % 2 else PROVINCE,
        doc_type=lambda n: "TB" if n == 5 else "CV",
    )
    clerk = as_user("cm.vanthu")

    def days(query: str) -> list[int]:
        body = client.get(f"/api/v1/inbox?{query}", headers=clerk).get_json()
        return sorted(int(i["received_at"][8:10]) for i in body["items"])

    assert days("from=2027-02-21&to=2027-02-23") == [21, 22, 23]
    assert days("to=2027-02-20") == [20]
    assert days(f"sender={DISTRICT}") == [21, 23, 25]
    assert days("status=06") == [20]
    assert days("doc_type=TB") == [25]
    # Due on 27 February, today is 1 March: overdue unless finished (the one done on the 20th).
    assert days("overdue=1") == [21, 22]
    assert days(f"overdue=true&sender={PROVINCE}") == [22]


def test_the_inbox_pages_through_250_arrivals_and_refuses_bad_pages(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    ids = add_arrivals(services, 250)
    clerk = as_user("cm.vanthu")
    seen: list[str] = []
    for page in (1, 2, 3):
        body = client.get(f"/api/v1/inbox?per_page=100&page={page}", headers=clerk).get_json()
        assert (body["total"], body["page"], body["per_page"]) == (250, page, 100)
        seen += [item["delivery_id"] for item in body["items"]]
    assert len(seen) == 250 and set(seen) == set(ids)
    assert seen[0] == ids[-1]  # newest first
    default = client.get("/api/v1/inbox", headers=clerk).get_json()
    assert (len(default["items"]), default["per_page"], default["page"]) == (50, 50, 1)
    beyond = client.get("/api/v1/inbox?page=9", headers=clerk).get_json()
    assert (beyond["items"], beyond["total"]) == ([], 250)
    for query, field in (
        ("per_page=201", "per_page"),
        ("per_page=0", "per_page"),
        ("page=-1", "page"),
        ("page=x", "page"),
        ("from=2027-03-05&to=2027-03-01", None),
        ("from=01/03/2027", "from"),
        ("doc_type=XX", None),
        ("sender=not-a-code", None),
    ):
        refused = client.get(f"/api/v1/inbox?{query}", headers=clerk)
        assert refused.status_code in (400, 422), (query, refused.status_code)
        body = refused.get_json()["error"]
        assert body["message_vi"] and body["message"], query
        if field:
            assert body.get("field") == field, (query, body)


def test_documents_paper_records_and_registers_take_the_same_search(
    client: FlaskClient, as_user: Any
) -> None:
    from tests.web.test_documents import upload

    clerk = as_user("pt.vanthu")
    for subject, kind in (("Về việc phòng chống lụt bão", "CT"), ("Về việc tuyển dụng", "TB")):
        assert upload(client, clerk, subject=subject, doc_type=kind).status_code == 201
    documents = client.get("/api/v1/documents?q=lut+bao", headers=clerk).get_json()
    assert [d["subject"] for d in documents["items"]] == ["Về việc phòng chống lụt bão"]
    assert documents["total"] == 1
    by_type = client.get("/api/v1/documents?q=chi+thi", headers=clerk).get_json()  # "Chỉ thị"
    assert [d["doc_type"] for d in by_type["items"]] == ["CT"]
    drafts = client.get("/api/v1/documents?state=draft&per_page=1", headers=clerk).get_json()
    assert (drafts["total"], len(drafts["items"])) == (2, 1)

    for n, subject in enumerate(("Giấy mời họp giao ban", "Báo cáo quý I", "Giấy mời tập huấn")):
        made = client.post(
            "/api/v1/paper-records",
            json={
                "direction": "received",
                "date": f"2027-02-2{n}",
                "number": f"{n + 1}/GM",
                "subject": subject,
                "counterpart": "Sở Nội vụ",
                "secrecy": "none",
            },
            headers=clerk,
        )
        assert made.status_code == 201, made.get_json()
    paper = client.get("/api/v1/paper-records?q=giay+moi&per_page=1", headers=clerk).get_json()
    assert (paper["total"], [p["subject"] for p in paper["items"]]) == (2, ["Giấy mời tập huấn"])
    paper2 = client.get("/api/v1/paper-records?q=giay+moi&per_page=1&page=2", headers=clerk)
    assert [p["subject"] for p in paper2.get_json()["items"]] == ["Giấy mời họp giao ban"]
    between = client.get("/api/v1/paper-records?from=2027-02-21&to=2027-02-21", headers=clerk)
    assert [p["subject"] for p in between.get_json()["items"]] == ["Báo cáo quý I"]

    register = client.get(
        "/api/v1/registers/incoming?year=2027&q=so+noi+vu+giay&per_page=1", headers=clerk
    ).get_json()
    assert (register["total"], register["page"], register["per_page"]) == (2, 1, 1)
    assert [r["incoming_number"] for r in register["items"]] == [1]
    second = client.get(
        "/api/v1/registers/incoming?year=2027&q=so+noi+vu+giay&per_page=1&page=2", headers=clerk
    ).get_json()
    assert [r["subject"] for r in second["items"]] == ["Giấy mời tập huấn"]


def test_the_inbox_page_keeps_its_filters_in_the_links_to_other_pages(
    client: FlaskClient, demo: None, services: Services
) -> None:
    add_arrivals(services, 120)
    add_arrivals(services, 3, subject=lambda n: f"Quyết định số {n}", doc_type="QĐ", number="5/QĐ")
    _login(client, "cm.vanthu")
    page = client.get("/inbox?q=bao+cao&per_page=50").get_data(as_text=True)
    assert "1\u201350 trong 120" in page and "Trang 1/3" in page
    assert 'value="bao cao"' in page
    following = re.search(r'id="page-next" rel="next" href="([^"]+)"', page)
    assert following is not None
    link = following.group(1).replace("&amp;", "&")
    assert "q=bao+cao" in link and "page=2" in link and "per_page=50" in link
    second = client.get(link).get_data(as_text=True)
    assert "51\u2013100 trong 120" in second and 'id="page-previous"' in second
    found = client.get("/inbox?q=quyet+dinh").get_data(as_text=True)
    assert found.count("Quyết định số") == 3 and "Công văn về việc" not in found
    nothing = client.get("/inbox?q=khong+co+gi").get_data(as_text=True)
    assert "Không có văn bản nào khớp" in nothing
    refused = client.get("/inbox?per_page=999")
    assert (
        refused.status_code in (400, 422) and "per_page" not in refused.get_data(as_text=True)[:0]
    )


def test_a_search_is_refused_an_error_code_not_a_crash(client: FlaskClient, as_user: Any) -> None:
    clerk = as_user("cm.vanthu")
    long = client.get("/api/v1/inbox?q=" + "a" * 101, headers=clerk)
    assert (long.status_code, error_code(long)) == (422, "invalid_field")
    for path in ("/api/v1/outbox", "/api/v1/documents", "/api/v1/paper-records"):
        body = client.get(f"{path}?q=%27%22;--%5C&per_page=200", headers=clerk).get_json()
        assert body["items"] == [] and body["per_page"] == 200, path
        nul = client.get(f"{path}?q=a%00b", headers=clerk)
        assert (nul.status_code, error_code(nul)) == (422, "invalid_character"), path
