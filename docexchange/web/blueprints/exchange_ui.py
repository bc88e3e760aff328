"""Pages for the exchange: the inbox (urgent first, verdict, actions) and the outbox."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from docexchange.domain.accounts import Role
from docexchange.domain.edge import parse_input
from docexchange.domain.exchange import Status
from docexchange.domain.inputs import ForwardBody, ListQuery, ReasonBody, StatusBody
from docexchange.domain.timeutil import today_vn
from docexchange.errors import DocExchangeError
from docexchange.services import exchange
from docexchange.storage.models import User
from docexchange.web.context import current_actor, db, notify_worker, services
from docexchange.web.errors import flash_refusal
from docexchange.web.observe import reads_only
from docexchange.web.previews import page_count, page_picture
from docexchange.web.schemas import parse_query

bp = Blueprint("exchange_ui", __name__)
#: The statuses a list can be filtered by, in the order of their codes.
INBOX_STATUSES = tuple(s.value for s in Status)
logger = logging.getLogger(__name__)


@bp.get("/inbox")
@reads_only
def inbox() -> str:
    """What arrived for the unit, urgent first: searched, filtered, one page at a time."""
    actor = current_actor()
    found = exchange.list_inbox(db(), actor=actor, filters=parse_query(ListQuery), today=today_vn())
    return render_template(
        "exchange/inbox.html",
        found=found,
        parties=exchange.inbox_senders(db(), actor=actor),
        statuses=INBOX_STATUSES,
    )


@bp.get("/inbox/<entry_id>")
def entry(entry_id: str) -> str:
    """One arrived document: verdict, history, and what the viewer may do with it."""
    actor = current_actor()
    found = exchange.get_inbox_entry(db(), entry_id, actor=actor)
    people = (
        db()
        .scalars(
            select(User)
            .where(User.unit_code == actor.unit_code, User.active)
            .order_by(User.username)
        )
        .all()
    )
    moves = [m.value for m in exchange.allowed_moves(found, actor)]
    pages = 0
    if found.revoked_at is None:
        data = exchange.entry_file(db(), found.id, actor=actor, services=services())
        pages = page_count(data, found.pdf_sha256, services=services())
    return render_template(
        "exchange/entry.html",
        entry=found,
        history=exchange.status_history(db(), found),
        report=found.verification,
        pages=pages,
        moves=moves,
        people=people,
        forwarded=exchange.forwarded_from(db(), found),
        forward_to=(targets := exchange.forward_targets(db(), found, actor=actor)),
        holding=exchange.holders(db(), found, [u.code for u in targets]),
        form=FlaskForm(),
    )


@bp.get("/inbox/<entry_id>/file")
def entry_file(entry_id: str) -> Response:
    """The arrived PDF, unchanged (framed by the entry page)."""
    data = exchange.entry_file(db(), entry_id, actor=current_actor(), services=services())
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{entry_id[:32]}.pdf"'
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Content-Security-Policy"] = "frame-ancestors 'self'"
    return response


@bp.get("/inbox/<entry_id>/pages/<int:page>.png")
def entry_page(entry_id: str, page: int) -> Response:
    """One page of an arrived PDF as a picture."""
    found = exchange.get_inbox_entry(db(), entry_id, actor=current_actor())
    data = exchange.entry_file(db(), found.id, actor=current_actor(), services=services())
    return page_picture(data, found.pdf_sha256, page, services=services())


@bp.post("/deliveries/<item_id>/status")
def status(item_id: str) -> WerkzeugResponse:
    """Accept, return (with a reason), assign, process, finish; or ask for a document back."""
    back = request.form.get("back") == "outbox"
    if FlaskForm().validate_on_submit():
        try:
            move = parse_input(StatusBody, request.form.to_dict())
            exchange.change_status(
                db(),
                item_id,
                move.code,
                actor=current_actor(),
                peers=services().peers,
                reason=move.reason,
                assignee=move.assignee,
                instruction=move.instruction,
                due_date=move.due_date,
            )
        except DocExchangeError as exc:
            flash_refusal(exc)
        else:
            flash(str(request.form.get("code")), "status")
    if back:
        return redirect(url_for("exchange_ui.outbox"))
    return redirect(url_for("exchange_ui.entry", entry_id=item_id))


@bp.get("/outbox")
@reads_only
def outbox() -> str:
    """What the unit sent: every recipient's latest status, searched, one page at a time."""
    actor = current_actor()
    found = exchange.list_outbox(db(), actor=actor, filters=parse_query(ListQuery))
    return render_template(
        "exchange/outbox.html",
        found=found,
        parties=exchange.outbox_recipients(db(), actor=actor),
        statuses=INBOX_STATUSES,
        form=FlaskForm(),
    )


@bp.post("/documents/<document_id>/send")
def send(document_id: str) -> WerkzeugResponse:
    """Clerk: send an issued document to its recipients."""
    if FlaskForm().validate_on_submit():
        try:
            sent = exchange.send_document(
                db(), document_id, actor=current_actor(), services=services()
            )
        except DocExchangeError as exc:
            flash_refusal(exc)
        else:
            notify_worker()
            flash(str(len(sent)), "sent")
    return redirect(url_for("documents_ui.show", document_id=document_id))


@bp.post("/inbox/<entry_id>/forward")
def forward(entry_id: str) -> WerkzeugResponse:
    """Clerk: forward an accepted document to the units ticked on the entry page."""
    if FlaskForm().validate_on_submit():
        try:
            sent = exchange.forward_entry(
                db(),
                entry_id,
                actor=current_actor(),
                recipients=parse_input(
                    ForwardBody, {"recipients": request.form.getlist("unit")}
                ).recipients,
            )
        except DocExchangeError as exc:
            flash_refusal(exc)
        else:
            notify_worker()
            flash(str(len(sent.deliveries)), "forwarded")
            if sent.already_received:
                names = ", ".join(u.name for u in sent.already_received)
                flash(names, "already_received")
    return redirect(url_for("exchange_ui.entry", entry_id=entry_id))


@bp.post("/documents/<document_id>/revoke")
def revoke(document_id: str) -> WerkzeugResponse:
    """Clerk: withdraw a sent document from every recipient, with a reason."""
    if FlaskForm().validate_on_submit():
        try:
            exchange.revoke_document(
                db(),
                document_id,
                actor=current_actor(),
                reason=parse_input(ReasonBody, request.form.to_dict()).reason,
                services=services(),
            )
        except DocExchangeError as exc:
            flash_refusal(exc)
        else:
            notify_worker()
            flash(document_id, "revoked")
    return redirect(url_for("documents_ui.show", document_id=document_id))


@bp.get("/admin/exchange")
def overview() -> str:
    """Admins and auditors: each route's queue (this server, each peer) and failed deliveries."""
    actor = current_actor()
    routes, failed = exchange.exchange_overview(db(), services().peers, actor=actor)
    return render_template(
        "exchange/overview.html",
        routes=routes,
        failed=failed,
        is_admin=actor.has(Role.ADMIN),
        form=FlaskForm(),
    )


@bp.post("/admin/deliveries/<delivery_id>/retry")
def retry(delivery_id: str) -> WerkzeugResponse:
    """Admin: queue a failed delivery again (the same consignment id)."""
    if FlaskForm().validate_on_submit():
        try:
            exchange.retry_failed(db(), delivery_id, actor=current_actor())
        except DocExchangeError as exc:
            flash_refusal(exc)
        else:
            notify_worker()
            flash(delivery_id, "requeued")
    return redirect(url_for("exchange_ui.overview"))
