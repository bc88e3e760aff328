"""Outgoing documents: upload, sign, issue, deferred signing; verification and trust."""

from __future__ import annotations

import base64
import logging
from dataclasses import asdict

from flask import Response, jsonify, request

from docexchange.domain.edge import parse_input
from docexchange.domain.inputs import (
    AnchorBody,
    ChainBody,
    DocumentMetadata,
    ListQuery,
    PinBody,
    ReasonBody,
    SignatureBody,
    SigningBatchBody,
    SubmitBody,
    VerifyQuery,
)
from docexchange.domain.json_input import parse_json
from docexchange.errors import InvalidInput
from docexchange.services import (
    directory,
    documents,
    exchange,
    trust,
    verification,
)
from docexchange.web.blueprints.api_v1.blueprint import _items, _page, bp
from docexchange.web.context import (
    current_actor,
    db,
    services,
)
from docexchange.web.observe import reads_only
from docexchange.web.schemas import (
    batch_to_dict,
    document_to_dict,
    file_name,
    parse_body,
    parse_query,
    report_to_dict,
)

logger = logging.getLogger(__name__)


def _pin() -> str:
    return parse_body(PinBody).pin


@bp.post("/documents")
def create_document() -> tuple[Response, int]:
    """Upload a PDF (multipart ``file``) with its ``metadata`` (a JSON string)."""
    upload = request.files.get("file")
    if upload is None:
        raise InvalidInput("missing_field", field="file")
    raw = request.form.get("metadata")
    if raw is None:
        raise InvalidInput("missing_field", field="metadata")
    metadata = parse_input(DocumentMetadata, parse_json(raw))
    document = documents.create_document(
        db(),
        upload.read(),
        metadata,
        services=services(),
        actor=current_actor(),
    )
    return jsonify(document_to_dict(document)), 201


@bp.get("/documents")
@reads_only
def list_documents() -> Response:
    """The caller's unit's outgoing documents, newest first: one page, searched and
    filtered (``?q=&from=&to=&recipient=&state=draft|signed|issued&doc_type=``)."""
    found = documents.list_documents(db(), actor=current_actor(), filters=parse_query(ListQuery))
    return _page(found, document_to_dict)


@bp.get("/documents/<document_id>")
@reads_only
def get_document(document_id: str) -> Response:
    """One document with its signatures."""
    document = documents.get_document(db(), document_id, actor=current_actor())
    return jsonify(document_to_dict(document, exchange.deliveries_of(db(), document.id)))


@bp.get("/documents/<document_id>/file")
def document_file(document_id: str) -> Response:
    """The current PDF (with every signature applied so far)."""
    document = documents.get_document(db(), document_id, actor=current_actor())
    data = documents.document_pdf(document, services=services())
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{file_name(document)}"'
    return response


@bp.post("/documents/<document_id>/sign")
def sign_document(document_id: str) -> Response:
    """The caller's personal signature, with the PIN of their token."""
    document = documents.sign_document(
        db(), document_id, _pin(), services=services(), actor=current_actor()
    )
    return jsonify(document_to_dict(document))


@bp.post("/documents/<document_id>/issue")
def issue_document(document_id: str) -> Response:
    """Number the document and apply the organisation signature (unit token PIN)."""
    document = documents.issue_document(
        db(), document_id, _pin(), services=services(), actor=current_actor()
    )
    return jsonify(document_to_dict(document))


@bp.post("/signing-batches")
def sign_batch() -> Response:
    """Leader: sign many documents with one PIN entry ``{document_ids, pin}``; each
    document's result (a document that cannot be signed is reported, the rest signed)."""
    body = parse_body(SigningBatchBody)
    outcome = documents.sign_batch(
        db(), body.document_ids, body.pin, services=services(), actor=current_actor()
    )
    return jsonify(batch_to_dict(outcome))


@bp.post("/documents/<document_id>/submit")
def submit_document(document_id: str) -> Response:
    """Clerk or specialist: submit a draft to a leader of the unit, ``{signer, note}``."""
    body = parse_body(SubmitBody)
    document = documents.submit_document(
        db(), document_id, signer=body.signer, note=body.note, actor=current_actor()
    )
    return jsonify(document_to_dict(document))


@bp.post("/documents/<document_id>/return")
def return_document(document_id: str) -> Response:
    """Leader: send a draft back to its drafter, ``{reason}`` (required)."""
    reason = parse_body(ReasonBody).reason
    document = documents.return_document(db(), document_id, reason=reason, actor=current_actor())
    return jsonify(document_to_dict(document))


@bp.post("/documents/<document_id>/signing-sessions")
def open_signing_session(document_id: str) -> tuple[Response, int]:
    """Deferred signing, step 1: ``{certificate_chain: [PEM, ...]}`` -> the digest to sign."""
    opened = documents.open_signing_session(
        db(),
        document_id,
        parse_body(ChainBody).certificate_chain,
        services=services(),
        actor=current_actor(),
    )
    return jsonify(
        {
            "session_id": opened.session.id,
            "document_id": opened.session.document_id,
            "expires_at": opened.session.expires_at.isoformat(),
            "digest_algorithm": "sha256",
            "to_sign": base64.b64encode(opened.to_sign).decode(),
            "signature_format": opened.signature_format,
        }
    ), 201


@bp.post("/signing-sessions/<session_id>")
def complete_signing_session(session_id: str) -> Response:
    """Deferred signing, step 2: ``{signature: base64}`` -> the signed document."""
    document = documents.complete_signing_session(
        db(),
        session_id,
        parse_body(SignatureBody).signature,
        services=services(),
        actor=current_actor(),
    )
    return jsonify(document_to_dict(document))


@bp.post("/verify")
def verify() -> Response:
    """Verify every signature of an uploaded PDF (multipart ``file``): the report.

    With ``?sender=<unit code>``, signatures also need the mandate of that unit; with
    ``?at=<ISO 8601 with zone>``, the file is judged as at that moment.
    """
    upload = request.files.get("file")
    if upload is None:
        raise InvalidInput("missing_field", field="file")
    query = parse_query(VerifyQuery)
    report = verification.verify_document(upload.read(), services=services(), at=query.at)
    sender = query.sender
    if sender:
        directory.get_unit(db(), sender)
        report = verification.apply_mandate(db(), report, sender_code=sender)
    return jsonify(report_to_dict(report))


@bp.post("/documents/<document_id>/verify")
def verify_stored(document_id: str) -> Response:
    """Verify a document's current file for its sending unit; the report is kept with it."""
    report = verification.verify_stored_document(
        db(), document_id, services=services(), actor=current_actor()
    )
    return jsonify(report_to_dict(report))


@bp.get("/trust/anchors")
def list_anchors() -> Response:
    """Admins and auditors: the trusted certificates."""
    anchors = trust.list_anchors(keys=services().keys, actor=current_actor())
    return _items([asdict(a) for a in anchors])


@bp.post("/trust/anchors")
def add_anchor() -> tuple[Response, int]:
    """Admin: trust a CA certificate ``{certificate_pem}``."""
    anchor = trust.add_anchor(
        db(), parse_body(AnchorBody).certificate_pem, keys=services().keys, actor=current_actor()
    )
    return jsonify(asdict(anchor)), 201


@bp.delete("/trust/anchors/<fingerprint>")
def remove_anchor(fingerprint: str) -> tuple[str, int]:
    """Admin: stop trusting a certificate."""
    trust.remove_anchor(db(), fingerprint, keys=services().keys, actor=current_actor())
    return "", 204
