"""Exchange on one server: send (outbox), the delivery worker, inboxes, statuses."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from docexchange.services import exchange
from docexchange.services.container import Services
from docexchange.storage.models import Delivery, InboxEntry, VerdictCache
from tests.conftest import error_code
from tests.web.test_documents import signed_and_issued, upload

pytestmark = pytest.mark.usefixtures("signing_tokens", "registered_certificates")

PROVINCE, DISTRICT = "000.00.00.H45", "000.00.12.H45"
CHAN_MONG, MINH_LUONG = "000.21.12.H45", "000.22.12.H45"


def _sent_to_communes(client: FlaskClient, as_user: Any, **meta: Any) -> dict[str, Any]:
    body = signed_and_issued(client, as_user, recipients=[f"communes:{DISTRICT}"], **meta)
    sent = client.post(f"/api/v1/documents/{body['id']}/send", headers=as_user("pt.vanthu"))
    assert sent.status_code == 202, sent.get_json()
    result: dict[str, Any] = {**body, "deliveries": sent.get_json()["deliveries"]}
    return result


def _inbox(client: FlaskClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.get("/api/v1/inbox", headers=headers).get_json()["items"]
    return items


def _status(
    client: FlaskClient, headers: dict[str, str], item: str, code: str, **extra: Any
) -> Any:
    return client.post(
        f"/api/v1/deliveries/{item}/status", json={"code": code, **extra}, headers=headers
    )


def test_the_province_sends_to_the_communes_and_sees_their_statuses(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    sent = _sent_to_communes(client, as_user)
    assert sorted(d["recipient_code"] for d in sent["deliveries"]) == [CHAN_MONG, MINH_LUONG]
    assert {d["status_code"] for d in sent["deliveries"]} == {None}  # queued, not arrived
    assert exchange.deliver_pending(services).delivered == 2

    cm, ml = as_user("cm.vanthu"), as_user("ml.vanthu")
    [arrived] = _inbox(client, cm)
    assert arrived["status_code"] == "01" and arrived["sender_code"] == PROVINCE
    assert arrived["verification"] == {"valid": True, "indication": "TOTAL_PASSED"}
    assert arrived["number"] == sent["number"] and arrived["document_id"] == sent["document_id"]
    assert len(_inbox(client, ml)) == 1

    # The arrived bytes are the sender's, unchanged, and the full report names both signers.
    detail = client.get(f"/api/v1/inbox/{arrived['delivery_id']}", headers=cm).get_json()
    names = [s["signer"]["name"] for s in detail["verification"]["signatures"]]
    assert names == ["Nguyễn Văn Tỉnh", "UBND tỉnh Phú Thọ"]
    assert [h["code"] for h in detail["history"]] == ["01"]
    pdf = client.get(f"/api/v1/inbox/{arrived['delivery_id']}/file", headers=cm).data
    original = client.get(f"/api/v1/documents/{sent['id']}/file", headers=as_user("pt.vanthu"))
    assert pdf == original.data

    assert _status(client, cm, arrived["delivery_id"], "03").status_code == 200
    outbox = client.get("/api/v1/outbox", headers=as_user("pt.vanthu")).get_json()["items"]
    assert {o["verification"]["valid"] for o in outbox} == {True}  # checked when it was sent
    assert {o["recipient_code"]: o["status_code"] for o in outbox} == {
        CHAN_MONG: "03",
        MINH_LUONG: "01",
    }
    document = client.get(f"/api/v1/documents/{sent['id']}", headers=as_user("pt.vanthu"))
    assert {r["code"]: r["status_code"] for r in document.get_json()["recipients"]} == {
        CHAN_MONG: "03",
        MINH_LUONG: "01",
    }
    # Verified once for both communes (same bytes, same trust, same sender).
    with services.sessions() as s:
        assert s.scalar(select(func.count()).select_from(VerdictCache)) == 1


def test_sending_twice_and_working_twice_create_nothing_more(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    sent = _sent_to_communes(client, as_user)
    again = client.post(f"/api/v1/documents/{sent['id']}/send", headers=as_user("pt.vanthu"))
    assert again.status_code == 202
    assert again.get_json()["deliveries"] == sent["deliveries"]
    assert exchange.deliver_pending(services).delivered == 2
    assert exchange.deliver_pending(services).delivered == 0
    with services.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Delivery)) == 2
        assert s.scalar(select(func.count()).select_from(InboxEntry)) == 2


def test_a_secret_document_is_refused_and_nothing_is_delivered(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    body = signed_and_issued(client, as_user, recipients=[CHAN_MONG], secrecy="mat")
    refused = client.post(f"/api/v1/documents/{body['id']}/send", headers=as_user("pt.vanthu"))
    assert (refused.status_code, error_code(refused)) == (422, "secret_document")
    assert "giấy" in refused.get_json()["error"]["message_vi"]
    assert exchange.deliver_pending(services).delivered == 0
    with services.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Delivery)) == 0


def test_only_issued_documents_by_their_own_clerk_are_sent(
    client: FlaskClient, as_user: Any
) -> None:
    draft = upload(client, as_user("pt.vanthu"), recipients=[CHAN_MONG]).get_json()
    not_issued = client.post(f"/api/v1/documents/{draft['id']}/send", headers=as_user("pt.vanthu"))
    assert (not_issued.status_code, error_code(not_issued)) == (409, "document_not_issued")
    issued = signed_and_issued(client, as_user, recipients=[CHAN_MONG])
    leader = client.post(f"/api/v1/documents/{issued['id']}/send", headers=as_user("pt.lanhdao"))
    assert (leader.status_code, error_code(leader)) == (403, "role_required")
    other = client.post(f"/api/v1/documents/{issued['id']}/send", headers=as_user("dh.vanthu"))
    assert (other.status_code, error_code(other)) == (404, "document_not_found")
    nobody = signed_and_issued(client, as_user)
    empty = client.post(f"/api/v1/documents/{nobody['id']}/send", headers=as_user("pt.vanthu"))
    assert (empty.status_code, error_code(empty)) == (422, "no_recipients")


def test_a_commune_cannot_read_another_communes_inbox(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    _sent_to_communes(client, as_user)
    exchange.deliver_pending(services)
    cm, ml = as_user("cm.vanthu"), as_user("ml.vanthu")
    [theirs] = _inbox(client, ml)
    for path in (
        f"/api/v1/inbox/{theirs['delivery_id']}",
        f"/api/v1/inbox/{theirs['delivery_id']}/file",
    ):
        response = client.get(path, headers=cm)
        assert (response.status_code, error_code(response)) == (404, "delivery_not_found")
    moved = _status(client, cm, theirs["delivery_id"], "03")
    assert (moved.status_code, error_code(moved)) == (404, "delivery_not_found")
    [mine] = _inbox(client, cm)
    assert mine["delivery_id"] != theirs["delivery_id"]


def test_statuses_only_move_forward_with_the_right_people(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    _sent_to_communes(client, as_user)
    exchange.deliver_pending(services)
    clerk, leader, sender = as_user("cm.vanthu"), as_user("cm.lanhdao"), as_user("pt.vanthu")
    [item] = _inbox(client, clerk)
    entry = item["delivery_id"]

    no_reason = _status(client, clerk, entry, "02")
    assert (no_reason.status_code, error_code(no_reason)) == (422, "invalid_field")
    unknown = _status(client, clerk, entry, "99")
    assert (unknown.status_code, error_code(unknown)) == (422, "invalid_status_code")
    assert _status(client, clerk, entry, "03").status_code == 200
    by_clerk = _status(client, clerk, entry, "04", assignee="cm.vanthu")
    assert (by_clerk.status_code, error_code(by_clerk)) == (403, "role_required")
    stranger = _status(client, leader, entry, "04", assignee="ml.vanthu")
    assert (stranger.status_code, error_code(stranger)) == (422, "invalid_field")
    assert _status(client, leader, entry, "04", assignee="cm.vanthu").status_code == 200

    # The sender asks for it back; the recipient refuses; it goes on from where it was.
    [outgoing] = [
        o
        for o in client.get("/api/v1/outbox", headers=sender).get_json()["items"]
        if o["recipient_code"] == CHAN_MONG
    ]
    assert _status(client, sender, outgoing["delivery_id"], "13").status_code == 200
    assert _inbox(client, clerk)[0]["status_code"] == "13"
    assert _status(client, clerk, entry, "16").status_code == 200
    assert _inbox(client, clerk)[0]["status_code"] == "04"

    assert _status(client, clerk, entry, "05").status_code == 200
    assert _status(client, clerk, entry, "06").status_code == 200
    backwards = _status(client, clerk, entry, "03")
    assert (backwards.status_code, error_code(backwards)) == (409, "status_move_not_allowed")
    history = client.get(f"/api/v1/inbox/{entry}", headers=clerk).get_json()["history"]
    assert [(h["code"], h["actor"]) for h in history] == [
        ("01", "system"),
        ("03", "cm.vanthu"),
        ("04", "cm.lanhdao"),
        ("13", "pt.vanthu"),
        ("16", "cm.vanthu"),
        ("05", "cm.vanthu"),
        ("06", "cm.vanthu"),
    ]
    outbox = client.get("/api/v1/outbox?status=06", headers=sender).get_json()["items"]
    assert [o["recipient_code"] for o in outbox] == [CHAN_MONG]


def test_a_returned_document_carries_its_reason_back(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    _sent_to_communes(client, as_user, urgency="hoa_toc")
    exchange.deliver_pending(services)
    clerk = as_user("ml.vanthu")
    [item] = _inbox(client, clerk)
    assert item["urgency"] == "hoa_toc"
    returned = _status(client, clerk, item["delivery_id"], "02", reason="Sai thể thức")
    assert returned.status_code == 200
    history = client.get(f"/api/v1/inbox/{item['delivery_id']}", headers=clerk).get_json()
    assert history["history"][-1] == {
        **history["history"][-1],
        "code": "02",
        "reason": "Sai thể thức",
    }
    again = _status(client, clerk, item["delivery_id"], "03")
    assert (again.status_code, error_code(again)) == (409, "status_move_not_allowed")


def test_the_worker_thread_delivers_as_soon_as_a_document_is_sent(
    app: Any, client: FlaskClient, as_user: Any, services: Services
) -> None:
    from docexchange.services.worker import DeliveryWorker
    from docexchange.web.context import WORKER_KEY
    from tests.clock import wait_for

    worker = DeliveryWorker(services, idle_seconds=60)  # only a notification wakes it in time
    app.extensions[WORKER_KEY] = worker
    worker.start()
    try:
        wait_for(lambda: worker.passes, what="the worker's first pass (it then waits 60 s)")
        _sent_to_communes(client, as_user)
        clerk = as_user("cm.vanthu")
        wait_for(lambda: _inbox(client, clerk), what="the document in Chân Mộng's inbox")
        assert len(_inbox(client, clerk)) == 1 and worker.passes >= 2
    finally:
        worker.stop()
        del app.extensions[WORKER_KEY]


def test_four_workers_deliver_every_delivery_exactly_once(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    """Workers race for the same rows (SKIP LOCKED on PostgreSQL, one writer on SQLite)."""
    import threading

    for n in range(12):
        _sent_to_communes(client, as_user, subject=f"Văn bản {n}")
    results: list[exchange.WorkResult] = []
    guard = threading.Lock()

    def work() -> None:
        while True:
            result = exchange.deliver_pending(services, batch=3)
            with guard:
                results.append(result)
            if not (result.delivered or result.retried):
                return

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert sum(r.delivered for r in results) == 24
    assert sum(r.retried + r.failed for r in results) == 0
    with services.sessions() as s:
        assert s.scalar(select(func.count()).select_from(InboxEntry)) == 24
        states = s.scalars(select(Delivery.state)).all()
    assert sorted(states) == ["delivered"] * 24
    assert len(_inbox(client, as_user("cm.vanthu"))) == 12


def test_the_pages_send_receive_accept_and_show_statuses(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    from tests.web.test_ui import _csrf, _login

    body = signed_and_issued(client, as_user, recipients=[f"communes:{DISTRICT}"])
    _login(client, "pt.vanthu")
    page = client.get(f"/documents/{body['id']}").get_data(as_text=True)
    assert 'id="send"' in page
    sent = client.post(
        f"/documents/{body['id']}/send", data={"csrf_token": _csrf(page)}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Đã gửi tới 2 nơi nhận." in sent and 'id="send"' not in sent
    exchange.deliver_pending(services)
    client.post("/logout", data={"csrf_token": _csrf(sent)})

    _login(client, "cm.vanthu")
    inbox = client.get("/inbox").get_data(as_text=True)
    assert "Về việc thử nghiệm ký số" in inbox and "hợp lệ" in inbox and "01 đã đến" in inbox
    [item] = _inbox(client, as_user("cm.vanthu"))
    entry = client.get(f"/inbox/{item['delivery_id']}").get_data(as_text=True)
    assert 'id="verdict" class="card valid"' in entry and 'id="move-03"' in entry
    # The arrived file's pages, as pictures drawn by a PDF worker.
    assert 'alt="Trang 1/1"' in entry
    picture = client.get(f"/inbox/{item['delivery_id']}/pages/1.png")
    assert (picture.status_code, picture.mimetype) == (200, "image/png")
    assert client.get(f"/inbox/{item['delivery_id']}/pages/2.png").status_code == 404
    no_reason = client.post(
        f"/deliveries/{item['delivery_id']}/status",
        data={"csrf_token": _csrf(entry), "code": "02", "reason": ""},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "phải nêu lý do khi trả lại văn bản" in no_reason
    accepted = client.post(
        f"/deliveries/{item['delivery_id']}/status",
        data={"csrf_token": _csrf(no_reason), "code": "03"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "03 đã tiếp nhận" in accepted and 'id="move-03"' not in accepted
    client.post("/logout", data={"csrf_token": _csrf(accepted)})

    _login(client, "pt.vanthu")
    outbox = client.get("/outbox").get_data(as_text=True)
    assert f'data-recipient="{CHAN_MONG}"' in outbox and f'data-recipient="{MINH_LUONG}"' in outbox
    chan_mong_row = outbox.split(f'data-recipient="{CHAN_MONG}"')[1].split("</tr>")[0]
    minh_luong_row = outbox.split(f'data-recipient="{MINH_LUONG}"')[1].split("</tr>")[0]
    assert "03 đã tiếp nhận" in chan_mong_row and "01 đã đến" in minh_luong_row


def test_an_issued_document_as_an_edxml_package(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    from docexchange.envelopes import edxml

    sent = _sent_to_communes(client, as_user, urgency="khan", paper_copy=True)
    clerk = as_user("pt.vanthu")
    response = client.get(f"/api/v1/documents/{sent['id']}/edxml", headers=clerk)
    assert response.status_code == 200 and response.mimetype == "application/xml"
    assert edxml.validate(response.data) == []
    package = edxml.parse_package(response.data)
    assert isinstance(package, edxml.DocumentPackage)
    assert package.problems == ()
    assert package.document_id == sent["document_id"]
    assert package.sender.organ_id == PROVINCE and package.sender.name == "UBND tỉnh Phú Thọ"
    assert sorted(r.organ_id for r in package.recipients) == [CHAN_MONG, MINH_LUONG]
    assert (package.code_number, package.code_notation) == ("01", "QĐ-UBND")
    assert package.signer_name == "Nguyễn Văn Tỉnh" and package.priority == 1
    assert package.business.paper is True and package.business.doc_type == 0
    pdf = client.get(f"/api/v1/documents/{sent['id']}/file", headers=clerk).data
    assert package.attachments[0].data == pdf
    draft = upload(client, clerk).get_json()
    refused = client.get(f"/api/v1/documents/{draft['id']}/edxml", headers=clerk)
    assert (refused.status_code, error_code(refused)) == (409, "document_not_issued")
    hidden = client.get(f"/api/v1/documents/{sent['id']}/edxml", headers=as_user("cm.vanthu"))
    assert hidden.status_code == 404
