"""The incoming register's numbers (NĐ 30 Điều 22): given at acceptance, consecutive per unit
and year, shared by electronic arrivals and paper received, never twice."""

from __future__ import annotations

import io
import subprocess
import threading
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from docexchange.services import exchange
from docexchange.services.container import Services
from tests.clock import office_at, vn
from tests.conftest import error_code
from tests.data.samples import make_pdf
from tests.web.test_documents import PIN, upload

pytestmark = pytest.mark.usefixtures("signing_tokens", "registered_certificates", "in_2027")

CHAN_MONG = "000.21.12.H45"


@pytest.fixture
def in_2027(services: Services) -> Iterator[None]:
    with office_at(services, vn(date(2027, 1, 4), 8, 0)):
        yield


def _arrivals(client: FlaskClient, as_user: Any, services: Services, count: int) -> list[str]:
    """``count`` documents issued by the province and delivered to Chân Mộng."""
    clerk, leader = as_user("pt.vanthu"), as_user("pt.lanhdao")
    ids = [
        upload(client, clerk, make_pdf(text=f"Van ban {n}"), recipients=[CHAN_MONG]).get_json()[
            "id"
        ]
        for n in range(count)
    ]
    batch = client.post(
        "/api/v1/signing-batches", json={"document_ids": ids, "pin": PIN}, headers=leader
    )
    assert batch.status_code == 200 and batch.get_json()["signed"] == count
    for doc_id in ids:
        issued = client.post(f"/api/v1/documents/{doc_id}/issue", json={"pin": PIN}, headers=clerk)
        assert issued.status_code == 200
        assert client.post(f"/api/v1/documents/{doc_id}/send", headers=clerk).status_code == 202
    exchange.deliver_pending(services)
    items = client.get("/api/v1/inbox", headers=as_user("cm.vanthu")).get_json()["items"]
    assert len(items) == count
    assert all(item["incoming_number"] is None for item in items)
    return [item["delivery_id"] for item in items]


