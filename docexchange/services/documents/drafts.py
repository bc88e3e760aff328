"""Drafts: an upload checked at the edge and in the PDF workers, stored; listing and reading."""

from __future__ import annotations

import logging
import secrets

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session

from docexchange.domain.accounts import Role
from docexchange.domain.documents import (
    DocumentState,
)
from docexchange.domain.inputs import DocumentMetadata, ListQuery
from docexchange.domain.search import Paged, like_pattern
from docexchange.errors import (
    InvalidInput,
    NotFound,
    invalid_field,
)
from docexchange.services import audit
from docexchange.services.authz import Actor, is_in_subtree, require_role
from docexchange.services.container import Services
from docexchange.services.listing import day_span, page_of, text_matches
from docexchange.storage.models import Delivery, Document
from pki.pdf import PdfRefused

logger = logging.getLogger(__name__)


#: Typed upload metadata, parsed at the edge (:class:`docexchange.domain.inputs.DocumentMetadata`).
DocumentInput = DocumentMetadata


def create_document(
    session: Session, pdf: bytes, metadata: DocumentInput, *, services: Services, actor: Actor
) -> Document:
    """Store an uploaded PDF as a draft of the actor's unit.

    :raises InvalidInput: ``pdf_not_pdf``, ``pdf_encrypted``, ``pdf_broken``,
        ``pdf_malformed`` or ``pdf_limits_exceeded``: the file is inspected in an isolated
        worker (:mod:`pki.isolation`), never in this process.
    """
    require_role(actor, Role.SPECIALIST, Role.CLERK, Role.SIGNER)
    try:
        info = services.verifier.inspect(pdf)
    except PdfRefused as exc:
        raise InvalidInput(f"pdf_{exc.reason}") from None
    if metadata.signature_page is not None and metadata.signature_page > info.pages:
        raise invalid_field("signature_page", "reason_page_number")
    digest = services.blobs.put(pdf)
    document = Document(
        id=secrets.token_hex(12),
        sender_code=actor.unit_code,
        created_by=actor.username,
        subject=metadata.subject,
        doc_type=metadata.doc_type,
        urgency=metadata.urgency.value,
        secrecy=metadata.secrecy.value,
        paper_copy=metadata.paper_copy,
        drafting_unit=metadata.drafting_unit,
        due_date=metadata.due_date,
        recipients=metadata.recipients,
        state=DocumentState.DRAFT,
        pages=info.pages,
        signature_page=metadata.signature_page,
        original_sha256=digest,
        current_sha256=digest,
    )
    session.add(document)
    session.flush()
    audit.record(
        session,
        actor=actor.username,
        action="document.create",
        target=document.id,
        details={"sha256": digest, "doc_type": metadata.doc_type, "pages": info.pages},
    )
    session.commit()
    return document


def get_document(session: Session, document_id: str, *, actor: Actor) -> Document:
    """A document the actor may see: its own unit's, or below an auditor's unit, or any for admins.

    :raises NotFound: ``document_not_found`` (also for documents the actor may not see).
    """
    document = session.get(Document, document_id) if len(document_id) <= 32 else None
    if document is None or not _visible(session, document, actor):
        raise NotFound("document_not_found", id=document_id[:40])
    return document


def _visible(session: Session, document: Document, actor: Actor) -> bool:
    if actor.has(Role.ADMIN) or document.sender_code == actor.unit_code:
        return True
    return actor.has(Role.AUDITOR) and is_in_subtree(session, document.sender_code, actor.unit_code)


def list_documents(session: Session, *, actor: Actor, filters: ListQuery) -> Paged[Document]:
    """One page of the outgoing documents of the actor's unit, newest first, as ``filters``
    narrow them: words (subject, number, type), the day issued (else uploaded), a
    recipient, state, type."""
    query = select(Document).where(
        Document.sender_code == actor.unit_code,
        *text_matches(session, filters.q, Document.search_text),
        *day_span(
            func.coalesce(Document.issued_at, Document.created_at), filters.first, filters.last
        ),
    )
    if filters.recipient is not None:
        sent_to = select(Delivery.id).where(
            Delivery.document_id == Document.id, Delivery.recipient_code == filters.recipient
        )
        named = cast(Document.recipients, String).like(
            like_pattern(f'"{filters.recipient}"'), escape="\\"
        )
        query = query.where(or_(sent_to.exists(), named))
    if filters.state is not None:
        query = query.where(Document.state == filters.state)
    if filters.doc_type is not None:
        query = query.where(Document.doc_type == filters.doc_type)
    return page_of(session, query.order_by(Document.created_at.desc(), Document.id), filters.paging)


def document_pdf(document: Document, *, services: Services) -> bytes:
    """The current PDF bytes of a document."""
    return services.blobs.get(document.current_sha256)
