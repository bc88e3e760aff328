"""Handling a received document as NĐ 30 Điều 23 records it: the sender's deadline, the
leader's instruction and deadline on assigning, and "overdue" derived from them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient

from docexchange.services import exchange
from docexchange.services.container import Services
from tests.clock import office_at, pinned, vn
from tests.conftest import error_code
from tests.web.test_documents import signed_and_issued

pytestmark = pytest.mark.usefixtures("signing_tokens", "registered_certificates", "on_monday")

CHAN_MONG = "000.21.12.H45"
MONDAY = date(2027, 3, 1)


@pytest.fixture
def on_monday(services: Services) -> Iterator[None]:
    with office_at(services, vn(MONDAY, 8, 0)):
        yield


def _status(
    client: FlaskClient, headers: dict[str, str], item: str, code: str, **extra: Any
) -> Any:
    return client.post(
        f"/api/v1/deliveries/{item}/status", json={"code": code, **extra}, headers=headers
    )


def _entry(client: FlaskClient, as_user: Any, item: str) -> dict[str, Any]:
    body: dict[str, Any] = client.get(
        f"/api/v1/inbox/{item}", headers=as_user("cm.vanthu")
    ).get_json()
    return body


def test_the_deadline_travels_the_leader_sets_another_and_overdue_follows_the_clock(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    document = signed_and_issued(client, as_user, recipients=[CHAN_MONG], due_date="2027-03-10")
    sent = client.post(f"/api/v1/documents/{document['id']}/send", headers=as_user("pt.vanthu"))
    assert sent.status_code == 202
    exchange.deliver_pending(services)
    clerk, leader = as_user("cm.vanthu"), as_user("cm.lanhdao")
    [item] = client.get("/api/v1/inbox", headers=clerk).get_json()["items"]
    assert (item["due_date"], item["deadline"], item["overdue"]) == (
        "2027-03-10",
        "2027-03-10",
        False,
    )
    entry = item["delivery_id"]
    assert _status(client, clerk, entry, "03").status_code == 200

    past = _status(client, leader, entry, "04", assignee="cm.vanthu", due_date="2027-02-28")
    assert (past.status_code, error_code(past)) == (422, "invalid_field")
    assert past.get_json()["error"]["field"] == "due_date"
    assigned = _status(
        client,
        leader,
        entry,
        "04",
        assignee="cm.vanthu",
        instruction="Giao văn thư tham mưu, báo cáo trước hạn.",
        due_date="2027-03-05",
    )
    assert assigned.status_code == 200
    body = _entry(client, as_user, entry)
    assert body["instruction"] == "Giao văn thư tham mưu, báo cáo trước hạn."
    assert (body["handling_due"], body["deadline"], body["overdue"]) == (
        "2027-03-05",
        "2027-03-05",
        False,
    )
    assert client.get("/api/v1/inbox?overdue=1", headers=clerk).get_json()["items"] == []

    with pinned(vn(date(2027, 3, 6), 9, 0)):  # the day after the leader's deadline
        clerk = as_user("cm.vanthu")  # a token of that day (the earlier one has expired)
        assert _entry(client, as_user, entry)["overdue"] is True
        late = client.get("/api/v1/inbox?overdue=true", headers=clerk).get_json()["items"]
        assert [i["delivery_id"] for i in late] == [entry]
        register = client.get("/api/v1/registers/incoming?year=2027", headers=clerk).get_json()
        assert register["items"][0]["due_date"] == "2027-03-05"
        assert _status(client, clerk, entry, "05").status_code == 200
        assert _entry(client, as_user, entry)["overdue"] is True  # still being handled
        assert _status(client, clerk, entry, "06").status_code == 200
        assert _entry(client, as_user, entry)["overdue"] is False  # done
        assert client.get("/api/v1/inbox?overdue=1", headers=clerk).get_json()["items"] == []


def test_the_pages_show_the_deadline_and_take_the_instruction(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    from tests.web.test_ui import _csrf, _login

    document = signed_and_issued(client, as_user, recipients=[CHAN_MONG], due_date="2027-03-03")
    client.post(f"/api/v1/documents/{document['id']}/send", headers=as_user("pt.vanthu"))
    exchange.deliver_pending(services)
    [item] = client.get("/api/v1/inbox", headers=as_user("cm.vanthu")).get_json()["items"]
    entry = item["delivery_id"]
    assert _status(client, as_user("cm.vanthu"), entry, "03").status_code == 200
    _login(client, "cm.lanhdao")
    page = client.get(f"/inbox/{entry}").get_data(as_text=True)
    assert '<input type="date" id="due-date" name="due_date" value="2027-03-03">' in page
    moved = client.post(
        f"/deliveries/{entry}/status",
        data={
            "csrf_token": _csrf(page),
            "code": "04",
            "assignee": "cm.vanthu",
            "instruction": "Xử lý ngay",
            "due_date": "2027-03-02",
        },
    )
    assert moved.status_code == 302
    with pinned(vn(date(2027, 3, 4), 9, 0)):
        _login(client, "cm.vanthu")  # a session of that day
        page = client.get(f"/inbox/{entry}").get_data(as_text=True)
        assert '<dd id="instruction">Xử lý ngay</dd>' in page
        assert "02/03/2027" in page and "quá hạn" in page
        assert "nơi gửi đề nghị hạn 03/03/2027" in page
        listing = client.get("/inbox?overdue=1").get_data(as_text=True)
        assert document["subject"] in listing and "Bỏ lọc" in listing
        assert 'id="overdue" name="overdue" value="1" checked' in listing


def test_the_home_page_counts_the_queues_and_lists_my_deadlines(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    from tests.web.test_ui import _login

    for due in ("2027-03-02", "2027-03-20", None):
        document = signed_and_issued(
            client, as_user, recipients=[CHAN_MONG], **({"due_date": due} if due else {})
        )
        client.post(f"/api/v1/documents/{document['id']}/send", headers=as_user("pt.vanthu"))
    exchange.deliver_pending(services)
    clerk, leader = as_user("cm.vanthu"), as_user("cm.lanhdao")
    items = client.get("/api/v1/inbox", headers=clerk).get_json()["items"]
    soon = next(i for i in items if i["due_date"] == "2027-03-02")["delivery_id"]
    _login(client, "cm.vanthu")
    home = client.get("/").get_data(as_text=True)
    assert '<span class="count" id="nav-inbox-count"' in home and ">3</span>" in home
    assert 'id="count-new"' in home and "Văn bản mới đến hôm nay: <strong>3</strong>" in home
    assert "Chờ tiếp nhận: <strong>3</strong>" in home and "Quá hạn: <strong>0</strong>" in home
    assert 'id="count-to-sign"' not in home  # a clerk signs nothing
    assert "Không có văn bản nào được giao cho bạn" in home

    assert _status(client, clerk, soon, "03").status_code == 200
    assigned = _status(
        client, leader, soon, "04", assignee="cm.vanthu", instruction="Trả lời Sở", due_date=None
    )
    assert assigned.status_code == 200
    with pinned(vn(date(2027, 3, 3), 8, 0)):  # a day past the sender's deadline
        _login(client, "cm.vanthu")
        home = client.get("/").get_data(as_text=True)
        assert "Văn bản mới đến hôm nay: <strong>0</strong>" in home
        assert "Chờ tiếp nhận: <strong>2</strong>" in home
        assert "Quá hạn: <strong>1</strong>" in home
        assert '<li class="overdue">' in home and "02/03/2027" in home and "Trả lời Sở" in home
        _login(client, "cm.lanhdao")
        assert 'id="count-to-sign"' in client.get("/").get_data(as_text=True)