def _paper_received(client: FlaskClient, as_user: Any, day: str) -> Any:
    answer = client.post(
        "/api/v1/paper-records",
        json={
            "direction": "received",
            "date": day,
            "number": "12/UBND",
            "subject": "Công văn giấy",
            "counterpart": "Sở Nội vụ",
        },
        headers=as_user("cm.vanthu"),
    )
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def test_thirty_concurrent_accepts_get_one_to_thirty_and_paper_takes_the_next(
    app: Flask, client: FlaskClient, as_user: Any, services: Services
) -> None:
    entries = _arrivals(client, as_user, services, 30)
    clerk = as_user("cm.vanthu")
    answers: list[int] = []
    lock = threading.Lock()

    def accept(share: list[str]) -> None:
        own = app.test_client()  # two clients, each accepting half, at once
        for entry in share:
            moved = own.post(
                f"/api/v1/deliveries/{entry}/status", json={"code": "03"}, headers=clerk
            )
            with lock:
                answers.append(moved.status_code)

    threads = [threading.Thread(target=accept, args=(entries[i::2],)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert answers == [200] * 30
    items = client.get("/api/v1/inbox", headers=clerk).get_json()["items"]
    assert sorted(item["incoming_number"] for item in items) == list(range(1, 31))
    assert {item["incoming_year"] for item in items} == {2027}
    # Accepting again, or any later move, keeps the number.
    one = entries[0]
    number = next(i["incoming_number"] for i in items if i["delivery_id"] == one)
    leader = as_user("cm.lanhdao")
    assigned = client.post(
        f"/api/v1/deliveries/{one}/status",
        json={"code": "04", "assignee": "cm.vanthu"},
        headers=leader,
    )
    assert assigned.status_code == 200
    entry = client.get(f"/api/v1/inbox/{one}", headers=clerk).get_json()
    assert entry["incoming_number"] == number

    paper = _paper_received(client, as_user, "2027-01-04")
    assert (paper["incoming_number"], paper["incoming_year"]) == (31, 2027)
    sent = client.post(
        "/api/v1/paper-records",
        json={
            "direction": "sent",
            "date": "2027-01-04",
            "number": "3/UBND",
            "subject": "Gửi giấy",
            "counterpart": "Huyện",
        },
        headers=clerk,
    ).get_json()
    assert sent["incoming_number"] is None
    _the_register_lists_them_in_order_and_exports_them(client, as_user)


def _the_register_lists_them_in_order_and_exports_them(client: FlaskClient, as_user: Any) -> None:
    clerk = as_user("cm.vanthu")
    register = client.get("/api/v1/registers/incoming?year=2027", headers=clerk).get_json()
    assert register["unit"] == {"code": CHAN_MONG, "name": "UBND xã Chân Mộng"}
    numbers = [item["incoming_number"] for item in register["items"]]
    assert numbers == list(range(1, 32))
    first, last = register["items"][0], register["items"][-1]
    assert (first["issuer"], first["electronic"], first["arrived_on"]) == (
        "UBND tỉnh Phú Thọ",
        True,
        "2027-01-04",
    )
    assert first["number"].endswith("/QĐ-UBND") and first["document_date"] == "2027-01-04"
    assert (last["issuer"], last["status"], last["subject"]) == (
        "Sở Nội vụ",
        "paper",
        "Công văn giấy",
    )
    assigned = [i for i in register["items"] if i["assignee"]]
    assert [i["assignee"] for i in assigned] == ["Đỗ Thị Chân"]  # by name, not username
    empty = client.get("/api/v1/registers/incoming?year=2026", headers=clerk).get_json()
    assert empty["items"] == []

    sheet = client.get("/api/v1/registers/incoming?year=2027&format=xlsx", headers=clerk)
    assert sheet.status_code == 200
    assert (
        'filename="so-van-ban-den-000.21.12.H45-2027.xlsx"' in sheet.headers["Content-Disposition"]
    )
    rows = list(load_workbook(io.BytesIO(sheet.data)).active.iter_rows(values_only=True))
    assert rows[1][:2] == ("Số đến", "Ngày đến")
    assert [r[0] for r in rows[2:]] == list(range(1, 32))
    assert rows[-1][3] == "Sở Nội vụ" and rows[-1][8] == "văn bản giấy"

    printed = client.get("/api/v1/registers/incoming?year=2027&format=pdf", headers=clerk)
    assert printed.status_code == 200 and printed.mimetype == "application/pdf"
    text = _pdf_text(printed.data)
    assert "SỔ ĐĂNG KÝ VĂN BẢN ĐẾN NĂM 2027" in text and "UBND xã Chân Mộng" in text
    assert "Công văn giấy" in text and "Sở Nội vụ" in text and "Trang 1/" in text
    width, height = _page_size(printed.data)
    assert width > height  # A4 landscape

    other = client.get(f"/api/v1/registers/incoming?unit={CHAN_MONG}", headers=as_user("ml.vanthu"))
    assert (other.status_code, error_code(other)) == (403, "unit_forbidden")
    district = client.get(
        f"/api/v1/registers/incoming?unit={CHAN_MONG}&year=2027", headers=as_user("dh.lanhdao")
    )
    assert district.status_code == 200 and len(district.get_json()["items"]) == 31
    bad = client.get("/api/v1/registers/incoming?year=20x7", headers=clerk)
    assert (bad.status_code, error_code(bad)) == (422, "invalid_field")
    wrong = client.get("/api/v1/registers/incoming?format=doc", headers=clerk)
    assert wrong.status_code == 422
    _the_outgoing_register_lists_what_was_issued_and_sent_on_paper(client, as_user)


def _the_outgoing_register_lists_what_was_issued_and_sent_on_paper(
    client: FlaskClient, as_user: Any
) -> None:
    province = as_user("pt.vanthu")
    issued = client.get("/api/v1/registers/outgoing?year=2027", headers=province).get_json()
    items = issued["items"]
    assert [i["number"] for i in items] == [f"{n:02d}/QĐ-UBND" for n in range(1, 31)]
    assert {(i["signer"], tuple(i["recipients"]), i["electronic"]) for i in items} == {
        ("Nguyễn Văn Tỉnh", ("UBND xã Chân Mộng",), True)
    }
    assert items[0]["issued_on"] == "2027-01-04" and items[0]["doc_type"] == "QĐ"
    commune = client.get("/api/v1/registers/outgoing?year=2027", headers=as_user("cm.vanthu"))
    [paper] = commune.get_json()["items"]
    assert (paper["number"], paper["recipients"], paper["electronic"]) == (
        "3/UBND",
        ["Huyện"],
        False,
    )
    sheet = client.get("/api/v1/registers/outgoing?year=2027&format=xlsx", headers=province)
    rows = list(load_workbook(io.BytesIO(sheet.data)).active.iter_rows(values_only=True))
    assert rows[1][0] == "Số, ký hiệu" and rows[2][0] == "01/QĐ-UBND"
    assert rows[2][2].startswith("QĐ — ") and rows[2][5] == "điện tử"
    printed = client.get("/api/v1/registers/outgoing?year=2027&format=pdf", headers=province)
    text = _pdf_text(printed.data)
    assert "SỔ ĐĂNG KÝ VĂN BẢN ĐI NĂM 2027" in text and "30/QĐ-UBND" in text


def _pdf_text(data: bytes) -> str:
    out = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True, timeout=60
    )
    return out.stdout.decode()


def _page_size(data: bytes) -> tuple[float, float]:
    out = subprocess.run(["pdfinfo", "-"], input=data, capture_output=True, check=True, timeout=60)
    line = next(x for x in out.stdout.decode().splitlines() if x.startswith("Page size"))
    words = line.split()
    return float(words[2]), float(words[4])


def test_each_year_starts_again_at_one(client: FlaskClient, as_user: Any) -> None:
    late = _paper_received(client, as_user, "2026-12-30")  # registered after New Year
    first = _paper_received(client, as_user, "2027-01-02")
    second = _paper_received(client, as_user, "2027-01-03")
    assert [(r["incoming_year"], r["incoming_number"]) for r in (late, first, second)] == [
        (2026, 1),
        (2027, 1),
        (2027, 2),
    ]


def test_the_entry_page_shows_the_incoming_number(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    from tests.web.test_ui import _login

    [entry] = _arrivals(client, as_user, services, 1)
    _login(client, "cm.vanthu")
    before = client.get(f"/inbox/{entry}").get_data(as_text=True)
    assert "cấp khi tiếp nhận văn bản" in before
    moved = client.post(
        f"/api/v1/deliveries/{entry}/status", json={"code": "03"}, headers=as_user("cm.vanthu")
    )
    assert moved.status_code == 200
    page = client.get(f"/inbox/{entry}").get_data(as_text=True)
    assert "Số đến" in page and '<dd id="incoming-number">1 (2027)</dd>' in page
    register = client.get("/registers/incoming").get_data(as_text=True)
    assert "Sổ đăng ký văn bản đến năm 2027" in register
    assert '<tr data-number="1">' in register and "03 đã tiếp nhận" in register
    printed = client.get("/registers/incoming?year=2027&format=pdf")
    assert printed.status_code == 200 and printed.data.startswith(b"%PDF-")
    outgoing = client.get("/registers/outgoing").get_data(as_text=True)
    assert "Sổ đăng ký văn bản đi năm 2027" in outgoing
    assert "Chưa có văn bản nào được vào sổ trong năm này." in outgoing
