"""Forwarding a received document down the tree; revoking and replacing sent documents."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from docexchange.domain.exchange import DeliveryState
from docexchange.services import exchange
from docexchange.services.container import Services
from docexchange.storage.models import AuditEvent, Delivery, InboxEntry
from tests.conftest import error_code
from tests.web.test_documents import signed_and_issued

pytestmark = pytest.mark.usefixtures("signing_tokens", "registered_certificates")

PROVINCE, DISTRICT = "000.00.00.H45", "000.00.12.H45"
CHAN_MONG, MINH_LUONG = "000.21.12.H45", "000.22.12.H45"


def _send(client: FlaskClient, as_user: Any, recipients: list[str], **extra: Any) -> dict[str, Any]:
    body = signed_and_issued(client, as_user, recipients=recipients)
    sent = client.post(
        f"/api/v1/documents/{body['id']}/send", json=extra, headers=as_user("pt.vanthu")
    )
    assert sent.status_code == 202, sent.get_json()
    result: dict[str, Any] = body
    return result


def _only_entry(client: FlaskClient, headers: dict[str, str]) -> dict[str, Any]:
    [entry] = client.get("/api/v1/inbox", headers=headers).get_json()["items"]
    found: dict[str, Any] = entry
    return found


def _move(client: FlaskClient, headers: dict[str, str], item: str, code: str, **extra: Any) -> Any:
    return client.post(
        f"/api/v1/deliveries/{item}/status", json={"code": code, **extra}, headers=headers
    )


def _forward(client: FlaskClient, headers: dict[str, str], item: str, recipients: Any) -> Any:
    return client.post(
        f"/api/v1/inbox/{item}/forward", json={"recipients": recipients}, headers=headers
    )


def _forwarded_to_communes(
    client: FlaskClient, as_user: Any, services: Services
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The province sends to the district, which accepts and forwards to its communes."""
    sent = _send(client, as_user, [DISTRICT])
    assert exchange.deliver_pending(services).delivered == 1
    district = as_user("dh.vanthu")
    entry = _only_entry(client, district)
    assert _move(client, district, entry["delivery_id"], "03").status_code == 200
    forwarded = _forward(client, district, entry["delivery_id"], [f"children:{DISTRICT}"])
    assert forwarded.status_code == 202, forwarded.get_json()
    assert exchange.deliver_pending(services).delivered == 2
    return sent, entry


