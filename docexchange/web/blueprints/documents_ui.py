"""Pages for outgoing documents: upload, the leader's and the clerk's queues, sign, issue."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as WerkzeugResponse

from docexchange.domain.accounts import Role
from docexchange.domain.documents import DOC_TYPES, DocumentState, Secrecy
from docexchange.domain.edge import parse_input
from docexchange.domain.inputs import (
    DocumentMetadata,
    ListQuery,
    ReasonBody,
    SigningBatchBody,
    SubmitBody,
)
from docexchange.domain.search import Page, Paged
from docexchange.errors import DocExchangeError
from docexchange.services import accounts, audit, documents, exchange, verification
from docexchange.web.context import current_actor, db, services
from docexchange.web.errors import flash_refusal, localized
from docexchange.web.forms import PinForm, UploadForm
from docexchange.web.observe import reads_only
from docexchange.web.previews import page_picture
from docexchange.web.recipients import expand, recipient_options
from docexchange.web.schemas import file_name, parse_query

bp = Blueprint("documents_ui", __name__, url_prefix="/documents")
logger = logging.getLogger(__name__)


@bp.get("/")
@reads_only
def index() -> str:
    """The unit's outgoing documents, searched, filtered and one page at a time;
    ``?queue=sign`` (my signature) or ``?queue=issue`` (to be issued) narrows them."""
    actor = current_actor()
    queue = request.args.get("queue")
    filters = parse_query(ListQuery)
    if queue == "sign" and actor.has(Role.SIGNER):
        waiting = documents.signing_queue(db(), actor=actor)
        found = Paged(waiting, len(waiting), Page(1, max(1, len(waiting))))
    else:
        state = {"sign": DocumentState.DRAFT, "issue": DocumentState.SIGNED}.get(queue or "")
        if state is not None:
            filters = filters.model_copy(update={"state": state})
        found = documents.list_documents(db(), actor=actor, filters=filters)
    return render_template(
        "documents/index.html",
        found=found,
        documents=found.items,
        queue=queue,
        parties=exchange.outbox_recipients(db(), actor=actor),
        people=accounts.names_in_unit(db(), actor.unit_code),
    )


#: Which field of the upload form a refusal belongs to, by its code (else the field it names).
_FIELD_OF = {
    "invalid_selector": "recipients",
    "invalid_unit_code": "recipients",
    "unit_not_found": "recipients",
    "invalid_doc_type": "doc_type",
}


def _size(count: int) -> str:
    """``50 MB``, ``64 KB``: a limit as people read it."""
    mib = 1024 * 1024
    return f"{count // mib} MB" if count >= mib else f"{max(1, count // 1024)} KB"


def _field_of(error: DocExchangeError) -> str | None:
    if error.code.startswith("pdf_"):
        return "file"
    field = error.params.get("field")
    return _FIELD_OF.get(error.code, field if isinstance(field, str) else None)


@bp.route("/new", methods=["GET", "POST"])
def new() -> WerkzeugResponse | str:
    """Compose: the final PDF with everything the API's metadata carries, recipients too.

    A refused upload comes back to the form with what was typed, the message by its field
    (an oversized file too: the page reads up to twice the limit, ``web/edge.py``).
    """
    form = UploadForm()
    form.doc_type.choices = [(code, f"{code} — {name}") for code, name in DOC_TYPES.items()]
    limit = services().settings.max_upload_bytes
    recipients = [r.strip() for r in request.form.getlist("recipients") if r.strip()]
    problems: dict[str, str] = {}
    if form.validate_on_submit():
        data = form.file.data.read(limit + 1)
        if len(data) > limit:
            problems["file"] = _(
                "The file is larger than %(size)s; choose a smaller one.", size=_size(limit)
            )
        else:
            try:
                metadata = parse_input(
                    DocumentMetadata,
                    {
                        "subject": form.subject.data,
                        "doc_type": form.doc_type.data,
                        "drafting_unit": form.drafting_unit.data or None,
                        "urgency": form.urgency.data,
                        "secrecy": form.secrecy.data,
                        "due_date": form.due_date.data or None,
                        "recipients": recipients,
                        "paper_copy": bool(form.paper_copy.data),
                        "signature_page": form.signature_page.data,
                    },
                )
                document = documents.create_document(
                    db(), data, metadata, services=services(), actor=current_actor()
                )
            except DocExchangeError as exc:
                db().rollback()
                field = _field_of(exc)
                if field is None:
                    flash(localized(exc), "error")
                else:
                    problems[field] = localized(exc)
            else:
                return redirect(url_for("documents_ui.show", document_id=document.id))
    return render_template(
        "documents/new.html",
        form=form,
        recipients=recipients,
        options=recipient_options(db()),
        problems=problems,
        limit=_size(limit),
    )


@bp.get("/<document_id>")
def show(document_id: str) -> str:
    """One document: preview, signatures, and the action the viewer may take."""
    actor = current_actor()
    document = documents.get_document(db(), document_id, actor=actor)
    own_draft = document.sender_code == actor.unit_code and document.state == DocumentState.DRAFT
    can_sign = (
        actor.has(Role.SIGNER)
        and document.sender_code == actor.unit_code
        and document.state != DocumentState.ISSUED
        and not any(s.signer == actor.username for s in document.signatures)
        and document.submitted_to in (None, actor.username)
    )
    can_submit = own_draft and actor.has(Role.CLERK, Role.SPECIALIST)
    can_return = own_draft and can_sign
    can_issue = (
        actor.has(Role.CLERK)
        and document.sender_code == actor.unit_code
        and document.state == DocumentState.SIGNED
    )
    deliveries = exchange.deliveries_of(db(), document.id)
    can_send = (
        actor.has(Role.CLERK)
        and document.sender_code == actor.unit_code
        and document.state == DocumentState.ISSUED
        and document.secrecy == Secrecy.NONE
        and bool(document.recipients)
        and not deliveries
    )
    expanded = (
        expand(db(), document.recipients, sender=document.sender_code)
        if document.recipients and not deliveries
        else None
    )
    can_revoke = (
        actor.has(Role.CLERK)
        and document.sender_code == actor.unit_code
        and bool(deliveries)
        and document.revoked_at is None
    )
    return render_template(
        "documents/show.html",
        document=document,
        form=PinForm(),
        can_sign=can_sign,
        can_issue=can_issue,
        can_submit=can_submit,
        can_return=can_return,
        signers=documents.signers_of(db(), document.sender_code) if can_submit else [],
        people=accounts.names_in_unit(db(), document.sender_code),
        can_send=can_send,
        can_revoke=can_revoke,
        deliveries=deliveries,
        expanded=expanded,
        history=audit.history(db(), document.id),
        type_name=DOC_TYPES.get(document.doc_type, document.doc_type),
    )


def _batch_documents(ids: list[str]) -> list[Any]:
    """The chosen documents the leader can see, in the order chosen (others dropped)."""
    actor, found = current_actor(), []
    for document_id in dict.fromkeys(ids):
        try:
            found.append(documents.get_document(db(), document_id, actor=actor))
        except DocExchangeError:
            continue
    return found


@bp.post("/batch")
def batch_review() -> str | WerkzeugResponse:
    """Leader: the documents ticked in the queue, listed (pages, subject, urgency), and the
    PIN asked once for all of them."""
    chosen = _batch_documents(request.form.getlist("document_ids"))
    if not chosen:
        flash(_("Tick the documents to sign first."), "error")
        return redirect(url_for("documents_ui.index", queue="sign"))
    return render_template("documents/batch.html", chosen=chosen, form=PinForm())


@bp.post("/batch/sign")
def batch_sign() -> str | WerkzeugResponse:
    """Leader: sign the listed documents with one PIN entry; each document's result."""
    form = PinForm()
    ids = request.form.getlist("document_ids")
    if form.validate_on_submit():
        try:
            body = parse_input(SigningBatchBody, {"document_ids": ids, "pin": form.pin.data})
            outcome = documents.sign_batch(
                db(), body.document_ids, body.pin, services=services(), actor=current_actor()
            )
        except DocExchangeError as exc:
            flash_refusal(exc)
        else:
            titles = {d.id: d.subject for d in _batch_documents(ids)}
            return render_template("documents/batch_done.html", outcome=outcome, titles=titles)
    return render_template(
        "documents/batch.html", chosen=_batch_documents(ids), form=PinForm(formdata=None)
    )


