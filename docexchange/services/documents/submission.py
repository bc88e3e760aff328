"""Submission ("trình ký") and return ("trả lại"): a draft goes to one signer with a note, and
a signer sends a draft back to its drafter with a reason.

A draft nobody submitted may still be signed by any signer of the unit, as before; a draft
submitted to one signer waits in that signer's queue only, at the top.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import case, or_, select
from sqlalchemy.orm import Session

from docexchange.domain.accounts import Role
from docexchange.domain.documents import DocumentState, SignatureKind
from docexchange.domain.exchange import urgency_rank
from docexchange.errors import Conflict, Forbidden, invalid_field
from docexchange.services import audit
from docexchange.services.authz import Actor, require_role
from docexchange.services.documents.drafts import get_document
from docexchange.storage.base import utcnow
from docexchange.storage.models import Document, User, UserRole

__all__ = ["return_document", "signers_of", "signing_queue", "submit_document"]


def signers_of(session: Session, unit_code: str) -> Sequence[User]:
    """The active signers (leaders) of a unit, by name."""
    return session.scalars(
        select(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(User.unit_code == unit_code, User.active, UserRole.role == Role.SIGNER.value)
        .order_by(User.full_name)
    ).all()


def _draft_of_unit(session: Session, document_id: str, actor: Actor) -> Document:
    document = get_document(session, document_id, actor=actor)
    if document.sender_code != actor.unit_code:
        raise Forbidden("unit_forbidden", code=document.sender_code)
    if document.state != DocumentState.DRAFT:
        raise Conflict("document_not_a_draft", id=document.id, state=document.state)
    return document


def submit_document(
    session: Session, document_id: str, *, signer: str, note: str | None, actor: Actor
) -> Document:
    """Clerk or specialist: put a draft at the top of one signer's queue, with a note.

    :raises Forbidden: ``role_required``, ``unit_forbidden``.
    :raises NotFound: ``document_not_found``.
    :raises Conflict: ``document_not_a_draft``.
    :raises InvalidInput: ``invalid_field`` (``signer`` is not a signer of the unit).
    """
    require_role(actor, Role.CLERK, Role.SPECIALIST)
    document = _draft_of_unit(session, document_id, actor)
    if signer not in {u.username for u in signers_of(session, document.sender_code)}:
        raise invalid_field("signer", "reason_signer_of_unit", code=document.sender_code)
    now = utcnow()
    document.submitted_to, document.submitted_by, document.submitted_at = (
        signer,
        actor.username,
        now,
    )
    document.submit_note = note
    document.returned_reason = document.returned_by = document.returned_at = None
    audit.record(
        session,
        actor=actor.username,
        action="document.submit",
        target=document.id,
        details={"signer": signer, "note": (note or "")[:200]},
    )
    session.commit()
    return document


def return_document(
    session: Session, document_id: str, *, reason: str | None, actor: Actor
) -> Document:
    """Signer: send a draft back to its drafter, with the reason (it is a draft again, in
    nobody's queue, until it is submitted again).

    :raises Forbidden: ``role_required``, ``unit_forbidden``.
    :raises Conflict: ``document_not_a_draft``, ``document_submitted_to_another``.
    :raises InvalidInput: ``invalid_field`` (a reason is required).
    """
    require_role(actor, Role.SIGNER)
    document = _draft_of_unit(session, document_id, actor)
    if document.submitted_to not in (None, actor.username):
        raise Conflict("document_submitted_to_another", id=document.id)
    if not reason:
        raise invalid_field("reason", "reason_required_for_return")
    document.returned_reason, document.returned_by, document.returned_at = (
        reason,
        actor.username,
        utcnow(),
    )
    document.submitted_to = document.submitted_by = document.submitted_at = None
    document.submit_note = None
    audit.record(
        session,
        actor=actor.username,
        action="document.return",
        target=document.id,
        details={"reason": reason[:200], "drafter": document.created_by},
    )
    session.commit()
    return document


def signing_queue(session: Session, *, actor: Actor) -> Sequence[Document]:
    """What a signer has to sign: drafts submitted to them first, then drafts nobody
    submitted (not returned), each urgent first, then by deadline, then oldest first;
    documents the signer already signed are left out."""
    require_role(actor, Role.SIGNER)
    rank = case(
        *((Document.urgency == u, urgency_rank(u)) for u in ("hoa_toc", "thuong_khan", "khan")),
        else_=urgency_rank("normal"),
    )
    rows = session.scalars(
        select(Document)
        .where(
            Document.sender_code == actor.unit_code,
            Document.state == DocumentState.DRAFT,
            or_(
                Document.submitted_to == actor.username,
                Document.submitted_to.is_(None) & Document.returned_at.is_(None),
            ),
        )
        .order_by(
            case((Document.submitted_to == actor.username, 0), else_=1),
            rank,
            Document.due_date.is_(None),
            Document.due_date,
            Document.created_at,
        )
        .limit(500)
    ).all()
    return [
        d
        for d in rows
        if not any(
            s.kind == SignatureKind.PERSONAL and s.signer == actor.username for s in d.signatures
        )
    ]
