"""JSON API v1 (DESIGN.md §6): authentication, directory, groups, accounts."""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from flask import Blueprint, Response, g, jsonify, request

from docexchange.domain.accounts import role_names
from docexchange.domain.json_input import parse_json
from docexchange.domain.reports import Period, parse_period, parse_scope
from docexchange.domain.timeutil import today_vn, utcnow
from docexchange.errors import InvalidInput, invalid_field
from docexchange.services import (
    accounts,
    appearances,
    directory,
    documents,
    exchange,
    reports,
    tokens,
    trust,
    verification,
)
from docexchange.web.context import (
    current_actor,
    db,
    download,
    notify_worker,
    ratio_targets,
    services,
)
from docexchange.web.schemas import (
    coverage_to_dict,
    delivery_to_dict,
    document_to_dict,
    group_to_dict,
    inbox_entry_to_dict,
    json_body,
    outbox_item_to_dict,
    paper_record_to_dict,
    ratio_report_to_dict,
    report_to_dict,
    status_event_to_dict,
    unit_to_dict,
    user_to_dict,
)

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")
logger = logging.getLogger(__name__)

OPENAPI_PATH = Path(__file__).resolve().parents[3] / "schemas" / "openapi.yaml"


def _items(items: list[dict[str, Any]]) -> Response:
    return jsonify({"items": items})


# --- authentication ---------------------------------------------------------------------


@bp.post("/auth/login")
def login() -> Response:
    """Exchange a username and password for a bearer token."""
    body = json_body()
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not username:
        raise InvalidInput("missing_field", field="username")
    if not isinstance(password, str) or not password:
        raise InvalidInput("missing_field", field="password")
    svc = services()
    user = accounts.authenticate(
        db(), username, password, hasher=svc.hasher, channel="api", policy=svc.login_policy
    )
    issued = accounts.issue_token(db(), user, ttl_seconds=svc.settings.token_ttl_seconds)
    return jsonify(
        {
            "token": issued.token,
            "expires_at": issued.expires_at.isoformat(),
            "user": {
                "username": user.username,
                "full_name": user.full_name,
                "unit_code": user.unit_code,
                "roles": role_names(accounts.actor_for(user).roles),
            },
        }
    )


@bp.post("/auth/logout")
def logout() -> tuple[str, int]:
    """Revoke the token this request was made with."""
    accounts.revoke_token(db(), g.api_token, actor=current_actor())
    return "", 204


@bp.get("/me")
def me() -> Response:
    """Who the token belongs to."""
    user = accounts.get_user(db(), current_actor().username)
    return jsonify(user_to_dict(user))


# --- directory --------------------------------------------------------------------------


@bp.get("/units")
def list_units() -> Response:
    """Units, filtered by ``parent`` and ``level``; ``active=true`` keeps today's units."""
    active = request.args.get("active", "").lower() in {"1", "true", "yes"}
    units = directory.list_units(
        db(),
        parent=request.args.get("parent") or None,
        level=request.args.get("level") or None,
        active_on=today_vn() if active else None,
    )
    return _items([unit_to_dict(u) for u in units])


@bp.post("/units")
def create_unit() -> tuple[Response, int]:
    """Admin: add a unit."""
    unit = directory.create_unit(
        db(), directory.UnitInput.from_mapping(json_body()), actor=current_actor()
    )
    return jsonify(unit_to_dict(unit, detail=True)), 201


@bp.get("/units/<code>")
def get_unit(code: str) -> Response:
    """One unit, with its identifier code decomposed."""
    return jsonify(unit_to_dict(directory.get_unit(db(), code), detail=True))


@bp.patch("/units/<code>")
def update_unit(code: str) -> Response:
    """Admin: rename, move, close or link a successor."""
    unit = directory.update_unit(db(), code, json_body(), actor=current_actor())
    return jsonify(unit_to_dict(unit, detail=True))


_FORMATS = {"csv", "json"}


@bp.get("/units/export")
def export_units() -> Response:
    """The whole tree as ``?format=json`` (default) or ``csv``, parents first."""
    fmt = request.args.get("format", "json").lower()
    if fmt not in _FORMATS:
        raise InvalidInput("import_unsupported_format", format=fmt[:20])
    data = directory.render_export(directory.export_tree(db()), fmt)
    mimetype = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="units.{fmt}"'
    return response


def _import_payload() -> tuple[bytes, str]:
    upload = request.files.get("file")
    if upload is not None:
        data = upload.read()
        fmt = request.form.get("format") or Path(upload.filename or "").suffix.lstrip(".")
        return data, fmt.lower()
    mimetype = request.mimetype
    fmt = request.args.get("format") or {
        "application/json": "json",
        "text/csv": "csv",
    }.get(mimetype, mimetype or "none")
    return request.get_data(cache=False), fmt.lower()


