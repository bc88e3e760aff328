"""Request parsing and response shapes, kept apart from the ORM models."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import date
from typing import Any, TypeVar

from flask import request

from docexchange.domain.accounts import role_names
from docexchange.domain.documents import download_name, number_text
from docexchange.domain.edge import Input, parse_input
from docexchange.domain.json_input import parse_json
from docexchange.domain.search import Page, Paged
from docexchange.domain.timeutil import VN_TZ, today_vn
from docexchange.domain.units import parse_code
from docexchange.errors import DocExchangeError, InvalidInput
from docexchange.i18n import message_for
from docexchange.services import directory
from docexchange.services.authz import role_set
from docexchange.services.documents import BatchOutcome
from docexchange.services.exchange import OutboxItem
from docexchange.services.exchange.common import handling_of
from docexchange.services.registers import (
    IncomingRegister,
    IncomingRow,
    OutgoingRegister,
    OutgoingRow,
)
from docexchange.services.reports import Coverage, CoverageRow, RatioReport, UnitFigures
from docexchange.storage.models import (
    Delivery,
    Document,
    InboxEntry,
    PaperRecord,
    StatusEvent,
    Unit,
    UnitGroup,
    User,
)
from docexchange.web.errors import error_object
from pki.report import ValidationReport

M = TypeVar("M", bound=Input)

__all__ = [
    "batch_to_dict",
    "document_to_dict",
    "file_name",
    "group_to_dict",
    "inbox_entry_to_dict",
    "json_body",
    "outbox_item_to_dict",
    "parse_body",
    "parse_query",
    "report_to_dict",
    "status_event_to_dict",
    "unit_to_dict",
    "user_to_dict",
]


def parse_body(model: type[M]) -> M:
    """The request's JSON object as ``model`` (strict types, lengths, formats).

    :raises InvalidInput: ``invalid_json`` or a coded error naming the field.
    """
    return parse_input(model, json_body())


def parse_query(model: type[M]) -> M:
    """The request's query string as ``model``.

    :raises InvalidInput: a coded error naming the parameter.
    """
    return parse_input(model, request.args.to_dict())


def json_body() -> dict[str, Any]:
    """The request's JSON object.

    :raises InvalidInput: ``invalid_json`` when the body is not a JSON object.
    """
    data = parse_json(request.get_data(cache=True))
    if not isinstance(data, dict):
        raise InvalidInput("invalid_json")
    return data


def unit_to_dict(unit: Unit, *, detail: bool = False) -> dict[str, Any]:
    """A unit as the API shows it."""
    out = directory.unit_fields(unit)
    if detail:
        out["identifier"] = parse_code(unit.code).as_dict()
    return out


def user_to_dict(user: User) -> dict[str, Any]:
    """A user as the API shows it (never the password hash)."""
    return {
        "username": user.username,
        "full_name": user.full_name,
        "position": user.position,
        "unit_code": user.unit_code,
        "roles": role_names(role_set(user.role_names)),
        "active": user.active,
    }


def group_to_dict(group: UnitGroup) -> dict[str, Any]:
    """A recipient group with its members in order."""
    return {
        "name": group.name,
        "description": group.description,
        "members": [m.unit_code for m in group.members],
    }


def file_name(document: Document) -> str:
    """What a downloaded PDF is called: its number, notation and day of issue."""
    issued = document.issued_at.astimezone(VN_TZ).date() if document.issued_at else None
    return download_name(document.number, document.notation, issued, document.id)


def batch_to_dict(outcome: BatchOutcome) -> dict[str, Any]:
    """A signing batch's answer: the one certificate, and each document's result."""
    return {
        "certificate": {
            "subject": outcome.certificate_subject,
            "serial": outcome.certificate_serial,
            "sha256": outcome.certificate_sha256,
        },
        "signed": outcome.signed,
        "results": [
            {
                "document_id": item.document_id,
                "ok": item.ok,
                "error": None if item.error is None else error_object(item.error),
            }
            for item in outcome.items
        ],
    }


def document_to_dict(
    document: Document, deliveries: Sequence[Delivery] | None = None
) -> dict[str, Any]:
    """A document as the API shows it (DESIGN.md §6 ``GET /documents/<id>``).

    Once sent, ``recipients`` are the units it went to, each with its latest status.
    """
    return {
        "id": document.id,
        "state": document.state,
        "subject": document.subject,
        "doc_type": document.doc_type,
        "number": (number_text(document.number, document.notation)),
        "document_id": document.document_id,
        "sender_code": document.sender_code,
        "secrecy": document.secrecy,
        "urgency": document.urgency,
        "paper_copy": document.paper_copy,
        "drafting_unit": document.drafting_unit,
        "due_date": document.due_date.isoformat() if document.due_date else None,
        "pages": document.pages,
        "signature_page": document.signature_page,
        "sha256": document.current_sha256,
        "created_by": document.created_by,
        "created_at": document.created_at.isoformat(),
        "issued_at": document.issued_at.isoformat() if document.issued_at else None,
        "recipients": [
            {
                "code": d.recipient_code,
                "status_code": d.status_code,
                "delivery_id": d.id,
                "state": d.state,
            }
            for d in deliveries
        ]
        if deliveries
        else [{"code": r, "status_code": None} for r in document.recipients],
        "sent_at": document.sent_at.isoformat() if document.sent_at else None,
        "submitted": None
        if document.submitted_to is None
        else {
            "to": document.submitted_to,
            "by": document.submitted_by,
            "at": document.submitted_at.isoformat() if document.submitted_at else None,
            "note": document.submit_note,
        },
        "returned": None
        if document.returned_at is None
        else {
            "at": document.returned_at.isoformat(),
            "by": document.returned_by,
            "reason": document.returned_reason,
        },
        "replaces": document.replaces_id,
        "revoked": None
        if document.revoked_at is None
        else {
            "at": document.revoked_at.isoformat(),
            "by": document.revoked_by,
            "reason": document.revoked_reason,
        },
        "signatures": [
            {
                "kind": s.kind,
                "field": s.field_name,
                "signer": s.signer,
                "token_label": s.token_label,
                "certificate_subject": s.certificate_subject,
                "certificate_serial": s.certificate_serial,
                "signed_at": s.signed_at.isoformat(),
            }
            for s in document.signatures
        ],
        "verification": None
        if document.verification is None
        else {
            **_with_reasons(document.verification),
            "file_sha256": document.verified_sha256,
            "current": document.verified_sha256 == document.current_sha256,
            "verified_at": document.verified_at.isoformat() if document.verified_at else None,
        },
    }


def _reasons(codes: list[str]) -> list[dict[str, str]]:
    return [
        {
            "code": code,
            "message": message_for(DocExchangeError(code), "en"),
            "message_vi": message_for(DocExchangeError(code), "vi"),
        }
        for code in codes
    ]


def report_to_dict(report: ValidationReport) -> dict[str, Any]:
    """A ValidationReport with every reason code given in English and Vietnamese."""
    return _with_reasons(report.as_dict())


def _with_reasons(stored: dict[str, Any]) -> dict[str, Any]:
    """A report as stored (``as_dict()``, reasons as codes) with the reasons rendered."""
    out = {**stored, "messages": _reasons(stored.get("messages", []))}
    out["signatures"] = [
        {**signature, "messages": _reasons(signature.get("messages", []))}
        for signature in stored.get("signatures", [])
    ]
    return out


def _verdict_summary(report: dict[str, Any]) -> dict[str, Any]:
    """``{valid, indication}`` for lists: TOTAL_PASSED when valid, else the first problem."""
    return asdict(ValidationReport.from_dict(report).summary())


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def inbox_entry_to_dict(entry: InboxEntry, *, full: bool = False) -> dict[str, Any]:
    """An inbox item (DESIGN.md §6 ``GET /inbox``); ``full`` adds the whole report."""
    due, overdue = handling_of(entry, today_vn())
    out: dict[str, Any] = {
        "delivery_id": entry.id,
        "document_id": entry.document_ref,
        "number": entry.number,
        "subject": entry.subject,
        "doc_type": entry.doc_type,
        "sender_code": entry.sender_code,
        "recipient_code": entry.recipient_code,
        "urgency": entry.urgency,
        "paper_copy": entry.paper_copy,
        "received_at": entry.received_at.isoformat(),
        "status_code": entry.status_code,
        "assignee": entry.assignee,
        "incoming_number": entry.incoming_number,
        "incoming_year": entry.incoming_year,
        "due_date": _iso(entry.due_date),
        "instruction": entry.instruction,
        "handling_due": _iso(entry.handling_due),
        "deadline": _iso(due),
        "overdue": overdue,
        "sha256": entry.pdf_sha256,
        "verification": _verdict_summary(entry.verification),
        "forwarded_by": entry.forwarded_by,
        "revoked": None
        if entry.revoked_at is None
        else {"at": entry.revoked_at.isoformat(), "reason": entry.revoked_reason},
        "replaced_by": entry.replaced_by,
    }
    if full:
        out["verification"] = {**_with_reasons(entry.verification), **out["verification"]}
    return out


def outbox_item_to_dict(item: OutboxItem) -> dict[str, Any]:
    """An outbox item: one recipient of a sent (or forwarded) document and its status."""
    delivery = item.delivery
    return {
        "delivery_id": delivery.id,
        "document_id": item.document_ref,
        "number": item.number,
        "subject": item.subject,
        "sender_code": delivery.from_code,
        "recipient_code": delivery.recipient_code,
        "urgency": item.urgency,
        "verification": None if item.verification is None else _verdict_summary(item.verification),
        "forwarded": item.forwarded_entry_id is not None,
        "state": delivery.state,
        "attempts": delivery.attempts,
        "received_at": delivery.delivered_at.isoformat() if delivery.delivered_at else None,
        "status_code": delivery.status_code,
        "status_at": delivery.status_at.isoformat() if delivery.status_at else None,
    }


def delivery_to_dict(delivery: Delivery) -> dict[str, Any]:
    """A delivery as a send or a forward answers it."""
    return {
        "delivery_id": delivery.id,
        "recipient_code": delivery.recipient_code,
        "state": delivery.state,
        "status_code": delivery.status_code,
    }


def status_event_to_dict(event: StatusEvent) -> dict[str, Any]:
    """One status change: code, reason, who, when; an arrival, the unit it came through."""
    return {
        "code": event.code,
        "reason": event.reason,
        "actor": event.actor,
        "at": event.at.isoformat(),
        "via": event.via,
    }


def register_to_dict(register: IncomingRegister | OutgoingRegister, page: Page) -> dict[str, Any]:
    """A register: the unit, the year and one page of its lines in the register's order."""
    items: list[dict[str, Any]]
    shown = Paged.of(register.rows, page)
    if isinstance(register, IncomingRegister):
        items = [
            {
                "incoming_number": row.incoming_number,
                "arrived_on": row.arrived_on.isoformat(),
                "number": row.number,
                "issuer": row.issuer,
                "issuer_code": row.issuer_code,
                "document_date": row.document_date.isoformat() if row.document_date else None,
                "subject": row.subject,
                "assignee": row.assignee,
                "due_date": row.due_date.isoformat() if row.due_date else None,
                "status": row.status,
                "electronic": row.electronic,
                "delivery_id": row.inbox_id,
            }
            for row in shown.items
            if isinstance(row, IncomingRow)
        ]
    else:
        items = [
            {
                "number": row.number,
                "issued_on": row.issued_on.isoformat(),
                "doc_type": row.doc_type,
                "subject": row.subject,
                "signer": row.signer,
                "recipients": list(row.recipients),
                "secret": row.secret,
                "electronic": row.electronic,
                "id": row.document_id,
            }
            for row in shown.items
            if isinstance(row, OutgoingRow)
        ]
    return {
        "unit": {"code": register.unit_code, "name": register.unit_name},
        "year": register.year,
        "items": items,
        "total": shown.total,
        "page": page.number,
        "per_page": page.size,
    }