def test_a_district_forwards_to_its_communes_and_the_bytes_verify_at_every_hop(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    sent = _send(client, as_user, [DISTRICT])
    assert exchange.deliver_pending(services).delivered == 1
    district = as_user("dh.vanthu")
    entry = _only_entry(client, district)

    early = _forward(client, district, entry["delivery_id"], [f"children:{DISTRICT}"])
    assert (early.status_code, error_code(early)) == (409, "forward_not_accepted")
    assert _move(client, district, entry["delivery_id"], "03").status_code == 200
    upward = _forward(client, district, entry["delivery_id"], [PROVINCE])
    assert (upward.status_code, error_code(upward)) == (422, "forward_outside_subtree")
    assert "cấp dưới" in upward.get_json()["error"]["message_vi"]
    leader = _forward(client, as_user("dh.lanhdao"), entry["delivery_id"], [CHAN_MONG])
    assert (leader.status_code, error_code(leader)) == (403, "role_required")
    stranger = _forward(client, as_user("cm.vanthu"), entry["delivery_id"], [CHAN_MONG])
    assert (stranger.status_code, error_code(stranger)) == (404, "delivery_not_found")

    forwarded = _forward(client, district, entry["delivery_id"], [f"children:{DISTRICT}"])
    assert forwarded.status_code == 202
    assert sorted(d["recipient_code"] for d in forwarded.get_json()["deliveries"]) == [
        CHAN_MONG,
        MINH_LUONG,
    ]
    assert exchange.deliver_pending(services).delivered == 2

    commune = as_user("cm.vanthu")
    arrived = _only_entry(client, commune)
    assert (arrived["sender_code"], arrived["forwarded_by"]) == (PROVINCE, DISTRICT)
    assert arrived["document_id"] == sent["document_id"] and arrived["number"] == sent["number"]
    assert arrived["verification"] == {"valid": True, "indication": "TOTAL_PASSED"}
    detail = client.get(f"/api/v1/inbox/{arrived['delivery_id']}", headers=commune).get_json()
    # The issuer's mandate is checked at this hop too: its leader and its seal.
    names = [s["signer"]["name"] for s in detail["verification"]["signatures"]]
    assert names == ["Nguyễn Văn Tỉnh", "UBND tỉnh Phú Thọ"]
    original = client.get(f"/api/v1/documents/{sent['id']}/file", headers=as_user("pt.vanthu"))
    at_district = client.get(f"/api/v1/inbox/{entry['delivery_id']}/file", headers=district)
    at_commune = client.get(f"/api/v1/inbox/{arrived['delivery_id']}/file", headers=commune)
    assert original.data == at_district.data == at_commune.data

    # The commune's answer goes to the district's outbox, not the province's.
    assert _move(client, commune, arrived["delivery_id"], "03").status_code == 200
    outbox = client.get("/api/v1/outbox", headers=district).get_json()["items"]
    assert {o["recipient_code"]: (o["status_code"], o["forwarded"]) for o in outbox} == {
        CHAN_MONG: ("03", True),
        MINH_LUONG: ("01", True),
    }
    mine = client.get(f"/api/v1/inbox/{entry['delivery_id']}", headers=district).get_json()
    assert {d["recipient_code"]: d["status_code"] for d in mine["forwarded_to"]} == {
        CHAN_MONG: "03",
        MINH_LUONG: "01",
    }
    province = client.get("/api/v1/outbox", headers=as_user("pt.vanthu")).get_json()["items"]
    assert [o["recipient_code"] for o in province] == [DISTRICT]

    # Forwarding again creates nothing; the district can take its forward back.
    again = _forward(client, district, entry["delivery_id"], [CHAN_MONG, MINH_LUONG])
    assert again.status_code == 202 and len(again.get_json()["deliveries"]) == 2
    assert exchange.deliver_pending(services).delivered == 0
    cm_delivery = next(o for o in outbox if o["recipient_code"] == CHAN_MONG)
    assert _move(client, district, cm_delivery["delivery_id"], "13").status_code == 200
    assert _only_entry(client, commune)["status_code"] == "13"
    with services.sessions() as s:
        assert s.scalar(select(func.count()).select_from(InboxEntry)) == 3


def test_revoking_freezes_every_copy_down_the_tree(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    sent, entry = _forwarded_to_communes(client, as_user, services)
    clerk, district, commune = as_user("pt.vanthu"), as_user("dh.vanthu"), as_user("cm.vanthu")
    at_commune = _only_entry(client, commune)

    bare = client.post(f"/api/v1/documents/{sent['id']}/revoke", json={}, headers=clerk)
    assert (bare.status_code, error_code(bare)) == (422, "invalid_field")
    other = client.post(
        f"/api/v1/documents/{sent['id']}/revoke", json={"reason": "x"}, headers=district
    )
    assert (other.status_code, error_code(other)) == (404, "document_not_found")
    revoked = client.post(
        f"/api/v1/documents/{sent['id']}/revoke", json={"reason": "Sai thể thức"}, headers=clerk
    )
    assert revoked.status_code == 200
    body = revoked.get_json()
    assert body["revoked"]["reason"] == "Sai thể thức" and body["revoked"]["by"] == "pt.vanthu"
    assert [r["state"] for r in body["recipients"]] == ["revoked"]

    for headers, item in ((district, entry), (commune, at_commune)):
        shown = client.get(f"/api/v1/inbox/{item['delivery_id']}", headers=headers).get_json()
        assert shown["revoked"]["reason"] == "Sai thể thức"
        assert shown["number"] == sent["number"]  # metadata kept
        gone = client.get(f"/api/v1/inbox/{item['delivery_id']}/file", headers=headers)
        assert (gone.status_code, error_code(gone)) == (410, "document_revoked")
        frozen = _move(client, headers, item["delivery_id"], "04", assignee="dh.lanhdao")
        assert (frozen.status_code, error_code(frozen)) == (410, "document_revoked")
    outbox = client.get("/api/v1/outbox", headers=district).get_json()["items"]
    assert {o["state"] for o in outbox} == {"revoked"}

    again = client.post(
        f"/api/v1/documents/{sent['id']}/revoke", json={"reason": "lần hai"}, headers=clerk
    )
    assert again.status_code == 200 and again.get_json()["revoked"]["reason"] == "Sai thể thức"
    resend = client.post(f"/api/v1/documents/{sent['id']}/send", headers=clerk)
    assert (resend.status_code, error_code(resend)) == (410, "document_revoked")
    with services.sessions() as s:
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.action.like("%revok%")))
        assert sorted(actions) == ["delivery.revoked"] * 3 + ["document.revoke"]