@bp.post("/units/import")
def import_units() -> Response:
    """Admin: create or update a whole tree from CSV or JSON, all rows or none.

    Send a multipart ``file`` (format from ``format`` or the file name), or the file itself as
    the body with ``Content-Type: text/csv`` or ``application/json``.
    """
    data, fmt = _import_payload()
    result = directory.import_file(
        db(), data, fmt, max_rows=services().settings.max_import_rows, actor=current_actor()
    )
    return jsonify(
        {"created": result.created, "updated": result.updated, "unchanged": result.unchanged}
    )


@bp.get("/groups")
def list_groups() -> Response:
    """Named recipient groups."""
    return _items([group_to_dict(grp) for grp in directory.list_groups(db())])


@bp.post("/groups")
def create_group() -> tuple[Response, int]:
    """Admin: create a group ``{name, description, members:[codes]}``."""
    body = json_body()
    group = directory.create_group(
        db(),
        body.get("name"),
        body.get("members"),
        description=str(body.get("description") or ""),
        actor=current_actor(),
    )
    return jsonify(group_to_dict(group)), 201


@bp.get("/groups/<name>")
def get_group(name: str) -> Response:
    """One group."""
    return jsonify(group_to_dict(directory.get_group(db(), name)))


@bp.put("/groups/<name>")
def update_group(name: str) -> Response:
    """Admin: replace a group's members."""
    body = json_body()
    description = body.get("description")
    group = directory.update_group(
        db(),
        name,
        body.get("members"),
        description=str(description) if description is not None else None,
        actor=current_actor(),
    )
    return jsonify(group_to_dict(group))


@bp.delete("/groups/<name>")
def delete_group(name: str) -> tuple[str, int]:
    """Admin: delete a group."""
    directory.delete_group(db(), name, actor=current_actor())
    return "", 204


@bp.post("/recipients/resolve")
def resolve_recipients() -> Response:
    """Expand ``{recipients:[codes and selectors]}`` into the units they name today."""
    units = directory.resolve_recipients(db(), json_body().get("recipients") or [])
    return _items([unit_to_dict(u) for u in units])


# --- accounts ---------------------------------------------------------------------------


@bp.post("/users")
def create_user() -> tuple[Response, int]:
    """Admin: create an account."""
    new = accounts.NewUser.from_mapping(json_body())
    user = accounts.create_user(db(), new, hasher=services().hasher, actor=current_actor())
    return jsonify(user_to_dict(user)), 201


@bp.get("/users")
def list_users() -> Response:
    """Users of ``?unit=`` (default: the caller's unit), if the caller may see them."""
    actor = current_actor()
    unit = request.args.get("unit") or actor.unit_code
    users = accounts.list_users(db(), unit_code=unit, actor=actor)
    return _items([user_to_dict(u) for u in users])


@bp.put("/users/<username>/roles")
def set_roles(username: str) -> Response:
    """Admin: replace a user's roles ``{roles: [...]}``; the role history keeps the old ones."""
    user = accounts.set_roles(db(), username, json_body().get("roles"), actor=current_actor())
    return jsonify(user_to_dict(user))


@bp.post("/users/<username>/revoke-tokens")
def revoke_tokens(username: str) -> Response:
    """Admin: revoke every token of a user."""
    count = accounts.revoke_user_tokens(db(), username, actor=current_actor())
    return jsonify({"revoked": count})


# --- documents and tokens ---------------------------------------------------------------


def _pin() -> object:
    return json_body().get("pin")


@bp.post("/documents")
def create_document() -> tuple[Response, int]:
    """Upload a PDF (multipart ``file``) with its ``metadata`` (a JSON string)."""
    upload = request.files.get("file")
    if upload is None:
        raise InvalidInput("missing_field", field="file")
    raw = request.form.get("metadata")
    if raw is None:
        raise InvalidInput("missing_field", field="metadata")
    metadata = parse_json(raw)
    document = documents.create_document(
        db(),
        upload.read(),
        documents.DocumentInput.from_mapping(metadata),
        services=services(),
        actor=current_actor(),
    )
    return jsonify(document_to_dict(document)), 201


@bp.get("/documents")
def list_documents() -> Response:
    """The caller's unit's outgoing documents (``?state=draft|signed|issued``)."""
    found = documents.list_documents(db(), actor=current_actor(), state=request.args.get("state"))
    return _items([document_to_dict(d) for d in found])


@bp.get("/documents/<document_id>")
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
    response.headers["Content-Disposition"] = f'inline; filename="{document.id}.pdf"'
    return response