@bp.post("/<document_id>/submit")
def submit(document_id: str) -> WerkzeugResponse:
    """Clerk or specialist: submit a draft to a leader, with a note."""
    if FlaskForm().validate_on_submit():
        try:
            body = parse_input(SubmitBody, request.form.to_dict())
            documents.submit_document(
                db(), document_id, signer=body.signer, note=body.note, actor=current_actor()
            )
        except DocExchangeError as exc:
            flash_refusal(exc)
        else:
            flash(body.signer, "submitted")
    return redirect(url_for("documents_ui.show", document_id=document_id))


@bp.post("/<document_id>/return")
def give_back(document_id: str) -> WerkzeugResponse:
    """Leader: return a draft to its drafter, with the reason."""
    if FlaskForm().validate_on_submit():
        try:
            reason = parse_input(ReasonBody, request.form.to_dict()).reason
            documents.return_document(db(), document_id, reason=reason, actor=current_actor())
        except DocExchangeError as exc:
            flash_refusal(exc)
        else:
            flash("", "returned")
            return redirect(url_for("documents_ui.index", queue="sign"))
    return redirect(url_for("documents_ui.show", document_id=document_id))


@bp.get("/<document_id>/pages/<int:page>.png")
def page(document_id: str, page: int) -> Response:
    """One page of the current PDF as a picture (the preview reads without a plug-in)."""
    document = documents.get_document(db(), document_id, actor=current_actor())
    data = documents.document_pdf(document, services=services())
    return page_picture(data, document.current_sha256, page, services=services())