def test_revoking_before_delivery_stops_it(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    sent = _send(client, as_user, [f"communes:{DISTRICT}"])
    clerk = as_user("pt.vanthu")
    never = signed_and_issued(client, as_user, recipients=[CHAN_MONG])
    unsent = client.post(
        f"/api/v1/documents/{never['id']}/revoke", json={"reason": "x"}, headers=clerk
    )
    assert (unsent.status_code, error_code(unsent)) == (409, "document_not_sent")
    revoked = client.post(
        f"/api/v1/documents/{sent['id']}/revoke", json={"reason": "Gửi nhầm"}, headers=clerk
    )
    assert revoked.status_code == 200
    assert exchange.deliver_pending(services).delivered == 0
    assert client.get("/api/v1/inbox", headers=as_user("cm.vanthu")).get_json()["items"] == []
    with services.sessions() as s:
        assert set(s.scalars(select(Delivery.state))) == {"revoked"}


def test_a_replacement_supersedes_the_earlier_copy(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    first = _send(client, as_user, [CHAN_MONG])
    assert exchange.deliver_pending(services).delivered == 1
    commune = as_user("cm.vanthu")
    old = _only_entry(client, commune)
    assert _move(client, commune, old["delivery_id"], "03").status_code == 200

    unsent = signed_and_issued(client, as_user, recipients=[CHAN_MONG])
    for earlier in (unsent["id"], "no-such-document"):
        refused = client.post(
            f"/api/v1/documents/{unsent['id']}/send",
            json={"replaces": earlier},
            headers=as_user("pt.vanthu"),
        )
        assert (refused.status_code, error_code(refused)) == (422, "replaced_document_invalid")

    second = _send(client, as_user, [CHAN_MONG], replaces=first["id"])
    shown = client.get(f"/api/v1/documents/{second['id']}", headers=as_user("pt.vanthu"))
    assert shown.get_json()["replaces"] == first["id"]
    package = client.get(f"/api/v1/documents/{second['id']}/edxml", headers=as_user("pt.vanthu"))
    assert b"<edXML:BussinessDocType>3</edXML:BussinessDocType>" in package.data
    assert first["document_id"].encode() in package.data  # ReplacementInfo names the old one
    assert exchange.deliver_pending(services).delivered == 1

    entries = {
        e["document_id"]: e
        for e in client.get("/api/v1/inbox", headers=commune).get_json()["items"]
    }
    new = entries[second["document_id"]]
    assert entries[first["document_id"]]["replaced_by"] == new["delivery_id"]
    assert new["replaced_by"] is None and new["status_code"] == "01"
    stale = _move(client, commune, old["delivery_id"], "04", assignee="cm.vanthu")
    assert (stale.status_code, error_code(stale)) == (409, "document_replaced")
    kept = client.get(f"/api/v1/inbox/{old['delivery_id']}/file", headers=commune)
    assert kept.status_code == 200  # the replaced file stays readable for the record


def test_the_pages_forward_and_revoke(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    from tests.web.test_ui import _csrf, _login

    sent = _send(client, as_user, [DISTRICT])
    assert exchange.deliver_pending(services).delivered == 1
    entry = _only_entry(client, as_user("dh.vanthu"))
    assert _move(client, as_user("dh.vanthu"), entry["delivery_id"], "03").status_code == 200

    _login(client, "dh.vanthu")
    page = client.get(f"/inbox/{entry['delivery_id']}").get_data(as_text=True)
    assert 'id="forward"' in page and CHAN_MONG in page and MINH_LUONG in page
    done = client.post(
        f"/inbox/{entry['delivery_id']}/forward",
        data={"csrf_token": _csrf(page), "unit": [CHAN_MONG]},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Đã chuyển tiếp" in done
    assert exchange.deliver_pending(services).delivered == 1
    page = client.get(f"/inbox/{entry['delivery_id']}").get_data(as_text=True)
    forwarded = page.split('id="forwarded"')[1].split("</ul>")[0]
    assert f'data-recipient="{CHAN_MONG}"' in forwarded and MINH_LUONG not in forwarded
    assert "01 đã đến" in forwarded
    outbox = client.get("/outbox").get_data(as_text=True)
    assert f'data-recipient="{CHAN_MONG}"' in outbox and "chuyển tiếp" in outbox
    client.post("/logout", data={"csrf_token": _csrf(outbox)})

    _login(client, "pt.vanthu")
    page = client.get(f"/documents/{sent['id']}").get_data(as_text=True)
    assert 'id="revoke"' in page
    revoked = client.post(
        f"/documents/{sent['id']}/revoke",
        data={"csrf_token": _csrf(page), "reason": "Ban hành nhầm"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert 'id="revoked"' in revoked and 'id="revoke"' not in revoked
    history = revoked.split('id="history"')[1].split("</ol>")[0]
    assert [line.split(" — ")[1] for line in history.split("<li>")[1:]] == [
        "tải lên",
        "đã ký",
        "cấp số và ban hành",
        "gửi tới 1 nơi nhận",
        "đã thu hồi",
    ]
    client.post("/logout", data={"csrf_token": _csrf(revoked)})

    _login(client, "dh.vanthu")
    frozen = client.get(f"/inbox/{entry['delivery_id']}").get_data(as_text=True)
    assert "Ban hành nhầm" in frozen and 'id="preview"' not in frozen
    assert 'id="forward"' not in frozen and 'id="move-04"' not in frozen
    inbox = client.get("/inbox").get_data(as_text=True)
    assert "đã thu hồi" in inbox.split('id="inbox"')[1]


def test_a_forward_as_edxml_keeps_the_issuer_and_names_both_hops(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    """What a peer serving the communes would get from the district (and, revoked, without
    the file)."""
    from docexchange.envelopes import edxml

    sent, entry = _forwarded_to_communes(client, as_user, services)
    with services.sessions() as session:
        delivery = session.scalar(
            select(Delivery).where(
                Delivery.source_entry_id == entry["delivery_id"],
                Delivery.recipient_code == CHAN_MONG,
            )
        )
        assert delivery is not None and delivery.from_code == DISTRICT
        data = exchange.delivery_package(session, delivery.id, services=services)
        notice = exchange.delivery_package(
            session,
            delivery.id,
            services=services,
            business=edxml.Business(doc_type=1, reason="Sai thể thức"),
        )
    assert edxml.validate(data) == [] and edxml.validate(notice) == []
    package = edxml.parse_package(data)
    assert isinstance(package, edxml.DocumentPackage)
    assert package.sender.organ_id == PROVINCE and package.document_id == sent["document_id"]
    assert [r.organ_id for r in package.recipients] == [CHAN_MONG]
    assert [hop for hop, _ in package.trace] == [PROVINCE, DISTRICT]
    assert package.business.reason == "Chuyển tiếp văn bản điện tử"
    original = client.get(f"/api/v1/documents/{sent['id']}/file", headers=as_user("pt.vanthu"))
    assert package.attachments[0].data == original.data
    revocation = edxml.parse_package(notice)
    assert isinstance(revocation, edxml.DocumentPackage)
    assert (revocation.business.doc_type, revocation.business.reason) == (1, "Sai thể thức")
    assert revocation.attachments == ()


def test_forwarding_to_a_commune_that_has_the_document_creates_nothing_and_says_so(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    """The province sent to the district and to Chân Mộng; the district forwards to both
    communes: only Minh Lương gets it, Chân Mộng is listed as having it already."""
    _send(client, as_user, [DISTRICT, CHAN_MONG])
    assert exchange.deliver_pending(services).delivered == 2
    district = as_user("dh.vanthu")
    entry = _only_entry(client, district)
    assert _move(client, district, entry["delivery_id"], "03").status_code == 200

    from tests.web.test_ui import _csrf, _login

    _login(client, "dh.vanthu")
    page = client.get(f"/inbox/{entry['delivery_id']}").get_data(as_text=True)
    assert (
        f'value="{CHAN_MONG}" disabled> UBND xã Chân Mộng' in page and "đã có văn bản này" in page
    )
    assert f'value="{MINH_LUONG}"> UBND xã Minh Lương' in page

    forwarded = _forward(client, district, entry["delivery_id"], [f"children:{DISTRICT}"])
    assert forwarded.status_code == 202
    body = forwarded.get_json()
    assert [d["recipient_code"] for d in body["deliveries"]] == [MINH_LUONG]
    assert body["already_received"] == [{"code": CHAN_MONG, "name": "UBND xã Chân Mộng"}]
    assert exchange.deliver_pending(services).delivered == 1
    only = _only_entry(client, as_user("cm.vanthu"))
    assert only["forwarded_by"] is None  # the province's own delivery, once
    # Again, on the page: nothing new, and the page says who has it already.
    moved = client.post(
        f"/inbox/{entry['delivery_id']}/forward",
        data={"csrf_token": _csrf(page), "unit": [CHAN_MONG]},
        follow_redirects=True,
    )
    assert "Không gửi lại cho các đơn vị đã có văn bản: UBND xã Chân Mộng." in moved.get_data(
        as_text=True
    )
    assert client.get("/api/v1/inbox", headers=as_user("cm.vanthu")).get_json()["items"] == [only]


def test_a_document_that_arrives_by_two_routes_shows_once_with_both_in_its_history(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    """The province's delivery to Chân Mộng gave up (the commune's link was down), so the
    district forwarded it there; then the admin put the province's delivery back in the
    queue: one inbox row, two arrivals in its history (through the district, through the
    province), the status the clerk had reached kept."""
    sent = _send(client, as_user, [DISTRICT, CHAN_MONG])
    with services.sessions() as session:  # what the worker does once it gives up
        direct = session.scalar(
            select(Delivery).where(
                Delivery.document_id == sent["id"], Delivery.recipient_code == CHAN_MONG
            )
        )
        assert direct is not None
        direct.state, direct_id = DeliveryState.FAILED, direct.id
        session.commit()
    assert exchange.deliver_pending(services).delivered == 1
    district = as_user("dh.vanthu")
    entry = _only_entry(client, district)
    assert _move(client, district, entry["delivery_id"], "03").status_code == 200
    forwarded = _forward(client, district, entry["delivery_id"], [CHAN_MONG])
    assert forwarded.get_json()["already_received"] == []  # a failed delivery holds nothing
    assert exchange.deliver_pending(services).delivered == 1
    commune = as_user("cm.vanthu")
    first = _only_entry(client, commune)
    assert first["forwarded_by"] == DISTRICT
    assert _move(client, commune, first["delivery_id"], "03").status_code == 200

    retried = client.post(f"/api/v1/deliveries/{direct_id}/retry", headers=as_user("admin"))
    assert retried.status_code == 200, retried.get_json()
    assert exchange.deliver_pending(services).delivered == 1
    assert client.get("/api/v1/inbox", headers=commune).get_json()["total"] == 1
    detail = client.get(f"/api/v1/inbox/{first['delivery_id']}", headers=commune).get_json()
    assert detail["status_code"] == "03"
    assert [(h["code"], h["via"]) for h in detail["history"]] == [
        ("01", DISTRICT),
        ("03", None),
        ("01", PROVINCE),
    ]
    outbox = client.get(f"/api/v1/outbox?recipient={CHAN_MONG}", headers=as_user("pt.vanthu"))
    [delivery] = outbox.get_json()["items"]
    assert (delivery["state"], delivery["status_code"]) == ("delivered", "01")
    with services.sessions() as session:
        audited = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.action == "delivery.arrived_again",
                AuditEvent.target == first["delivery_id"],
            )
        )
    assert audited == 1

    from tests.web.test_ui import _login

    _login(client, "cm.vanthu")
    page = client.get(f"/inbox/{first['delivery_id']}").get_data(as_text=True)
    assert "01 đã đến qua UBND huyện Đoan Hùng" in page
    assert "01 đã đến qua UBND tỉnh Phú Thọ" in page
    inbox = client.get("/inbox").get_data(as_text=True)
    assert inbox.count(f"/inbox/{first['delivery_id']}") == 1
