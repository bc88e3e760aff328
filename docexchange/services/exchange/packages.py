"""edXML packages of what this server sends: its own documents and forwarded ones."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from docexchange.domain.documents import DOC_TYPES, DocumentState, SignatureKind
from docexchange.domain.timeutil import VN_TZ, now_vn
from docexchange.envelopes import edxml
from docexchange.errors import Conflict, NotFound
from docexchange.services import directory, documents
from docexchange.services.authz import Actor
from docexchange.services.container import Services
from docexchange.services.exchange.common import PRIORITY, number_of, organs
from docexchange.services.exchange.sending import deliveries_of
from docexchange.storage.models import (
    Delivery,
    Document,
    InboxEntry,
    User,
)

logger = logging.getLogger(__name__)


def edxml_package(session: Session, document_id: str, *, services: Services, actor: Actor) -> bytes:
    """The edXML package of an issued document: its metadata and the signed PDF, addressed
    to the units it was sent to (or, before sending, to its recipients as they expand now).

    :raises NotFound: ``document_not_found``.
    :raises Conflict: ``document_not_issued``.
    """
    document = documents.get_document(session, document_id, actor=actor)
    if document.state != DocumentState.ISSUED:
        raise Conflict("document_not_issued", id=document.id)
    sent = deliveries_of(session, document.id)
    if sent:
        codes = [d.recipient_code for d in sent]
    else:
        codes = [
            u.code
            for u in directory.resolve_recipients(session, document.recipients)
            if u.code != document.sender_code
        ]
    package = _document_package(session, document, codes, services=services)
    return edxml.build_document(package, now=now_vn())


def delivery_package(
    session: Session,
    delivery_id: str,
    *,
    services: Services,
    business: edxml.Business | None = None,
) -> bytes:
    """The edXML message of one delivery, addressed to its recipient alone: the document
    (or the forwarded file) with the PDF, or with ``business`` (a revocation) without it."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise NotFound("delivery_not_found", id=delivery_id[:40])
    codes = [delivery.recipient_code]
    if delivery.document_id is not None:
        document = session.get(Document, delivery.document_id)
        if document is None:  # impossible with the foreign key
            raise NotFound("document_not_found", id=delivery.document_id)
        package = _document_package(session, document, codes, services=services, business=business)
    else:
        entry = session.get(InboxEntry, delivery.source_entry_id)
        if entry is None:  # impossible with the foreign key
            raise NotFound("delivery_not_found", id=delivery.id)
        package = _entry_package(session, entry, codes, services=services, business=business)
    return edxml.build_document(package, now=now_vn())


def _package(
    session: Session,
    codes: Sequence[str],
    *,
    services: Services,
    business: edxml.Business,
    sender_code: str,
    document_ref: str,
    number: str | None,
    pdf_sha256: str,
    doc_type: str,
    subject: str,
    urgency: str,
    **details: Any,
) -> edxml.DocumentPackage:
    """The one construction of a package: the PDF attached unless ``business`` revokes."""
    code_number, _, code_notation = (number or "").partition("/")
    attachments: tuple[edxml.Attachment, ...] = ()
    if business.doc_type != 1:
        attachment = edxml.Attachment(
            content_id="cid:1",
            name=f"{code_number}-{code_notation}.pdf".replace("/", "-"),
            content_type="application/pdf",
            data=services.blobs.get(pdf_sha256),
        )
        attachments = (attachment,)
    return edxml.DocumentPackage(
        sender=organs(session, [sender_code])[0],
        recipients=organs(session, codes),
        document_id=document_ref,
        code_number=code_number,
        code_notation=code_notation,
        place="",
        type_code=1 if doc_type == "CV" else 2,
        type_name=DOC_TYPES.get(doc_type, doc_type),
        subject=subject,
        signer_competence="",
        priority=PRIORITY.get(urgency, 0),
        business=business,
        attachments=attachments,
        **details,
    )


def _document_package(
    session: Session,
    document: Document,
    codes: Sequence[str],
    *,
    services: Services,
    business: edxml.Business | None = None,
) -> edxml.DocumentPackage:
    """A document issued here, as edXML; with the PDF unless ``business`` is a revocation."""
    if document.state != DocumentState.ISSUED or document.number is None:
        raise Conflict("document_not_issued", id=document.id)
    personal = next((s for s in document.signatures if s.kind == SignatureKind.PERSONAL), None)
    signer = (
        session.scalar(select(User).where(User.username == personal.signer)) if personal else None
    )
    ref = document.document_id or document.id
    if business is None:
        business = edxml.Business(
            document_id=ref, paper=document.paper_copy, staff=document.sent_by or ""
        )
        earlier = session.get(Document, document.replaces_id) if document.replaces_id else None
        if earlier is not None:
            business = replace(
                business,
                doc_type=3,
                reason=f"Thay thế văn bản {number_of(earlier)}",
                replaced=((earlier.document_id or earlier.id, tuple(codes)),),
            )
    return _package(
        session,
        codes,
        services=services,
        business=business,
        sender_code=document.sender_code,
        document_ref=ref,
        number=number_of(document),
        pdf_sha256=document.current_sha256,
        doc_type=document.doc_type,
        subject=document.subject,
        urgency=document.urgency,
        promulgation_date=document.issued_at.astimezone(VN_TZ).date()
        if document.issued_at
        else None,
        signer_position=signer.position if signer else "",
        signer_name=signer.full_name if signer else "",
        due_date=document.due_date,
    )


def _entry_package(
    session: Session,
    entry: InboxEntry,
    codes: Sequence[str],
    *,
    services: Services,
    business: edxml.Business | None = None,
) -> edxml.DocumentPackage:
    """A received document forwarded on: the issuer stays the sender, the file is the one
    that arrived, and the trace names both the issuer and the unit that forwards it."""
    if business is None:
        business = edxml.Business(
            document_id=entry.document_ref,
            reason="Chuyển tiếp văn bản điện tử",
            paper=entry.paper_copy,
        )
    return _package(
        session,
        codes,
        services=services,
        business=business,
        sender_code=entry.sender_code,
        document_ref=entry.document_ref,
        number=entry.number,
        pdf_sha256=entry.pdf_sha256,
        doc_type=entry.doc_type,
        subject=entry.subject,
        urgency=entry.urgency,
        promulgation_date=None,
        signer_position="",
        signer_name="",
        trace=(
            (entry.sender_code, entry.received_at.astimezone(VN_TZ).strftime(edxml.MOMENT_FORMAT)),
            (entry.recipient_code, now_vn().strftime(edxml.MOMENT_FORMAT)),
        ),
    )