@bp.get("/<document_id>/file")
def file(document_id: str) -> Response:
    """The current PDF, for the preview frame and for download."""
    document = documents.get_document(db(), document_id, actor=current_actor())
    response = Response(
        documents.document_pdf(document, services=services()), mimetype="application/pdf"
    )
    response.headers["Content-Disposition"] = f'inline; filename="{file_name(document)}"'
    # The preview is framed by our own page.
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Content-Security-Policy"] = "frame-ancestors 'self'"
    return response


def _act(document_id: str, action: str) -> WerkzeugResponse:
    form = PinForm()
    if not form.validate_on_submit():
        flash(localized(DocExchangeError("invalid_pin_format")), "error")
        return redirect(url_for("documents_ui.show", document_id=document_id))
    operation = documents.sign_document if action == "sign" else documents.issue_document
    try:
        operation(db(), document_id, form.pin.data, services=services(), actor=current_actor())
    except DocExchangeError as exc:
        flash_refusal(exc)
    else:
        flash(action, "done")
    return redirect(url_for("documents_ui.show", document_id=document_id))


@bp.post("/<document_id>/sign")
def sign(document_id: str) -> WerkzeugResponse:
    """The leader's personal signature."""
    return _act(document_id, "sign")


@bp.post("/<document_id>/issue")
def issue(document_id: str) -> WerkzeugResponse:
    """The clerk numbers the document and applies the organisation signature."""
    return _act(document_id, "issue")


@bp.post("/<document_id>/verify")
def verify(document_id: str) -> WerkzeugResponse:
    """Check the document's signatures again and keep the report with it."""
    if FlaskForm().validate_on_submit():
        verification.verify_stored_document(
            db(), document_id, services=services(), actor=current_actor()
        )
    return redirect(url_for("documents_ui.show", document_id=document_id))
