"""Two servers on loopback exchange a document and its statuses over edXML (QCVN 102).

Server A (this run's instance: the province, with its tokens) serves everything except the
two communes, which a second server B serves (its own database, instance and demo CA; its
admin trusts A's root, as a real peer would add the sender's national root).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from flask.testing import FlaskClient
from sqlalchemy import func, select

from docexchange.envelopes import edxml
from docexchange.services import exchange
from docexchange.services.container import Services, build_services
from docexchange.services.demo import DEMO_PASSWORD, apply_demo
from docexchange.services.peers import Peer, PeerDirectory
from docexchange.services.schema import migrate
from docexchange.storage.models import Delivery, InboxEntry
from docexchange.web.app import create_app
from tests.conftest import Database, error_code, free_port, make_settings, serve_in_thread
from tests.unit.test_edxml import sample_package
from tests.web.test_documents import signed_and_issued

pytestmark = pytest.mark.usefixtures("signing_tokens", "registered_certificates")

COMMUNES = ("000.21.12.H45", "000.22.12.H45")


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _with_peer(services: Services, peer: Peer, **settings: Any) -> Services:
    """``services`` of a server that knows one peer (and other settings, if given)."""
    changed = services.settings.with_overrides(**settings) if settings else services.settings
    return replace(services, settings=changed, peers=PeerDirectory((peer,)))


def _with_down_peer(services: Services) -> Services:
    """``services`` of a server whose peer for the communes does not answer."""
    return _with_peer(
        services,
        Peer(
            name="xa",
            url=f"http://127.0.0.1:{free_port()}",  # nothing listens there
            serves=COMMUNES,
            inbound_token_sha256=_sha("x"),
            outbound_token="y",
        ),
    )


def _send_one(client: FlaskClient, as_user: Any, recipient: str) -> None:
    body = signed_and_issued(client, as_user, recipients=[recipient])
    sent = client.post(f"/api/v1/documents/{body['id']}/send", headers=as_user("pt.vanthu"))
    assert sent.status_code == 202


def _login(client: FlaskClient, username: str) -> dict[str, str]:
    body = client.post(
        "/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD}
    ).get_json()
    return {"Authorization": f"Bearer {body['token']}"}


@dataclass
class TwoServers:
    a: Services
    b: Services
    client_a: FlaskClient
    client_b: FlaskClient
    a_to_b: str
    b_to_a: str


@contextmanager
def _two_servers(services: Services, database: Database, tmp_path: Path) -> Iterator[TwoServers]:
    """This run's server A (the province) and a server B serving the two communes, both
    listening on loopback and knowing each other as peers."""
    a_to_b, b_to_a = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    port_a, port_b = free_port(), free_port()
    server_a = _with_peer(
        services,
        Peer(
            name="xa",
            url=f"http://127.0.0.1:{port_b}",
            serves=COMMUNES,
            inbound_token_sha256=_sha(b_to_a),
            outbound_token=a_to_b,
        ),
    )
    settings_b = make_settings(tmp_path / "b", database)
    plain_b = build_services(settings_b)
    migrate(plain_b.engine)
    with plain_b.sessions() as session:
        apply_demo(session, hasher=plain_b.hasher)  # the same directory and people, no tokens
    trust_b = tmp_path / "b" / "trust"
    trust_b.mkdir(parents=True)
    (trust_b / "tinh-root.pem").write_bytes(
        services.keys.ca.root.public_bytes(serialization.Encoding.PEM)
    )
    server_b = _with_peer(
        plain_b,
        Peer(
            name="tinh",
            url=f"http://127.0.0.1:{port_a}",
            serves=("000.00.00.H45",),
            inbound_token_sha256=_sha(a_to_b),
            outbound_token=b_to_a,
        ),
    )
    app_a, app_b = create_app(services=server_a), create_app(services=server_b)
    try:
        with serve_in_thread(app_a, port_a), serve_in_thread(app_b, port_b):
            yield TwoServers(
                server_a, server_b, app_a.test_client(), app_b.test_client(), a_to_b, b_to_a
            )
    finally:
        plain_b.verifier.close()
        plain_b.engine.dispose()


def test_two_servers_exchange_a_document_and_its_statuses(
    client: FlaskClient,
    as_user: Any,
    services: Services,
    fresh_database: Database,
    tmp_path: Path,
) -> None:
    with _two_servers(services, fresh_database, tmp_path) as two:
        server_a, server_b, client_b, a_to_b = two.a, two.b, two.client_b, two.a_to_b
        body = signed_and_issued(
            client, as_user, recipients=["communes:000.00.12.H45"], paper_copy=False
        )
        sender = as_user("pt.vanthu")
        assert (
            client.post(f"/api/v1/documents/{body['id']}/send", headers=sender).status_code == 202
        )

        # A's worker hands both deliveries to B over edXML; B verifies and answers 01.
        assert exchange.deliver_pending(server_a).delivered == 2
        outbox = client.get("/api/v1/outbox", headers=sender).get_json()["items"]
        assert {o["recipient_code"]: (o["state"], o["status_code"]) for o in outbox} == {
            COMMUNES[0]: ("delivered", "01"),
            COMMUNES[1]: ("delivered", "01"),
        }

        clerk_b = _login(client_b, "cm.vanthu")
        [arrived] = client_b.get("/api/v1/inbox", headers=clerk_b).get_json()["items"]
        assert arrived["document_id"] == body["document_id"]
        assert arrived["verification"] == {"valid": True, "indication": "TOTAL_PASSED"}
        assert arrived["sender_code"] == "000.00.00.H45" and arrived["status_code"] == "01"
        pdf_b = client_b.get(f"/api/v1/inbox/{arrived['delivery_id']}/file", headers=clerk_b).data
        assert pdf_b == client.get(f"/api/v1/documents/{body['id']}/file", headers=sender).data

        # The commune accepts on B; B's worker reports 03 back to A.
        accepted = client_b.post(
            f"/api/v1/deliveries/{arrived['delivery_id']}/status",
            json={"code": "03"},
            headers=clerk_b,
        )
        assert accepted.status_code == 200
        assigned = client_b.post(
            f"/api/v1/deliveries/{arrived['delivery_id']}/status",
            json={"code": "04", "assignee": "cm.vanthu"},
            headers=_login(client_b, "cm.lanhdao"),
        )
        assert assigned.status_code == 200

        def statuses_at_a() -> dict[str, str]:
            items = client.get("/api/v1/outbox", headers=sender).get_json()["items"]
            return {o["recipient_code"]: o["status_code"] for o in items}

        # In order, one per consignment and pass: A never sees 04 before 03.
        assert exchange.deliver_pending(server_b).delivered == 1
        assert statuses_at_a() == {COMMUNES[0]: "03", COMMUNES[1]: "01"}
        assert exchange.deliver_pending(server_b).delivered == 1
        assert statuses_at_a() == {COMMUNES[0]: "04", COMMUNES[1]: "01"}

        # A replayed package creates nothing and gets the first receipt.
        with server_a.sessions() as session:
            delivery = session.scalar(
                select(Delivery).where(Delivery.recipient_code == COMMUNES[0])
            )
            assert delivery is not None
            package = exchange.delivery_package(session, delivery.id, services=server_a)
            consignment = delivery.consignment_id
        headers = {"Authorization": f"Bearer {a_to_b}", "X-Consignment-Id": consignment}
        replay = client_b.post("/api/v1/exchange/edxml", data=package, headers=headers)
        assert replay.status_code == 200 and replay.get_json()["repeat"] is True
        assert replay.get_json()["delivery_id"] == arrived["delivery_id"]
        # ... and so does the same document under a new consignment id.
        renamed = client_b.post(
            "/api/v1/exchange/edxml",
            data=package,
            headers={**headers, "X-Consignment-Id": secrets.token_hex(16)},
        )
        assert renamed.status_code == 200 and renamed.get_json()["repeat"] is True
        assert renamed.get_json()["delivery_id"] == arrived["delivery_id"]
        with server_b.sessions() as session:
            assert session.scalar(select(func.count()).select_from(InboxEntry)) == 2

        # Strangers and garbage are refused with clear errors.
        stranger = client_b.post(
            "/api/v1/exchange/edxml",
            data=package,
            headers={"Authorization": "Bearer not-a-peer", "X-Consignment-Id": "x"},
        )
        assert (stranger.status_code, error_code(stranger)) == (401, "peer_unknown")
        garbage = client_b.post(
            "/api/v1/exchange/edxml",
            data=b"<not-edxml/>",
            headers={**headers, "X-Consignment-Id": "y"},
        )
        assert (garbage.status_code, error_code(garbage)) == (422, "edxml_refused")


def test_a_peer_speaks_only_for_the_units_it_serves(
    client: FlaskClient,
    as_user: Any,
    services: Services,
    fresh_database: Database,
    tmp_path: Path,
) -> None:
    """Server B serves the two communes: to A it may deliver as a commune, never as A's
    province (sender spoofing), and only packages that follow the schema."""
    body = signed_and_issued(client, as_user, recipients=["000.00.12.H45"])
    pdf = client.get(f"/api/v1/documents/{body['id']}/file", headers=as_user("pt.vanthu")).data

    def package(sender: str, *, trace: tuple[tuple[str, str], ...] = ()) -> bytes:
        template = sample_package()
        return edxml.build_document(
            replace(
                template,
                sender=edxml.Organ(organ_id=sender, name="Đơn vị gửi"),
                recipients=(edxml.Organ(organ_id="000.00.12.H45", name="UBND huyện Đoan Hùng"),),
                document_id=f"{sender},2026/11/26,7/UBND",
                attachments=(replace(template.attachments[0], data=pdf),),
                trace=trace,
            ),
            now=datetime(2026, 11, 26, 9, 0),
        )

    with _two_servers(services, fresh_database, tmp_path) as two:

        def post(data: bytes) -> Any:
            return two.client_a.post(
                "/api/v1/exchange/edxml",
                data=data,
                headers={
                    "Authorization": f"Bearer {two.b_to_a}",
                    "X-Consignment-Id": secrets.token_hex(16),
                },
            )

        def entries() -> int:
            with two.a.sessions() as session:
                return int(session.scalar(select(func.count()).select_from(InboxEntry)) or 0)

        province, commune = "000.00.00.H45", COMMUNES[0]
        for spoofed in (
            package(province),  # A's own province
            package("000.00.00.H99"),  # a unit nobody gave B
            package(province, trace=((province, "2026/11/26 08:00:00"),)),
            # "forwarded" by a unit B does not serve either
            package(
                commune,
                trace=((commune, "2026/11/26 08:00:00"), ("000.00.00.H99", "2026/11/26 08:30:00")),
            ),
        ):
            refused = post(spoofed)
            assert (refused.status_code, error_code(refused)) == (
                403,
                "peer_not_authorised_for_sender",
            )
        assert "000.00.00.H45" in post(package(province)).get_json()["error"]["message_vi"]
        broken = re.sub(rb"<edXML:Priority>\d<", b"<edXML:Priority>urgent<", package(commune))
        assert b"urgent" in broken
        invalid = post(broken)
        assert (invalid.status_code, error_code(invalid)) == (422, "edxml_invalid")
        assert entries() == 0
        genuine = post(package(commune))
        assert genuine.status_code == 200, genuine.get_json()
        assert genuine.get_json()["status_code"] == "01" and entries() == 1


def test_take_back_replacement_and_revocation_travel_to_a_peer(
    client: FlaskClient,
    as_user: Any,
    services: Services,
    fresh_database: Database,
    tmp_path: Path,
) -> None:
    sender = as_user("pt.vanthu")

    def send(recipients: list[str], **extra: Any) -> dict[str, Any]:
        body = signed_and_issued(client, as_user, recipients=recipients)
        sent = two.client_a.post(f"/api/v1/documents/{body['id']}/send", json=extra, headers=sender)
        assert sent.status_code == 202
        result: dict[str, Any] = body
        return result

    def revoke(document: dict[str, Any], reason: str) -> None:
        revoked = two.client_a.post(  # the sender's server, which knows its peer
            f"/api/v1/documents/{document['id']}/revoke", json={"reason": reason}, headers=sender
        )
        assert revoked.status_code == 200

    with _two_servers(services, fresh_database, tmp_path) as two:
        first = send(list(COMMUNES))
        assert exchange.deliver_pending(two.a).delivered == 2
        clerk_b = _login(two.client_b, "cm.vanthu")
        [old] = two.client_b.get("/api/v1/inbox", headers=clerk_b).get_json()["items"]
        accepted = two.client_b.post(
            f"/api/v1/deliveries/{old['delivery_id']}/status", json={"code": "03"}, headers=clerk_b
        )
        assert accepted.status_code == 200
        assert exchange.deliver_pending(two.b).delivered == 1  # 03 reported to A

        # A status going backwards (01 after 03) is refused by the sender's server.
        with two.a.sessions() as session:
            delivery = session.scalar(
                select(Delivery).where(Delivery.recipient_code == COMMUNES[0])
            )
            assert delivery is not None and delivery.status_code == "03"
            consignment = delivery.consignment_id
        backwards = edxml.build_status(
            edxml.StatusMessage(
                sender=edxml.Organ(COMMUNES[0]),
                response_organ_id="000.00.00.H45",
                response_code=first["number"],
                response_date=None,
                response_document_id=first["document_id"],
                status_code="01",
                description="",
                timestamp=None,
            )
        )
        refused = two.client_a.post(
            "/api/v1/exchange/edxml",
            data=backwards,
            headers={"Authorization": f"Bearer {two.b_to_a}", "X-Consignment-Id": consignment},
        )
        assert (refused.status_code, error_code(refused)) == (409, "status_move_not_allowed")

        # The sender asks Minh Lương's copy back; B's clerk agrees; A sees 15.
        with two.a.sessions() as session:
            asked = session.scalar(
                select(Delivery.id).where(Delivery.recipient_code == COMMUNES[1])
            )
        take_back = two.client_a.post(
            f"/api/v1/deliveries/{asked}/status",
            json={"code": "13", "reason": "Gửi nhầm nơi nhận"},
            headers=sender,
        )
        assert take_back.status_code == 200
        assert exchange.deliver_pending(two.a).delivered == 1  # the request, over edXML
        ml_b = _login(two.client_b, "ml.vanthu")
        [asked_b] = two.client_b.get("/api/v1/inbox", headers=ml_b).get_json()["items"]
        assert asked_b["status_code"] == "13"
        history = two.client_b.get(f"/api/v1/inbox/{asked_b['delivery_id']}", headers=ml_b)
        assert history.get_json()["history"][-1] == {
            **history.get_json()["history"][-1],
            "code": "13",
            "reason": "Gửi nhầm nơi nhận",
            "actor": "peer:tinh",
        }
        agreed = two.client_b.post(
            f"/api/v1/deliveries/{asked_b['delivery_id']}/status",
            json={"code": "15"},
            headers=ml_b,
        )
        assert agreed.status_code == 200
        assert exchange.deliver_pending(two.b).delivered == 1
        outbox = two.client_a.get("/api/v1/outbox", headers=sender).get_json()["items"]
        assert {o["recipient_code"]: o["status_code"] for o in outbox} == {
            COMMUNES[0]: "03",
            COMMUNES[1]: "15",
        }

        # A replacement arrives on B and marks the earlier copy there.
        second = send(list(COMMUNES), replaces=first["id"])
        assert exchange.deliver_pending(two.a).delivered == 2
        items = two.client_b.get("/api/v1/inbox", headers=clerk_b).get_json()["items"]
        by_ref = {i["document_id"]: i for i in items}
        new = by_ref[second["document_id"]]
        assert by_ref[first["document_id"]]["replaced_by"] == new["delivery_id"]
        assert new["verification"]["valid"] is True

        # A revocation reaches B through the status outbox and freezes both copies there.
        revoke(second, "Sai số liệu")
        assert exchange.deliver_pending(two.a).delivered == 2  # two notices sent
        shown = two.client_b.get(f"/api/v1/inbox/{new['delivery_id']}", headers=clerk_b)
        assert shown.get_json()["revoked"]["reason"] == "Sai số liệu"
        gone = two.client_b.get(f"/api/v1/inbox/{new['delivery_id']}/file", headers=clerk_b)
        assert (gone.status_code, error_code(gone)) == (410, "document_revoked")

        # Revoked before it went: B remembers, and a late copy of it creates nothing.
        third = send([COMMUNES[0]])
        revoke(third, "Gửi nhầm")
        assert exchange.deliver_pending(two.a).delivered == 1  # the notice; not the document
        with two.a.sessions() as session:
            late = session.scalar(select(Delivery).where(Delivery.document_id == third["id"]))
            assert late is not None and late.state == "revoked"
            package = exchange.delivery_package(session, late.id, services=two.a)
            consignment = late.consignment_id
        with two.b.sessions() as session:
            before = session.scalar(select(func.count()).select_from(InboxEntry))
        arrived_late = two.client_b.post(
            "/api/v1/exchange/edxml",
            data=package,
            headers={"Authorization": f"Bearer {two.a_to_b}", "X-Consignment-Id": consignment},
        )
        assert arrived_late.status_code == 200 and arrived_late.get_json()["revoked"] is True
        with two.b.sessions() as session:
            assert session.scalar(select(func.count()).select_from(InboxEntry)) == before


def test_a_peer_that_is_down_delays_delivery_and_loses_nothing(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    down = _with_down_peer(services)
    _send_one(client, as_user, COMMUNES[0])
    result = exchange.deliver_pending(down)
    assert (result.delivered, result.retried) == (0, 1)
    with services.sessions() as session:
        delivery = session.scalar(select(Delivery))
        assert delivery is not None
        assert (delivery.state, delivery.attempts) == ("pending", 1)
        assert delivery.last_error and delivery.next_attempt_at > delivery.created_at


def test_a_slow_or_garbled_peer_delays_delivery_and_loses_nothing(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    """A stand-in for a broken remote server (outside the system): too slow, an error page,
    a 200 with HTML instead of a receipt; then it recovers and the same delivery arrives."""
    import threading

    from sqlalchemy import update

    behaviour = ["slow"]
    seen: list[str] = []
    released = threading.Event()  # the slow answer comes only after we gave up on it

    def broken_peer(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(environ.get("HTTP_X_CONSIGNMENT_ID", ""))
        mode = behaviour[0]
        if mode == "slow":
            released.wait(timeout=30)
        if mode == "error":
            start_response("502 Bad Gateway", [("Content-Type", "text/plain")])
            return [b"upstream down"]
        if mode == "ok":
            start_response("200 OK", [("Content-Type", "application/json")])
            return [b'{"status_code": "01", "delivery_id": "x", "repeat": false}']
        start_response("200 OK", [("Content-Type", "text/html")])
        return [b"<html>maintenance</html>"]

    port = free_port()
    flaky = _with_peer(
        services,
        Peer(
            name="xa",
            url=f"http://127.0.0.1:{port}",
            serves=COMMUNES,
            inbound_token_sha256=_sha("x"),
            outbound_token="y",
        ),
        peer_timeout_seconds=1,
    )
    _send_one(client, as_user, COMMUNES[0])
    with serve_in_thread(broken_peer, port):  # type: ignore[arg-type]
        for mode in ("slow", "error", "garbage", "ok"):
            behaviour[0] = mode
            with services.sessions() as session:  # the backoff has passed
                session.execute(update(Delivery).values(next_attempt_at=Delivery.created_at))
                session.commit()
            result = exchange.deliver_pending(flaky)
            released.set()
            assert result.delivered == (1 if mode == "ok" else 0), mode
    with services.sessions() as session:
        delivery = session.scalar(select(Delivery))
        assert delivery is not None
        assert (delivery.state, delivery.status_code, delivery.attempts) == ("delivered", "01", 3)
    assert len(set(seen)) == 1 and len(seen) == 4  # the same consignment every time


def test_admins_see_each_route_and_queue_failed_deliveries_again(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    from sqlalchemy import update

    from tests.web.test_ui import _csrf, _login

    down = _with_down_peer(services)
    _send_one(client, as_user, COMMUNES[0])
    with services.sessions() as session:  # its last attempt is due
        session.execute(update(Delivery).values(attempts=exchange.MAX_ATTEMPTS - 1))
        session.commit()
    assert exchange.deliver_pending(down).failed == 1

    pages = create_app(services=down).test_client()
    _login(pages, "cm.vanthu")
    assert pages.get("/admin/exchange").status_code == 403
    pages.post("/logout", data={"csrf_token": _csrf(pages.get("/").get_data(as_text=True))})
    _login(pages, "admin")
    html = pages.get("/admin/exchange").get_data(as_text=True)
    peer_row = html.split('data-route="xa"')[1].split("</tr>")[0]
    assert '<td class="failed">1</td>' in peer_row and "ConnectionError" in peer_row
    local_row = html.split('data-route="local"')[1].split("</tr>")[0]
    assert '<td class="failed">0</td>' in local_row
    with services.sessions() as session:
        failed = session.scalar(select(Delivery))
        assert failed is not None and failed.state == "failed"
        consignment = failed.consignment_id
    again = pages.post(
        f"/admin/deliveries/{failed.id}/retry",
        data={"csrf_token": _csrf(html)},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "được đưa lại vào hàng đợi" in again
    assert '<td class="pending">1</td>' in again.split('data-route="xa"')[1].split("</tr>")[0]
    with services.sessions() as session:
        queued = session.scalar(select(Delivery))
        assert queued is not None
        assert (queued.state, queued.attempts, queued.consignment_id) == (
            "pending",
            0,
            consignment,
        )