def paper_record_to_dict(record: PaperRecord) -> dict[str, Any]:
    """A paper-register entry."""
    return {
        "id": record.id,
        "unit_code": record.unit_code,
        "direction": record.direction,
        "date": record.day.isoformat(),
        "number": record.number,
        "subject": record.subject,
        "counterpart": record.counterpart,
        "secrecy": record.secrecy,
        "incoming_number": record.incoming_number,
        "incoming_year": record.incoming_year,
        "created_by": record.created_by,
        "created_at": record.created_at.isoformat(),
    }


def _figures_to_dict(item: UnitFigures) -> dict[str, Any]:
    c = item.counts
    return {
        "code": item.code,
        "name": item.name,
        "level": item.level,
        "sent": {
            "total": c.sent_total,
            "electronic": c.sent_electronic,
            "ratio": c.sent_ratio,
            "secret_excluded": c.secret_sent,
        },
        "received": {
            "total": c.received_total,
            "electronic": c.received_electronic,
            "ratio": c.received_ratio,
            "secret_excluded": c.secret_received,
        },
        "ratio": c.ratio,
        "secret_excluded": c.secret_excluded,
        "target": item.target,
        "below_target": item.below_target,
    }


def ratio_report_to_dict(report: RatioReport) -> dict[str, Any]:
    """DESIGN.md §6 ``GET /reports/electronic-ratio``: the unit's (or subtree's) figures and,
    for a subtree, each child unit's, ranked."""
    body = _figures_to_dict(report.unit)
    return {
        "unit": report.unit.code,
        "unit_name": report.unit.name,
        "unit_level": report.unit.level,
        "from": report.period.first.isoformat(),
        "to": report.period.last.isoformat(),
        "scope": report.scope.value,
        "rollup": report.rollup,
        **{k: v for k, v in body.items() if k not in ("code", "name", "level")},
        "children": [{**_figures_to_dict(child), "rank": child.rank} for child in report.children],
    }