@bp.post("/documents/<document_id>/sign")
def sign_document(document_id: str) -> Response:
    """The caller's personal signature, with the PIN of their token."""
    document = documents.sign_document(
        db(), document_id, _pin(), services=services(), actor=current_actor()
    )
    return jsonify(document_to_dict(document))


@bp.post("/documents/<document_id>/send")
def send_document(document_id: str) -> tuple[Response, int]:
    """Clerk: send an issued document (its recorded recipients, or ``{recipients}``);
    ``{replaces}`` names an earlier document of the unit that this one replaces."""
    body = json_body() if request.get_data() else {}
    deliveries = exchange.send_document(
        db(),
        document_id,
        actor=current_actor(),
        recipients=body.get("recipients"),
        replaces=body.get("replaces"),
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
        reason=json_body().get("reason"),
        services=services(),
    )
    notify_worker()
    return jsonify(document_to_dict(document, exchange.deliveries_of(db(), document.id)))


@bp.post("/inbox/<entry_id>/forward")
def forward_entry(entry_id: str) -> tuple[Response, int]:
    """Clerk: forward an accepted document to units below, ``{recipients}`` (codes or
    selectors such as ``children:<code>``); the signed file travels unchanged."""
    deliveries = exchange.forward_entry(
        db(), entry_id, actor=current_actor(), recipients=json_body().get("recipients")
    )
    notify_worker()
    return jsonify({"deliveries": [delivery_to_dict(d) for d in deliveries]}), 202


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
def inbox() -> Response:
    """What arrived for the caller's unit (``?status=``), urgent first."""
    entries = exchange.list_inbox(db(), actor=current_actor(), status=request.args.get("status"))
    return _items([inbox_entry_to_dict(e) for e in entries])


@bp.get("/inbox/<entry_id>")
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
def outbox() -> Response:
    """What the caller's unit sent: each recipient's delivery and latest status."""
    rows = exchange.list_outbox(db(), actor=current_actor(), status=request.args.get("status"))
    return _items([outbox_item_to_dict(item) for item in rows])


@bp.post("/deliveries/<item_id>/status")
def delivery_status(item_id: str) -> Response:
    """Move a delivery on, ``{code, reason, assignee}``: recipient 02-06, 15, 16; sender 13."""
    body = json_body()
    code = exchange.change_status(
        db(),
        item_id,
        body.get("code"),
        actor=current_actor(),
        peers=services().peers,
        reason=body.get("reason", body.get("note")),
        assignee=body.get("assignee"),
    )
    return jsonify({"delivery_id": item_id, "status_code": code.value})


@bp.post("/deliveries/<delivery_id>/retry")
def retry_delivery(delivery_id: str) -> Response:
    """Admin: queue a failed delivery again (same consignment id)."""
    delivery = exchange.retry_failed(db(), delivery_id, actor=current_actor())
    notify_worker()
    return jsonify({"delivery_id": delivery.id, "state": delivery.state})


@bp.post("/paper-records")
def register_paper() -> tuple[Response, int]:
    """Clerk: a document the unit sent or received on paper (the ratio counts it)."""
    record = reports.register_paper(db(), json_body(), actor=current_actor())
    return jsonify(paper_record_to_dict(record)), 201


@bp.get("/paper-records")
def list_paper() -> Response:
    """The caller's unit's paper register (``?from=&to=`` or ``?period=``), newest first."""
    period = None
    if request.args.get("from") or request.args.get("to") or request.args.get("period"):
        period = _period()
    records = reports.list_paper(db(), actor=current_actor(), period=period)
    return _items([paper_record_to_dict(r) for r in records])


def _period() -> Period:
    args = request.args
    return parse_period(args.get("from"), args.get("to"), kind=args.get("period"), today=today_vn())


@bp.get("/reports/electronic-ratio")
def electronic_ratio() -> Response:
    """The fully-electronic ratio, ``?unit=&from=&to=`` (or ``&period=week|month|quarter|year``)
    ``&scope=self|subtree&rollup=1&format=json|csv|xlsx``."""
    args = request.args
    report = reports.electronic_ratio(
        db(),
        actor=current_actor(),
        unit=args.get("unit") or None,
        period=_period(),
        scope=parse_scope(args.get("scope")),
        rollup=args.get("rollup") in ("1", "true"),
        targets=ratio_targets(),
    )
    fmt = args.get("format", "json")
    if fmt == "json":
        return jsonify(ratio_report_to_dict(report))
    export = reports.render_ratio(report, fmt)
    return download(export)


