"""Exchange: send, revoke, forward, edXML in and out, inbox, outbox, statuses."""

from __future__ import annotations

import logging

from flask import Response, jsonify, request

from docexchange.domain.inputs import ForwardBody, ListQuery, ReasonBody, SendBody, StatusBody
from docexchange.domain.timeutil import today_vn
from docexchange.services import (
    exchange,
)
from docexchange.web.blueprints.api_v1.blueprint import _page, bp
from docexchange.web.context import (
    current_actor,
    db,
    notify_worker,
    services,
)
from docexchange.web.observe import reads_only
from docexchange.web.schemas import (
    delivery_to_dict,
    document_to_dict,
    inbox_entry_to_dict,
    outbox_item_to_dict,
    parse_body,
    parse_query,
    status_event_to_dict,
)

logger = logging.getLogger(__name__)


@bp.post("/documents/<document_id>/send")
def send_document(document_id: str) -> tuple[Response, int]:
    """Clerk: send an issued document (its recorded recipients, or ``{recipients}``);
    ``{replaces}`` names an earlier document of the unit that this one replaces."""
    body = parse_body(SendBody) if request.get_data() else SendBody()
    deliveries = exchange.send_document(
        db(),
        document_id,
        actor=current_actor(),
        recipients=body.recipients,
        replaces=body.replaces,
        services=services(),
    )
    notify_worker()
    return jsonify({"deliveries": [delivery_to_dict(d) for d in deliveries]}), 202


@bp.post("/documents/<document_id>/revoke")
def revoke_document(document_id: str) -> Response:
    """Clerk: withdraw a sent document, ``{reason}``; every recipient's copy is frozen."""
    document = exchange.revoke_document(
        db(),
        document_id,
        actor=current_actor(),
        reason=parse_body(ReasonBody).reason,
        services=services(),
    )
    notify_worker()
    return jsonify(document_to_dict(document, exchange.deliveries_of(db(), document.id)))


@bp.post("/inbox/<entry_id>/forward")
def forward_entry(entry_id: str) -> tuple[Response, int]:
    """Clerk: forward an accepted document to units below, ``{recipients}`` (codes or
    selectors such as ``children:<code>``); the signed file travels unchanged."""
    forwarded = exchange.forward_entry(
        db(), entry_id, actor=current_actor(), recipients=parse_body(ForwardBody).recipients
    )
    notify_worker()
    return jsonify(
        {
            "deliveries": [delivery_to_dict(d) for d in forwarded.deliveries],
            "already_received": [
                {"code": u.code, "name": u.name} for u in forwarded.already_received
            ],
        }
    ), 202


@bp.get("/documents/<document_id>/edxml")
def document_edxml(document_id: str) -> Response:
    """The edXML package (QCVN 102) of an issued document, the signed PDF inside."""
    data = exchange.edxml_package(db(), document_id, services=services(), actor=current_actor())
    return Response(data, mimetype="application/xml")


@bp.post("/exchange/edxml")
def exchange_edxml() -> Response:
    """Peers: deliver a document or report a status, as edXML (QCVN 102).

    Authenticated by the peer's own token (``Authorization: Bearer``), not a user's; the
    ``X-Consignment-Id`` header makes a repeat harmless (answered with the first receipt).
    """
    header = request.headers.get("Authorization", "")
    token = header[len("Bearer ") :].strip() if header.startswith("Bearer ") else None
    peer = services().peers.authenticate(token)
    answer = exchange.receive_edxml(
        db(),
        request.get_data(),
        consignment_id=request.headers.get("X-Consignment-Id", ""),
        peer=peer,
        services=services(),
    )
    return jsonify(answer)


@bp.get("/inbox")
@reads_only
def inbox() -> Response:
    """What arrived for the caller's unit, urgent first: one page (``?page=&per_page=``),
    searched and filtered (``?q=&from=&to=&sender=&status=&doc_type=&overdue=``)."""
    found = exchange.list_inbox(
        db(), actor=current_actor(), filters=parse_query(ListQuery), today=today_vn()
    )
    return _page(found, inbox_entry_to_dict)


@bp.get("/inbox/<entry_id>")
@reads_only
def inbox_entry(entry_id: str) -> Response:
    """One arrived document: its verdict in full and its status history."""
    entry = exchange.get_inbox_entry(db(), entry_id, actor=current_actor())
    body = inbox_entry_to_dict(entry, full=True)
    body["history"] = [status_event_to_dict(e) for e in exchange.status_history(db(), entry)]
    body["forwarded_to"] = [delivery_to_dict(d) for d in exchange.forwarded_from(db(), entry)]
    return jsonify(body)


@bp.get("/inbox/<entry_id>/file")
def inbox_file(entry_id: str) -> Response:
    """The arrived PDF, unchanged."""
    data = exchange.entry_file(db(), entry_id, actor=current_actor(), services=services())
    return Response(data, mimetype="application/pdf")


@bp.get("/outbox")
@reads_only
def outbox() -> Response:
    """What the caller's unit sent: each recipient's delivery and latest status, one page
    (``?page=&per_page=``), searched and filtered (``?q=&from=&to=&recipient=&status=``)."""
    found = exchange.list_outbox(db(), actor=current_actor(), filters=parse_query(ListQuery))
    return _page(found, outbox_item_to_dict)


@bp.post("/deliveries/<item_id>/status")
def delivery_status(item_id: str) -> Response:
    """Move a delivery on, ``{code, reason, assignee}``: recipient 02-06, 15, 16; sender 13."""
    body = parse_body(StatusBody)
    code = exchange.change_status(
        db(),
        item_id,
        body.code,
        actor=current_actor(),
        peers=services().peers,
        reason=body.reason or body.note,
        assignee=body.assignee,
        instruction=body.instruction,
        due_date=body.due_date,
    )
    return jsonify({"delivery_id": item_id, "status_code": code.value})


@bp.post("/deliveries/<delivery_id>/retry")
def retry_delivery(delivery_id: str) -> Response:
    """Admin: queue a failed delivery again (same consignment id)."""
    delivery = exchange.retry_failed(db(), delivery_id, actor=current_actor())
    notify_worker()
    return jsonify({"delivery_id": delivery.id, "state": delivery.state})