def _coverage_row(row: CoverageRow) -> dict[str, Any]:
    return {
        "key": row.key,
        "name": row.name,
        "issued": {
            "total": row.issued,
            "personal_valid": row.issued_personal_valid,
            "organisation_valid": row.issued_organisation_valid,
            "both_valid": row.issued_both_valid,
        },
        "received": {
            "total": row.received,
            "personal_valid": row.received_personal_valid,
            "organisation_valid": row.received_organisation_valid,
            "both_valid": row.received_both_valid,
        },
    }


def coverage_to_dict(coverage: Coverage) -> dict[str, Any]:
    """DESIGN.md §6 ``GET /reports/signature-coverage``."""
    return {
        "units": [{**_coverage_row(r), "code": r.key} for r in coverage.units],
        "signers": [{**_coverage_row(r), "username": r.key} for r in coverage.signers],
        "failures": [
            {
                "source": f.source,
                "id": f.id,
                "unit_code": f.unit_code,
                "number": f.number,
                "subject": f.subject,
                "reasons": _reasons(list(f.reasons)),
            }
            for f in coverage.failures
        ],
        "expiring_certificates": [
            {
                "subject": c.subject,
                "serial": c.serial,
                "kind": c.kind,
                "owner": c.owner,
                "not_after": c.not_after.isoformat(),
            }
            for c in coverage.expiring
        ],
    }