@bp.get("/reports/signature-coverage")
def signature_coverage() -> Response:
    """Per unit and signer, documents issued and received with valid personal and
    organisation signatures; the failing ones with reasons; certificates expiring soon
    (``?unit=&from=&to=`` or ``&period=``, ``&scope=self|subtree``)."""
    args = request.args
    coverage = reports.signature_coverage(
        db(),
        actor=current_actor(),
        unit=args.get("unit") or None,
        period=_period(),
        scope=parse_scope(args.get("scope")),
        now=utcnow(),
    )
    return jsonify(coverage_to_dict(coverage))


@bp.post("/documents/<document_id>/issue")
def issue_document(document_id: str) -> Response:
    """Number the document and apply the organisation signature (unit token PIN)."""
    document = documents.issue_document(
        db(), document_id, _pin(), services=services(), actor=current_actor()
    )
    return jsonify(document_to_dict(document))


@bp.post("/documents/<document_id>/signing-sessions")
def open_signing_session(document_id: str) -> tuple[Response, int]:
    """Deferred signing, step 1: ``{certificate_chain: [PEM, ...]}`` -> the digest to sign."""
    opened = documents.open_signing_session(
        db(),
        document_id,
        json_body().get("certificate_chain"),
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
        json_body().get("signature"),
        services=services(),
        actor=current_actor(),
    )
    return jsonify(document_to_dict(document))


@bp.post("/users/<username>/token")
def provision_user_token(username: str) -> tuple[Response, int]:
    """Admin: a personal token with a key generated on it and a certificate from the CA."""
    body = json_body()
    made = tokens.provision_user_token(
        db(),
        username,
        body.get("pin"),
        keys=services().keys,
        actor=current_actor(),
        algorithm=body.get("algorithm"),
    )
    return jsonify({"token_label": made.label, "certificate_pem": made.certificate_pem}), 201


@bp.post("/units/<code>/token")
def provision_unit_token(code: str) -> tuple[Response, int]:
    """Admin: the unit's organisation token (digital seal)."""
    made = tokens.provision_unit_token(
        db(), code, _pin(), keys=services().keys, actor=current_actor()
    )
    return jsonify({"token_label": made.label, "certificate_pem": made.certificate_pem}), 201


def _image_body() -> bytes:
    upload = request.files.get("file")
    data = upload.read() if upload is not None else request.get_data(cache=False)
    if not data:
        raise InvalidInput("missing_field", field="file")
    return data


@bp.put("/users/<username>/signature-image")
def put_signature_image(username: str) -> Response:
    """Admin: the person's handwritten signature (transparent PNG, body or multipart file)."""
    digest = appearances.set_signature_image(
        db(), username, _image_body(), blobs=services().blobs, actor=current_actor()
    )
    return jsonify({"sha256": digest})


@bp.put("/units/<code>/seal-image")
def put_seal_image(code: str) -> Response:
    """Admin: the unit's seal (transparent PNG)."""
    digest = appearances.set_seal_image(
        db(), code, _image_body(), blobs=services().blobs, actor=current_actor()
    )
    return jsonify({"sha256": digest})


@bp.post("/tokens/<label>/unlock")
def unlock_token(label: str) -> tuple[str, int]:
    """Admin: clear a token's wrong-PIN lock."""
    tokens.unlock_token(db(), label, actor=current_actor())
    return "", 204


@bp.post("/verify")
def verify() -> Response:
    """Verify every signature of an uploaded PDF (multipart ``file``): the report.

    With ``?sender=<unit code>``, signatures also need the mandate of that unit; with
    ``?at=<ISO 8601 with zone>``, the file is judged as at that moment.
    """
    upload = request.files.get("file")
    if upload is None:
        raise InvalidInput("missing_field", field="file")
    at = None
    if request.args.get("at"):
        try:
            at = datetime.fromisoformat(request.args["at"])
        except ValueError:
            raise invalid_field("at", "reason_iso_datetime") from None
        if at.tzinfo is None:
            raise invalid_field("at", "reason_iso_datetime")
    report = verification.verify_document(upload.read(), services=services(), at=at)
    sender = request.args.get("sender")
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
        db(), json_body().get("certificate_pem"), keys=services().keys, actor=current_actor()
    )
    return jsonify(asdict(anchor)), 201


@bp.delete("/trust/anchors/<fingerprint>")
def remove_anchor(fingerprint: str) -> tuple[str, int]:
    """Admin: stop trusting a certificate."""
    trust.remove_anchor(db(), fingerprint, keys=services().keys, actor=current_actor())
    return "", 204


# --- contract ---------------------------------------------------------------------------


_openapi_cache: dict[str, Any] = {}


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI document of this API."""
    if "doc" not in _openapi_cache:
        _openapi_cache["doc"] = yaml.safe_load(OPENAPI_PATH.read_text(encoding="utf-8"))
    return Response(json.dumps(_openapi_cache["doc"]), mimetype="application/json")
