"""Exchange: send (transactional outbox), deliver (worker), receive, statuses.

Sending writes one delivery row per recipient in the same transaction as the send; the
document id (DESIGN.md §3) makes a second send a no-op that answers with the same rows.
A worker claims pending rows, urgent first (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
several workers share the work; SQLite serialises writers), hands each document over and
marks the row delivered in the same transaction as the inbox entry it makes: a crash at any
point leaves the row pending or fully delivered, never both or neither. The inbox entry is
unique per consignment id, so even a replay creates nothing.

On arrival every signature is verified (the verdict for identical bytes, trust and sender is
computed once and shared by every recipient of a fan-out), the report is stored with the
entry, and status 01 goes back to the sender. A document that fails verification still
arrives, flagged, so the clerk can return it (02) with a reason.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import requests
from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from docexchange.domain.accounts import Role
from docexchange.domain.documents import DOC_TYPES, DocumentState, Secrecy, format_number
from docexchange.domain.exchange import (
    RECIPIENT_MOVES,
    SENDER_MOVES,
    Status,
    check_move,
    follows,
    parse_status,
    urgency_rank,
)
from docexchange.domain.timeutil import VN_TZ, now_vn
from docexchange.envelopes import edxml
from docexchange.errors import (
    Conflict,
    Forbidden,
    Gone,
    InvalidInput,
    NotFound,
    invalid_field,
)
from docexchange.services import audit, directory, documents, verification
from docexchange.services.authz import Actor, require_role
from docexchange.services.container import Services
from docexchange.services.peers import Peer, PeerDirectory
from docexchange.storage.base import utcnow
from docexchange.storage.models import (
    Delivery,
    Document,
    InboxEntry,
    RevokedConsignment,
    StatusEvent,
    StatusOutbox,
    Unit,
    User,
    VerdictCache,
)

__all__ = [
    "MAX_ATTEMPTS",
    "OutboxItem",
    "Route",
    "WorkResult",
    "allowed_moves",
    "change_status",
    "deliver_pending",
    "deliveries_of",
    "delivery_package",
    "edxml_package",
    "entry_file",
    "exchange_overview",
    "forward_entry",
    "forward_targets",
    "forwarded_from",
    "get_inbox_entry",
    "list_inbox",
    "list_outbox",
    "receive_edxml",
    "revoke_document",
    "send_document",
]

logger = logging.getLogger(__name__)

#: Attempts before a delivery is marked failed (an admin may retry it).
MAX_ATTEMPTS = 8
_SYSTEM = "system"


def _new_id() -> str:
    return uuid.uuid4().hex


# --- send ---------------------------------------------------------------------------------


def send_document(
    session: Session,
    document_id: str,
    *,
    actor: Actor,
    recipients: object = None,
    replaces: object = None,
    services: Services | None = None,
) -> list[Delivery]:
    """Clerk: send an issued document to its recipients (or ``recipients`` given now).

    Selectors are expanded now and the resulting units recorded, one delivery each. Sending
    again answers with the deliveries of the first send and creates nothing. ``replaces``
    names an earlier document of the unit that this one replaces (edXML business type 3):
    each recipient's copy of it is marked replaced when this one arrives.

    :raises Forbidden: ``role_required`` (clerks only) or ``unit_forbidden``.
    :raises NotFound: ``document_not_found``.
    :raises InvalidInput: ``secret_document``, ``no_recipients``, bad selectors,
        ``replaced_document_invalid``.
    :raises Conflict: ``document_not_issued``.
    :raises Gone: ``document_revoked``.

    With ``services``, the document's signatures are verified first (once per file: the
    worker reuses the verdict) and the report kept with it: the fully-electronic ratio
    counts a sent document only with a valid personal and organisation signature.
    """
    require_role(actor, Role.CLERK)
    if services is not None:
        _verify_for_sending(session, document_id[:32], actor=actor, services=services)
    document = session.get(Document, document_id[:32], with_for_update=True)
    if document is None or document.sender_code != actor.unit_code:
        raise NotFound("document_not_found", id=document_id[:40])
    if document.secrecy != Secrecy.NONE.value:
        raise InvalidInput("secret_document")
    if document.state != DocumentState.ISSUED.value:
        raise Conflict("document_not_issued", id=document.id)
    if document.revoked_at is not None:
        raise Gone("document_revoked", id=document.id, reason=document.revoked_reason or "")
    existing = list(
        session.scalars(
            select(Delivery).where(Delivery.document_id == document.id).order_by(Delivery.id)
        )
    )
    if existing:
        return existing
    if replaces not in (None, ""):
        earlier = session.get(Document, str(replaces)[:32])
        if (
            earlier is None
            or earlier.id == document.id
            or earlier.sender_code != document.sender_code
            or earlier.sent_at is None
            or earlier.revoked_at is not None
        ):
            raise InvalidInput("replaced_document_invalid", id=str(replaces)[:40])
        document.replaces_id = earlier.id
    selectors = recipients if recipients is not None else document.recipients
    if not isinstance(selectors, list) or not selectors:
        raise InvalidInput("no_recipients")
    units = [
        u
        for u in directory.resolve_recipients(session, selectors)
        if u.code != document.sender_code
    ]
    if not units:
        raise InvalidInput("no_recipients")
    rows = _queue(
        session,
        units,
        from_code=document.sender_code,
        urgency=document.urgency,
        document_id=document.id,
    )
    document.sent_at, document.sent_by = rows[0].created_at, actor.username
    audit.record(
        session,
        actor=actor.username,
        action="document.send",
        target=document.id,
        details={
            "recipients": len(rows),
            "selectors": [str(s)[:80] for s in selectors][:50],
            "replaces": document.replaces_id,
        },
    )
    session.commit()
    return sorted(rows, key=lambda r: r.id)


def _verify_for_sending(
    session: Session, document_id: str, *, actor: Actor, services: Services
) -> None:
    """Keep a current verification report with an issued document of the actor's unit."""
    document = session.get(Document, document_id)
    if (
        document is None
        or document.sender_code != actor.unit_code
        or document.state != DocumentState.ISSUED.value
        or (
            document.verified_sha256 == document.current_sha256
            and document.verified_valid is not None
        )
    ):
        return
    sha256, sender = document.current_sha256, document.sender_code
    data = services.blobs.get(sha256)
    session.rollback()  # nothing held while the file is verified
    report = verdict_for(session, data=data, sender_code=sender, services=services)
    session.execute(
        update(Document)
        .where(Document.id == document_id, Document.current_sha256 == sha256)
        .values(
            verification=report,
            verified_sha256=sha256,
            verified_at=utcnow(),
            verified_valid=bool(report.get("valid")),
        )
    )
    session.commit()


def _queue(
    session: Session,
    units: Sequence[Unit],
    *,
    from_code: str,
    urgency: str,
    document_id: str | None = None,
    source_entry_id: str | None = None,
) -> list[Delivery]:
    """One pending delivery per unit, each with its own consignment id (the outbox)."""
    now = utcnow()
    rows = [
        Delivery(
            id=_new_id(),
            from_code=from_code,
            document_id=document_id,
            source_entry_id=source_entry_id,
            recipient_code=unit.code,
            consignment_id=str(uuid.uuid4()),
            urgency_rank=urgency_rank(urgency),
            state="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        for unit in units
    ]
    session.add_all(rows)
    return rows


def forward_entry(
    session: Session, entry_id: str, *, actor: Actor, recipients: object
) -> list[Delivery]:
    """Clerk: forward a received document to units under the actor's own (a district to its
    communes). The signed file travels unchanged and is verified again on arrival.

    Forwarding again to a unit that already has it creates nothing for that unit.

    :raises NotFound: ``delivery_not_found``.
    :raises Conflict: ``forward_not_accepted`` (accept it first).
    :raises Gone: ``document_revoked``; :raises Conflict: ``document_replaced``.
    :raises InvalidInput: ``no_recipients``, ``forward_outside_subtree``, bad selectors.
    """
    require_role(actor, Role.CLERK)
    entry = get_inbox_entry(session, entry_id, actor=actor, for_update=True)
    _check_not_frozen(entry)
    if entry.status_code not in _FORWARDABLE:
        raise Conflict("forward_not_accepted")
    if not isinstance(recipients, list) or not recipients:
        raise InvalidInput("no_recipients")
    below = set(directory.subtree_codes(session, entry.recipient_code)) - {entry.recipient_code}
    units = directory.resolve_recipients(session, recipients)
    for unit in units:
        if unit.code not in below:
            raise InvalidInput("forward_outside_subtree", code=unit.code)
    done = set(
        session.scalars(select(Delivery.recipient_code).where(Delivery.source_entry_id == entry.id))
    )
    rows = _queue(
        session,
        [u for u in units if u.code not in done],
        from_code=entry.recipient_code,
        urgency=entry.urgency,
        source_entry_id=entry.id,
    )
    audit.record(
        session,
        actor=actor.username,
        action="delivery.forward",
        target=entry.id,
        details={"recipients": [r.recipient_code for r in rows][:50], "count": len(rows)},
    )
    session.commit()
    return list(
        session.scalars(
            select(Delivery)
            .where(Delivery.source_entry_id == entry.id)
            .order_by(Delivery.recipient_code)
        )
    )


def deliveries_of(session: Session, document_id: str) -> Sequence[Delivery]:
    """The deliveries of a sent document (none before it is sent), by recipient."""
    return session.scalars(
        select(Delivery)
        .where(Delivery.document_id == document_id)
        .order_by(Delivery.recipient_code)
    ).all()


_PRIORITY = {"normal": 0, "khan": 1, "thuong_khan": 2, "hoa_toc": 3}
_URGENCY_OF_PRIORITY = {priority: urgency for urgency, priority in _PRIORITY.items()}


def _organ(unit: Unit) -> edxml.Organ:
    return edxml.Organ(organ_id=unit.code, name=unit.name, in_charge=unit.name)


def edxml_package(session: Session, document_id: str, *, services: Services, actor: Actor) -> bytes:
    """The edXML package of an issued document: its metadata and the signed PDF, addressed
    to the units it was sent to (or, before sending, to its recipients as they expand now).

    :raises NotFound: ``document_not_found``.
    :raises Conflict: ``document_not_issued``.
    """
    document = documents.get_document(session, document_id, actor=actor)
    if document.state != DocumentState.ISSUED.value:
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


def _organs(session: Session, codes: Sequence[str]) -> tuple[edxml.Organ, ...]:
    """How edXML names units: from the directory, or by code alone when not in it."""
    out = []
    for code in codes:
        unit = session.get(Unit, code)
        out.append(_organ(unit) if unit is not None else edxml.Organ(organ_id=code))
    return tuple(out)


def _pdf_attachment(data: bytes, number: str, notation: str) -> edxml.Attachment:
    return edxml.Attachment(
        content_id="cid:1",
        name=f"{number}-{notation}.pdf".replace("/", "-"),
        content_type="application/pdf",
        data=data,
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
    if document.state != DocumentState.ISSUED.value or document.number is None:
        raise Conflict("document_not_issued", id=document.id)
    personal = next((s for s in document.signatures if s.kind == "personal"), None)
    signer = (
        session.scalar(select(User).where(User.username == personal.signer)) if personal else None
    )
    notation = document.notation or ""
    number = format_number(document.number)
    issued = document.issued_at.astimezone(VN_TZ).date() if document.issued_at else None
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
                reason=f"Thay thế văn bản {_number(earlier)}",
                replaced=((earlier.document_id or earlier.id, tuple(codes)),),
            )
    attachments: tuple[edxml.Attachment, ...] = ()
    if business.doc_type != 1:
        data = documents.document_pdf(document, services=services)
        attachments = (_pdf_attachment(data, number, notation),)
    return edxml.DocumentPackage(
        sender=_organs(session, [document.sender_code])[0],
        recipients=_organs(session, codes),
        document_id=ref,
        code_number=number,
        code_notation=notation,
        place="",
        promulgation_date=issued,
        type_code=1 if document.doc_type == "CV" else 2,
        type_name=DOC_TYPES.get(document.doc_type, document.doc_type),
        subject=document.subject,
        signer_competence="",
        signer_position=signer.position if signer else "",
        signer_name=signer.full_name if signer else "",
        priority=_PRIORITY.get(document.urgency, 0),
        due_date=document.due_date,
        business=business,
        attachments=attachments,
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
    number, _, notation = (entry.number or "").partition("/")
    if business is None:
        business = edxml.Business(
            document_id=entry.document_ref,
            reason="Chuyển tiếp văn bản điện tử",
            paper=entry.paper_copy,
        )
    attachments: tuple[edxml.Attachment, ...] = ()
    if business.doc_type != 1:
        attachments = (_pdf_attachment(services.blobs.get(entry.pdf_sha256), number, notation),)
    return edxml.DocumentPackage(
        sender=_organs(session, [entry.sender_code])[0],
        recipients=_organs(session, codes),
        document_id=entry.document_ref,
        code_number=number,
        code_notation=notation,
        place="",
        promulgation_date=None,
        type_code=1 if entry.doc_type == "CV" else 2,
        type_name=DOC_TYPES.get(entry.doc_type, entry.doc_type),
        subject=entry.subject,
        signer_competence="",
        signer_position="",
        signer_name="",
        priority=_PRIORITY.get(entry.urgency, 0),
        business=business,
        attachments=attachments,
        trace=(
            (entry.sender_code, entry.received_at.astimezone(VN_TZ).strftime(edxml.MOMENT_FORMAT)),
            (entry.recipient_code, now_vn().strftime(edxml.MOMENT_FORMAT)),
        ),
    )


# --- deliver ------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkResult:
    """What one pass of the worker did."""

    delivered: int
    retried: int
    failed: int

    def __add__(self, other: WorkResult) -> WorkResult:
        return WorkResult(
            self.delivered + other.delivered,
            self.retried + other.retried,
            self.failed + other.failed,
        )


def _trust_key(services: Services) -> str:
    digest = hashlib.sha256()
    for root in sorted(c.dump() for c in services.keys.trust_roots()):
        digest.update(hashlib.sha256(root).digest())
    return digest.hexdigest()


def _verdict_key(sha256: str, trust: str, issuer_code: str, mandate: bool) -> tuple[str, str, str]:
    # Without the mandate the issuer plays no part in the verdict: one entry for all.
    return (sha256, trust, issuer_code if mandate else "~")


def verdict_for(
    session: Session, *, data: bytes, sender_code: str, services: Services, mandate: bool = True
) -> dict[str, Any]:
    """The report for ``data`` from ``sender_code`` under today's trust: computed once.

    ``mandate=False`` for documents from peer servers: who leads a unit there is known
    there, not here (the certificates must still chain to our trusted roots).
    Runs in its own short transactions (the caller holds none).
    """
    key = _verdict_key(hashlib.sha256(data).hexdigest(), _trust_key(services), sender_code, mandate)
    cached = session.get(VerdictCache, key)
    if cached is not None:
        return cached.report
    session.rollback()  # no transaction open while the worker verifies
    report = _report(session, data, sender_code, services=services, mandate=mandate)
    try:
        session.add(
            VerdictCache(content_sha256=key[0], trust_key=key[1], sender_code=key[2], report=report)
        )
        session.commit()
    except IntegrityError:  # another worker stored it first: same inputs, same verdict
        session.rollback()
    return report


def _report(
    session: Session, data: bytes, sender_code: str, *, services: Services, mandate: bool
) -> dict[str, Any]:
    """Verify ``data`` (and the sender's mandate) in the caller's transaction."""
    checked = verification.verify_document(data, services=services)
    if mandate:
        checked = verification.apply_mandate(session, checked, sender_code=sender_code)
    return checked.as_dict()


@dataclass(frozen=True)
class _Source:
    """What a delivery hands over: a document issued here, or a received one forwarded."""

    sha256: str
    issuer_code: str
    #: The issuer is a unit of this server, so its leaders' mandate is checked here too.
    mandate: bool
    document_ref: str
    document_id: str | None
    replaces_id: str | None
    subject: str
    doc_type: str
    number: str | None
    urgency: str
    paper_copy: bool
    forwarded_by: str | None


def _source_of(session: Session, delivery: Delivery) -> _Source:
    if delivery.document_id is not None:
        document = session.get(Document, delivery.document_id)
        if document is None:  # impossible with the foreign key; never deliver blindly
            raise NotFound("document_not_found", id=delivery.document_id)
        return _Source(
            sha256=document.current_sha256,
            issuer_code=document.sender_code,
            mandate=True,
            document_ref=document.document_id or document.id,
            document_id=document.id,
            replaces_id=document.replaces_id,
            subject=document.subject,
            doc_type=document.doc_type,
            number=_number(document),
            urgency=document.urgency,
            paper_copy=document.paper_copy,
            forwarded_by=None,
        )
    entry = session.get(InboxEntry, delivery.source_entry_id)
    if entry is None:  # impossible with the foreign key
        raise NotFound("delivery_not_found", id=delivery.id)
    return _Source(
        sha256=entry.pdf_sha256,
        issuer_code=entry.sender_code,
        mandate=entry.source_document_id is not None,
        document_ref=entry.document_ref,
        document_id=entry.source_document_id,
        replaces_id=None,
        subject=entry.subject,
        doc_type=entry.doc_type,
        number=entry.number,
        urgency=entry.urgency,
        paper_copy=entry.paper_copy,
        forwarded_by=entry.recipient_code,
    )


def _due(limit: int) -> Select[Delivery]:
    return (
        select(Delivery)
        .where(Delivery.state == "pending", Delivery.next_attempt_at <= utcnow())
        .order_by(Delivery.urgency_rank, Delivery.created_at)
        .limit(limit)
    )


def _due_sources(session: Session, limit: int, peers: PeerDirectory) -> list[_Source]:
    """What deliveries due to units served here hand over (peers verify for themselves)."""
    sources: dict[tuple[str | None, str | None], _Source] = {}
    for delivery in session.scalars(_due(limit)):
        key = (delivery.document_id, delivery.source_entry_id)
        if key not in sources and peers.for_code(delivery.recipient_code) is None:
            sources[key] = _source_of(session, delivery)
    return list(sources.values())


def _number(document: Document) -> str | None:
    if document.number is None:
        return None
    return f"{format_number(document.number)}/{document.notation}"


def _arrive(session: Session, delivery: Delivery, source: _Source, report: dict[str, Any]) -> None:
    """Make the recipient's inbox entry (status 01) and report 01 back to the sender.

    A replacement marks the recipient's copy of the document it replaces.
    """
    now = utcnow()
    entry = InboxEntry(
        id=_new_id(),
        consignment_id=delivery.consignment_id,
        recipient_code=delivery.recipient_code,
        sender_code=source.issuer_code,
        document_ref=source.document_ref,
        source_document_id=source.document_id,
        forwarded_by=source.forwarded_by,
        subject=source.subject,
        doc_type=source.doc_type,
        number=source.number,
        urgency=source.urgency,
        urgency_rank=delivery.urgency_rank,
        paper_copy=source.paper_copy,
        pdf_sha256=source.sha256,
        verification=report,
        verified_valid=bool(report.get("valid")),
        status_code=Status.ARRIVED.value,
        received_at=now,
    )
    session.add(entry)
    session.add(
        StatusEvent(inbox_entry_id=entry.id, code=Status.ARRIVED.value, actor=_SYSTEM, at=now)
    )
    if source.replaces_id is not None:
        _mark_replaced(
            session,
            select(InboxEntry).where(
                InboxEntry.recipient_code == entry.recipient_code,
                InboxEntry.source_document_id == source.replaces_id,
            ),
            entry,
        )
    delivery.state, delivery.delivered_at = "delivered", now
    delivery.status_code, delivery.status_at = Status.ARRIVED.value, now


def _mark_replaced(session: Session, earlier: Select[InboxEntry], entry: InboxEntry) -> None:
    for old in session.scalars(earlier.where(InboxEntry.replaced_by.is_(None))):
        if old.id != entry.id:
            old.replaced_by = entry.id
            audit.record(
                session,
                actor=_SYSTEM,
                action="delivery.replaced",
                target=old.id,
                details={"by": entry.id, "document": entry.document_ref},
            )


def deliver_pending(services: Services, *, batch: int = 200) -> WorkResult:
    """One pass of a delivery worker: deliver up to ``batch`` pending deliveries.

    Verdicts are computed before any row is claimed, so no lock is held while a PDF is
    verified; the claimed rows are delivered in one transaction.
    """
    sqlite = services.settings.is_sqlite
    remote = _deliver_remote(services, batch) + _send_statuses(services, batch)
    with services.sessions() as session:
        for due in _due_sources(session, batch, services.peers):
            verdict_for(
                session,
                data=services.blobs.get(due.sha256),
                sender_code=due.issuer_code,
                services=services,
                mandate=due.mandate,
            )
        session.rollback()
        query = _due(batch)
        if not sqlite:
            query = query.with_for_update(skip_locked=True)
        claimed = [
            d for d in session.scalars(query) if not services.peers.for_code(d.recipient_code)
        ]
        if not claimed:
            session.rollback()
            return remote
        ids = [d.id for d in claimed]
        try:
            trust = _trust_key(services)
            sources: dict[tuple[str | None, str | None], _Source] = {}
            for delivery in claimed:
                key = (delivery.document_id, delivery.source_entry_id)
                source = sources.get(key)
                if source is None:
                    source = sources[key] = _source_of(session, delivery)
                cached = session.get(
                    VerdictCache,
                    _verdict_key(source.sha256, trust, source.issuer_code, source.mandate),
                )
                if cached is None:  # trust changed meanwhile: verify now, under the claim
                    report = _report(
                        session,
                        services.blobs.get(source.sha256),
                        source.issuer_code,
                        services=services,
                        mandate=source.mandate,
                    )
                else:
                    report = cached.report
                _arrive(session, delivery, source, report)
            session.commit()
            return remote + WorkResult(len(ids), 0, 0)
        except Exception as exc:
            session.rollback()
            logger.exception("delivery batch failed; will retry")
            return remote + _back_off(session, ids, repr(exc)[:500])


def _post(peer: Peer, data: bytes, consignment_id: str, *, timeout: float) -> dict[str, Any]:
    """POST an edXML message to a peer; its JSON answer, or an exception."""
    response = requests.post(
        f"{peer.url}/api/v1/exchange/edxml",
        data=data,
        headers={
            "Authorization": f"Bearer {peer.outbound_token}",
            "Content-Type": "application/xml",
            "X-Consignment-Id": consignment_id,
        },
        timeout=timeout,
    )
    if response.status_code != 200:
        raise RuntimeError(
            f"peer {peer.name} answered {response.status_code}: {response.text[:200]}"
        )
    answer = response.json()
    if not isinstance(answer, dict):
        raise RuntimeError(f"peer {peer.name} answered {str(answer)[:200]}")
    return answer


def _deliver_remote(services: Services, limit: int) -> WorkResult:
    """Hand pending deliveries for units served by peers over.

    No transaction (and no lock) is held during the HTTP call: two workers may post the same
    delivery at once, which is harmless, because the same consignment id travels on every
    attempt and the peer answers a repeat with its first receipt. The row is then marked
    delivered if it still is pending.
    """
    if not services.peers.peers:
        return WorkResult(0, 0, 0)
    result = WorkResult(0, 0, 0)
    with services.sessions() as session:
        rows = session.execute(
            select(Delivery.id, Delivery.recipient_code)
            .where(Delivery.state == "pending", Delivery.next_attempt_at <= utcnow())
            .order_by(Delivery.urgency_rank, Delivery.created_at)
            .limit(limit * 4)
        ).all()
        session.rollback()
        for delivery_id, code in rows:
            peer = services.peers.for_code(code)
            if peer is None:
                continue
            try:
                delivery = session.get(Delivery, delivery_id)
                if delivery is None or delivery.state != "pending":
                    session.rollback()
                    continue
                consignment = delivery.consignment_id
                package = delivery_package(session, delivery_id, services=services)
                session.rollback()  # nothing held while the peer answers
                receipt = _post(
                    peer, package, consignment, timeout=services.settings.peer_timeout_seconds
                )
            except Exception as exc:
                session.rollback()
                logger.warning("delivery %s to peer %s failed: %s", delivery_id, peer.name, exc)
                result += _back_off(session, [delivery_id], repr(exc)[:500])
                continue
            delivery = session.get(
                Delivery, delivery_id, with_for_update=True, populate_existing=True
            )
            if delivery is not None and delivery.state == "pending":
                now = utcnow()
                delivery.state, delivery.delivered_at = "delivered", now
                if delivery.status_code is None:  # a status may have come back already
                    receipt_code = str(receipt.get("status_code") or Status.ARRIVED.value)
                    delivery.status_code, delivery.status_at = receipt_code[:2], now
                result += WorkResult(1, 0, 0)
            session.commit()
    return result


def _outbox_message(session: Session, row: StatusOutbox) -> bytes | None:
    """What a status-outbox row sends: its prepared message, or a status built now."""
    if row.message is not None:
        return row.message
    entry = session.get(InboxEntry, row.inbox_entry_id) if row.inbox_entry_id else None
    if entry is None:
        return None
    recipient = session.get(Unit, entry.recipient_code)
    return edxml.build_status(
        edxml.StatusMessage(
            sender=_organ(recipient) if recipient else edxml.Organ(entry.recipient_code),
            response_organ_id=entry.sender_code,
            response_code=entry.number or "",
            response_date=None,
            response_document_id=entry.document_ref,
            status_code=row.code,
            description=row.description,
            timestamp=now_vn().replace(tzinfo=None),
            staff=row.staff,
        )
    )


def _send_statuses(services: Services, limit: int) -> WorkResult:
    """Report pending status changes of documents that came from peers, in order.

    Per consignment the oldest pending status goes first; a later one waits until it has
    gone, so the sender never sees 04 before 03. No transaction is held during the call.
    """
    if not services.peers.peers:
        return WorkResult(0, 0, 0)
    sent = retried = 0
    blocked: set[str] = set()
    now = utcnow()
    with services.sessions() as session:
        rows = session.scalars(
            select(StatusOutbox)
            .where(StatusOutbox.state == "pending")
            .order_by(StatusOutbox.id)
            .limit(limit * 4)
        ).all()
        work = []
        for row in rows:
            if row.consignment_id in blocked or row.next_attempt_at > now:
                blocked.add(row.consignment_id)
                continue
            blocked.add(row.consignment_id)  # one per consignment and pass
            work.append((row.id, row.peer, row.consignment_id, _outbox_message(session, row)))
        session.rollback()  # nothing held while peers answer
        for row_id, peer_name, consignment, message in work:
            peer = services.peers.by_name(peer_name)
            error = None
            try:
                if peer is None or message is None:
                    raise RuntimeError(f"peer {peer_name} is no longer configured")
                _post(peer, message, consignment, timeout=services.settings.peer_timeout_seconds)
            except Exception as exc:
                logger.warning("status to peer %s failed: %s", peer_name, exc)
                error = repr(exc)[:500]
            pending = session.get(StatusOutbox, row_id, with_for_update=True)
            if pending is not None and pending.state == "pending":
                if error is None:
                    pending.state = "sent"
                    sent += 1
                else:
                    pending.attempts += 1
                    pending.last_error = error
                    pending.next_attempt_at = utcnow() + timedelta(
                        seconds=2 ** min(pending.attempts, 10)
                    )
                    retried += 1
            session.commit()
    return WorkResult(sent, retried, 0)


def _served_here(session: Session, code: str, *, services: Services) -> bool:
    """Whether ``code`` is a unit of this server (in the directory, no peer serves it)."""
    return services.peers.for_code(code) is None and session.get(Unit, code) is not None


def _check_sender(
    session: Session, message: edxml.DocumentPackage, peer: Peer, *, services: Services
) -> None:
    """A peer speaks only for the units it serves: the issuer of what it sends or, for a
    document it forwards, the unit that forwarded it last (the trace's last hop); and never
    for a unit of this server.

    :raises Forbidden: ``peer_not_authorised_for_sender``.
    """
    issuer = message.sender.organ_id
    last_hop = message.trace[-1][0] if message.trace else ""
    speaker = last_hop if last_hop not in ("", issuer) else issuer
    ours = _served_here(session, issuer, services=services)
    if ours or not peer.serves_code(speaker):
        refused = issuer if ours else speaker
        raise Forbidden("peer_not_authorised_for_sender", code=refused[:20], peer=peer.name)


def receive_edxml(
    session: Session, data: bytes, *, consignment_id: str, peer: Peer, services: Services
) -> dict[str, Any]:
    """A peer delivers a document (new, or replacing an earlier one), withdraws one, or
    reports a status of one we sent.

    Documents: the PDF is verified here, the entry made with status 01 (answered as the
    receipt); a consignment seen before gets its first receipt and creates nothing.
    A revocation (``X-Consignment-Id`` = the delivery withdrawn) freezes the entry and
    whatever was forwarded from it; one that comes before its document is remembered, and
    the document, should it come later, creates nothing.

    :raises InvalidInput: ``edxml_refused`` / ``edxml_too_large``, ``recipient_not_here``,
        ``edxml_unsupported``.
    :raises NotFound: ``delivery_not_found`` (a status about nothing we sent to that peer).
    :raises Conflict: ``status_move_not_allowed`` (a status going backwards).
    """
    consignment = consignment_id.strip()[:36]
    if not consignment:
        raise invalid_field("X-Consignment-Id", "reason_non_empty")
    message = edxml.parse_package(data)
    problems = edxml.validate(data)
    if problems:
        raise InvalidInput("edxml_invalid", reason=problems[0][:200])
    if isinstance(message, edxml.StatusMessage):
        return _receive_status(session, message, consignment, peer, services=services)
    _check_sender(session, message, peer, services=services)
    if message.business.doc_type == 1:
        return _receive_revocation(session, message, consignment, peer, services=services)
    existing = session.scalar(select(InboxEntry).where(InboxEntry.consignment_id == consignment))
    if existing is not None:
        return {"status_code": Status.ARRIVED.value, "delivery_id": existing.id, "repeat": True}
    withdrawn = session.get(RevokedConsignment, consignment)
    if withdrawn is not None and withdrawn.source_peer == peer.name:
        return {"status_code": None, "delivery_id": None, "repeat": False, "revoked": True}
    if message.business.doc_type not in (0, 3):
        raise InvalidInput(
            "edxml_unsupported", what=f"BussinessDocType {message.business.doc_type}"
        )
    here = [
        o.organ_id
        for o in message.recipients
        if _served_here(session, o.organ_id, services=services)
    ]
    pdfs = [a for a in message.attachments if a.content_type == "application/pdf"]
    if len(here) != 1:
        raise InvalidInput(
            "recipient_not_here", codes=", ".join(o.organ_id for o in message.recipients)[:200]
        )
    if not pdfs:
        raise InvalidInput("edxml_unsupported", what="no PDF attachment")
    pdf = pdfs[0].data
    replayed = session.scalar(
        select(InboxEntry).where(
            InboxEntry.recipient_code == here[0],
            InboxEntry.document_ref == message.document_id[:80],
            InboxEntry.pdf_sha256 == hashlib.sha256(pdf).hexdigest(),
        )
    )
    if replayed is not None:  # the same document again under another consignment id
        return {"status_code": Status.ARRIVED.value, "delivery_id": replayed.id, "repeat": True}
    digest = services.blobs.put(pdf)
    report = verdict_for(
        session, data=pdf, sender_code=message.sender.organ_id, services=services, mandate=False
    )
    urgency = _URGENCY_OF_PRIORITY.get(message.priority, "normal")
    last_hop = message.trace[-1][0] if message.trace else ""
    now = utcnow()
    entry = InboxEntry(
        id=_new_id(),
        consignment_id=consignment,
        recipient_code=here[0],
        sender_code=message.sender.organ_id[:13],
        document_ref=message.document_id[:80],
        source_peer=peer.name,
        forwarded_by=last_hop[:13] if last_hop not in ("", message.sender.organ_id) else None,
        subject=message.subject[:500],
        doc_type=next((k for k, v in DOC_TYPES.items() if v == message.type_name), "CV"),
        number=f"{message.code_number}/{message.code_notation}"[:40],
        urgency=urgency,
        urgency_rank=urgency_rank(urgency),
        paper_copy=message.business.paper,
        pdf_sha256=digest,
        verification=report,
        verified_valid=bool(report.get("valid")),
        status_code=Status.ARRIVED.value,
        received_at=now,
    )
    session.add(entry)
    session.add(
        StatusEvent(
            inbox_entry_id=entry.id, code=Status.ARRIVED.value, actor=f"peer:{peer.name}", at=now
        )
    )
    if message.business.doc_type == 3:
        replaced = [
            ref[:80]
            for ref, organs in message.business.replaced
            if not organs or entry.recipient_code in organs
        ]
        _mark_replaced(
            session,
            select(InboxEntry).where(
                InboxEntry.recipient_code == entry.recipient_code,
                InboxEntry.source_peer == peer.name,
                InboxEntry.document_ref.in_(replaced),
            ),
            entry,
        )
    try:
        session.commit()
    except IntegrityError:  # the same consignment, delivered twice at once: the first wins
        session.rollback()
        first = session.scalar(select(InboxEntry).where(InboxEntry.consignment_id == consignment))
        if first is None:
            raise
        return {"status_code": Status.ARRIVED.value, "delivery_id": first.id, "repeat": True}
    return {"status_code": Status.ARRIVED.value, "delivery_id": entry.id, "repeat": False}


def _receive_status(
    session: Session,
    message: edxml.StatusMessage,
    consignment: str,
    peer: Peer,
    *,
    services: Services,
) -> dict[str, Any]:
    status = parse_status(message.status_code)
    delivery = session.scalar(
        select(Delivery).where(Delivery.consignment_id == consignment).with_for_update()
    )
    if delivery is None and status in SENDER_MOVES:  # the sender asks for its document back
        return _receive_request(session, message, status, consignment, peer)
    if delivery is None or services.peers.for_code(delivery.recipient_code) != peer:
        raise NotFound("delivery_not_found", id=consignment)
    current = Status(delivery.status_code) if delivery.status_code else None
    if not follows(current, status):
        raise Conflict("status_move_not_allowed", current=current or "", new=status.value)
    delivery.status_code, delivery.status_at = status.value, utcnow()
    audit.record(
        session,
        actor=f"peer:{peer.name}",
        action="delivery.status",
        target=delivery.id,
        details={"code": status.value, "description": message.description[:200]},
    )
    session.commit()
    return {"status_code": status.value}


def _receive_request(
    session: Session,
    message: edxml.StatusMessage,
    status: Status,
    consignment: str,
    peer: Peer,
) -> dict[str, Any]:
    entry = session.scalar(
        select(InboxEntry).where(InboxEntry.consignment_id == consignment).with_for_update()
    )
    if entry is None or entry.source_peer != peer.name:
        raise NotFound("delivery_not_found", id=consignment)
    _check_not_frozen(entry)
    current = Status(entry.status_code)
    entry.status_code = check_move(current, status).value
    entry.status_before_take_back = current.value
    note = message.description.strip()[:1000] or None
    actor = f"peer:{peer.name}"
    session.add(
        StatusEvent(
            inbox_entry_id=entry.id, code=status.value, reason=note, actor=actor, at=utcnow()
        )
    )
    audit.record(
        session,
        actor=actor,
        action="delivery.status",
        target=entry.id,
        details={"code": status.value, "reason": note},
    )
    session.commit()
    return {"status_code": status.value, "delivery_id": entry.id}


def _receive_revocation(
    session: Session,
    message: edxml.DocumentPackage,
    consignment: str,
    peer: Peer,
    *,
    services: Services,
) -> dict[str, Any]:
    reason = message.business.reason.strip()[:1000] or "—"
    entry = session.scalar(
        select(InboxEntry).where(InboxEntry.consignment_id == consignment).with_for_update()
    )
    if entry is not None and entry.source_peer != peer.name:
        raise NotFound("delivery_not_found", id=consignment)
    now = utcnow()
    if session.get(RevokedConsignment, consignment) is None:
        session.add(
            RevokedConsignment(
                consignment_id=consignment, source_peer=peer.name, reason=reason, revoked_at=now
            )
        )
    if entry is not None and entry.revoked_at is None:
        _freeze(session, entry, reason, actor=f"peer:{peer.name}", now=now, services=services)
    try:
        session.commit()
    except IntegrityError:  # the same notice twice at once: the first did it
        session.rollback()
    return {"revoked": True, "delivery_id": entry.id if entry is not None else None}


# --- revocation ---------------------------------------------------------------------------


def revoke_document(
    session: Session, document_id: str, *, actor: Actor, reason: object, services: Services
) -> Document:
    """Clerk: withdraw a sent document (edXML business type 1, ND 30 Điều 18.4.b).

    The sender's copy is frozen and never sent again; deliveries not yet made are stopped;
    every recipient's copy here is frozen, its file no longer served (metadata and trail
    kept), and so is whatever the recipients forwarded from it; peers get a revocation
    notice through the status outbox. Revoking again changes nothing.

    :raises NotFound: ``document_not_found``.
    :raises InvalidInput: ``invalid_field`` (a reason is required).
    :raises Conflict: ``document_not_sent``.
    """
    require_role(actor, Role.CLERK)
    document = session.get(Document, document_id[:32], with_for_update=True)
    if document is None or document.sender_code != actor.unit_code:
        raise NotFound("document_not_found", id=document_id[:40])
    note = reason.strip()[:1000] if isinstance(reason, str) and reason.strip() else None
    if note is None:
        raise invalid_field("reason", "reason_required_for_revocation")
    if document.sent_at is None:
        raise Conflict("document_not_sent", id=document.id)
    if document.revoked_at is not None:
        return document
    now = utcnow()
    document.revoked_at, document.revoked_by, document.revoked_reason = now, actor.username, note
    deliveries = session.scalars(
        select(Delivery).where(Delivery.document_id == document.id).with_for_update()
    ).all()
    _revoke_deliveries(session, deliveries, note, actor=actor.username, now=now, services=services)
    audit.record(
        session,
        actor=actor.username,
        action="document.revoke",
        target=document.id,
        details={"reason": note[:200], "deliveries": len(deliveries)},
    )
    session.commit()
    return document


def _revoke_deliveries(
    session: Session,
    deliveries: Sequence[Delivery],
    reason: str,
    *,
    actor: str,
    now: datetime,
    services: Services,
) -> None:
    """Stop what has not gone, freeze what arrived here, tell peers about the rest."""
    for delivery in deliveries:
        if delivery.state == "revoked":
            continue
        delivery.state = "revoked"
        peer = services.peers.for_code(delivery.recipient_code)
        if peer is not None:  # told even if never delivered: a post may be on its way
            notice = delivery_package(
                session,
                delivery.id,
                services=services,
                business=edxml.Business(doc_type=1, reason=reason, staff=actor),
            )
            session.add(
                StatusOutbox(
                    peer=peer.name,
                    consignment_id=delivery.consignment_id,
                    inbox_entry_id=None,
                    code="",
                    message=notice,
                    state="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
            continue
        entry = session.scalar(
            select(InboxEntry)
            .where(InboxEntry.consignment_id == delivery.consignment_id)
            .with_for_update()
        )
        if entry is not None and entry.revoked_at is None:
            _freeze(session, entry, reason, actor=actor, now=now, services=services)


def _freeze(
    session: Session,
    entry: InboxEntry,
    reason: str,
    *,
    actor: str,
    now: datetime,
    services: Services,
) -> None:
    """A recipient's copy withdrawn: no more moves, file not served; forwards follow."""
    entry.revoked_at, entry.revoked_reason = now, reason
    audit.record(
        session,
        actor=actor,
        action="delivery.revoked",
        target=entry.id,
        details={"reason": reason[:200], "document": entry.document_ref},
    )
    forwarded = session.scalars(
        select(Delivery).where(Delivery.source_entry_id == entry.id).with_for_update()
    ).all()
    _revoke_deliveries(session, forwarded, reason, actor=actor, now=now, services=services)


def _back_off(session: Session, ids: Sequence[str], error: str) -> WorkResult:
    retried = failed = 0
    now = utcnow()
    for delivery in session.scalars(select(Delivery).where(Delivery.id.in_(ids))):
        if delivery.state != "pending":
            continue
        delivery.attempts += 1
        delivery.last_error = error
        if delivery.attempts >= MAX_ATTEMPTS:
            delivery.state = "failed"
            failed += 1
        else:
            delivery.next_attempt_at = now + timedelta(seconds=2**delivery.attempts)
            retried += 1
    session.commit()
    return WorkResult(0, retried, failed)


@dataclass(frozen=True)
class Route:
    """Where deliveries go (this server, or one peer) and how they are doing."""

    name: str  # "" for this server
    url: str
    serves: tuple[str, ...]
    pending: int
    failed: int
    statuses_pending: int
    last_error: str | None


def exchange_overview(
    session: Session, peers: PeerDirectory, *, actor: Actor
) -> tuple[list[Route], Sequence[Delivery]]:
    """Admins and auditors: each route's queue (this server, each peer) and the failed
    deliveries, newest first (an admin may queue them again)."""
    require_role(actor, Role.ADMIN, Role.AUDITOR)
    counts: dict[str, dict[str, int]] = {}
    for code, state, count in session.execute(
        select(Delivery.recipient_code, Delivery.state, func.count())
        .where(Delivery.state.in_(("pending", "failed")))
        .group_by(Delivery.recipient_code, Delivery.state)
    ):
        peer = peers.for_code(code)
        queue = counts.setdefault(peer.name if peer else "", {"pending": 0, "failed": 0})
        queue[state] += count
    statuses = dict(
        session.execute(
            select(StatusOutbox.peer, func.count())
            .where(StatusOutbox.state == "pending")
            .group_by(StatusOutbox.peer)
        ).all()
    )
    failed = session.scalars(
        select(Delivery)
        .where(Delivery.state == "failed")
        .order_by(Delivery.created_at.desc())
        .limit(200)
    ).all()
    last_errors: dict[str, str | None] = {}
    for delivery in failed:
        peer = peers.for_code(delivery.recipient_code)
        last_errors.setdefault(peer.name if peer else "", delivery.last_error)

    def route(name: str, url: str = "", serves: tuple[str, ...] = ()) -> Route:
        queued = counts.get(name, {})
        return Route(
            name=name,
            url=url,
            serves=serves,
            pending=queued.get("pending", 0),
            failed=queued.get("failed", 0),
            statuses_pending=int(statuses.get(name, 0)),
            last_error=last_errors.get(name),
        )

    return [route(""), *(route(p.name, p.url, p.serves) for p in peers.peers)], failed


def retry_failed(session: Session, delivery_id: str, *, actor: Actor) -> Delivery:
    """Admin: put a failed delivery back in the queue (same consignment id)."""
    require_role(actor, Role.ADMIN)
    delivery = session.get(Delivery, delivery_id[:32], with_for_update=True)
    if delivery is None:
        raise NotFound("delivery_not_found", id=delivery_id[:40])
    if delivery.state != "failed":
        raise Conflict("delivery_not_failed", id=delivery.id)
    delivery.state, delivery.attempts, delivery.next_attempt_at = "pending", 0, utcnow()
    audit.record(session, actor=actor.username, action="delivery.retry", target=delivery.id)
    session.commit()
    return delivery


# --- inbox, outbox, statuses --------------------------------------------------------------


def list_inbox(
    session: Session, *, actor: Actor, status: str | None = None
) -> Sequence[InboxEntry]:
    """What arrived for the actor's unit: urgent first, newest first."""
    query = select(InboxEntry).where(InboxEntry.recipient_code == actor.unit_code)
    if status:
        query = query.where(InboxEntry.status_code == parse_status(status).value)
    return session.scalars(
        query.order_by(InboxEntry.urgency_rank, InboxEntry.received_at.desc()).limit(500)
    ).all()


@dataclass(frozen=True)
class OutboxItem:
    """One recipient of something the unit sent (its own document, or one it forwarded)."""

    delivery: Delivery
    subject: str
    number: str | None
    document_ref: str | None
    urgency: str
    #: The sender's document row (its own documents), or the inbox entry it forwarded.
    document_id: str | None
    forwarded_entry_id: str | None
    #: The report on the file that went (kept with the document, or with the entry).
    verification: dict[str, Any] | None = None


def list_outbox(session: Session, *, actor: Actor, status: str | None = None) -> list[OutboxItem]:
    """What the actor's unit sent or forwarded: every recipient's delivery and status."""
    query = (
        select(Delivery, Document, InboxEntry)
        .outerjoin(Document, Document.id == Delivery.document_id)
        .outerjoin(InboxEntry, InboxEntry.id == Delivery.source_entry_id)
        .where(Delivery.from_code == actor.unit_code)
    )
    if status:
        query = query.where(Delivery.status_code == parse_status(status).value)
    rows = session.execute(
        query.order_by(Delivery.created_at.desc(), Delivery.recipient_code).limit(2000)
    ).all()
    items = []
    for delivery, document, entry in rows:
        if document is not None:
            items.append(
                OutboxItem(
                    delivery=delivery,
                    subject=document.subject,
                    number=_number(document),
                    document_ref=document.document_id,
                    urgency=document.urgency,
                    document_id=document.id,
                    forwarded_entry_id=None,
                    verification=document.verification
                    if document.verified_sha256 == document.current_sha256
                    else None,
                )
            )
        elif entry is not None:
            items.append(
                OutboxItem(
                    delivery=delivery,
                    subject=entry.subject,
                    number=entry.number,
                    document_ref=entry.document_ref,
                    urgency=entry.urgency,
                    document_id=None,
                    forwarded_entry_id=entry.id,
                    verification=entry.verification,
                )
            )
    return items


def forwarded_from(session: Session, entry: InboxEntry) -> Sequence[Delivery]:
    """Where the unit forwarded an entry to, by recipient."""
    return session.scalars(
        select(Delivery)
        .where(Delivery.source_entry_id == entry.id)
        .order_by(Delivery.recipient_code)
    ).all()


def get_inbox_entry(
    session: Session, entry_id: str, *, actor: Actor, for_update: bool = False
) -> InboxEntry:
    """An entry of the actor's unit's inbox.

    :raises NotFound: ``delivery_not_found`` (also for another unit's entries).
    """
    entry = session.get(InboxEntry, entry_id[:32], with_for_update=for_update)
    if entry is None or entry.recipient_code != actor.unit_code:
        raise NotFound("delivery_not_found", id=entry_id[:40])
    return entry


def entry_file(session: Session, entry_id: str, *, actor: Actor, services: Services) -> bytes:
    """The arrived PDF, unchanged; not served once the sender revoked it.

    :raises NotFound: ``delivery_not_found``; :raises Gone: ``document_revoked``.
    """
    entry = get_inbox_entry(session, entry_id, actor=actor)
    if entry.revoked_at is not None:
        raise Gone("document_revoked", id=entry.document_ref, reason=entry.revoked_reason or "")
    return services.blobs.get(entry.pdf_sha256)


#: Statuses at which the unit has taken the document in and may pass it on.
_FORWARDABLE = frozenset(
    {Status.ACCEPTED.value, Status.ASSIGNED.value, Status.PROCESSING.value, Status.DONE.value}
)


def forward_targets(session: Session, entry: InboxEntry, *, actor: Actor) -> list[Unit]:
    """The units the actor may forward an entry to now (its unit's children), or none."""
    if (
        not actor.has(Role.CLERK)
        or entry.recipient_code != actor.unit_code
        or entry.status_code not in _FORWARDABLE
        or entry.revoked_at is not None
        or entry.replaced_by is not None
    ):
        return []
    return directory.resolve_recipients(session, [f"children:{entry.recipient_code}"])


def _check_not_frozen(entry: InboxEntry) -> None:
    """:raises Gone: ``document_revoked``; :raises Conflict: ``document_replaced``."""
    if entry.revoked_at is not None:
        raise Gone("document_revoked", id=entry.document_ref, reason=entry.revoked_reason or "")
    if entry.replaced_by is not None:
        raise Conflict("document_replaced", id=entry.document_ref)


def status_history(session: Session, entry: InboxEntry) -> Sequence[StatusEvent]:
    """Every status change of an entry, oldest first."""
    return session.scalars(
        select(StatusEvent).where(StatusEvent.inbox_entry_id == entry.id).order_by(StatusEvent.id)
    ).all()


def _report_back(
    session: Session,
    entry: InboxEntry,
    code: Status,
    now: datetime,
    *,
    note: str | None = None,
    actor: str = "",
) -> None:
    """Tell the sender: on this server its delivery row; a peer gets a status message."""
    if entry.source_peer:
        session.add(
            StatusOutbox(
                peer=entry.source_peer,
                consignment_id=entry.consignment_id,
                inbox_entry_id=entry.id,
                code=code.value,
                description=note or "",
                staff=actor,
                state="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
        return
    delivery = session.scalar(
        select(Delivery).where(Delivery.consignment_id == entry.consignment_id).with_for_update()
    )
    if delivery is not None:
        delivery.status_code, delivery.status_at = code.value, now


#: The order in which the inbox page offers the recipient's moves.
_OFFERED = (
    Status.ACCEPTED,
    Status.RETURNED,
    Status.ASSIGNED,
    Status.PROCESSING,
    Status.DONE,
    Status.TAKE_BACK_AGREED,
    Status.TAKE_BACK_REFUSED,
)


def allowed_moves(entry: InboxEntry, actor: Actor) -> list[Status]:
    """What ``actor`` may do with an entry of its unit now (the same rules as
    :func:`change_status`, asked without changing anything)."""
    if entry.revoked_at is not None or entry.replaced_by is not None:
        return []
    before = Status(entry.status_before_take_back) if entry.status_before_take_back else None
    moves = []
    for code in _OFFERED:
        try:
            _check_recipient_role(entry, code, actor)
            check_move(Status(entry.status_code), code, before_take_back=before)
        except (Forbidden, Conflict):
            continue
        moves.append(code)
    return moves


def _check_recipient_role(entry: InboxEntry, code: Status, actor: Actor) -> None:
    if code in (Status.ASSIGNED,):
        require_role(actor, Role.SIGNER)
    elif code in (Status.PROCESSING, Status.DONE):
        if actor.username != entry.assignee and not actor.has(Role.SIGNER, Role.CLERK):
            raise Forbidden("role_required", roles=f"{Role.SIGNER.value}, {Role.CLERK.value}")
    else:
        require_role(actor, Role.CLERK)


def change_status(
    session: Session,
    item_id: str,
    code: object,
    *,
    actor: Actor,
    reason: object = None,
    assignee: object = None,
    peers: PeerDirectory | None = None,
) -> Status:
    """Move a delivery on: the recipient (02, 03, 04, 05, 06, 15, 16) or the sender (13).

    ``item_id`` is an inbox entry of the actor's unit, or a delivery the actor's unit sent.
    Returned documents need a reason; an assignment names a person of the receiving unit.
    A request to a recipient on a peer server (one of ``peers``) travels as a status message;
    its answer (15 or 16) comes back the same way.

    :raises NotFound: ``delivery_not_found``.
    :raises Conflict: ``status_move_not_allowed``.
    :raises InvalidInput: ``invalid_status_code``, ``invalid_field``.
    """
    status = parse_status(code)
    note = reason.strip()[:1000] if isinstance(reason, str) and reason.strip() else None
    now = utcnow()
    entry = session.get(InboxEntry, item_id[:32], with_for_update=True)
    if entry is not None and entry.recipient_code == actor.unit_code:
        _check_not_frozen(entry)
        if status not in RECIPIENT_MOVES:
            raise Conflict("status_move_not_allowed", current=entry.status_code, new=status.value)
        _check_recipient_role(entry, status, actor)
        if status is Status.RETURNED and note is None:
            raise invalid_field("reason", "reason_required_for_return")
        if status is Status.ASSIGNED:
            person = session.scalar(
                select(User).where(
                    User.username == str(assignee), User.unit_code == entry.recipient_code
                )
            )
            if person is None:
                raise invalid_field("assignee", "reason_person_of_unit", code=entry.recipient_code)
            entry.assignee = person.username
        before = Status(entry.status_before_take_back) if entry.status_before_take_back else None
        entry.status_code = check_move(
            Status(entry.status_code), status, before_take_back=before
        ).value
        if status in (Status.TAKE_BACK_AGREED, Status.TAKE_BACK_REFUSED):
            entry.status_before_take_back = None
    else:
        delivery = session.get(Delivery, item_id[:32], with_for_update=True)
        if delivery is None or delivery.from_code != actor.unit_code:
            raise NotFound("delivery_not_found", id=item_id[:40])
        if status not in SENDER_MOVES:
            raise Conflict(
                "status_move_not_allowed", current=delivery.status_code or "", new=status.value
            )
        require_role(actor, Role.CLERK)
        peer = peers.for_code(delivery.recipient_code) if peers is not None else None
        if peer is not None:
            return _ask_peer(session, delivery, status, peer, note=note, actor=actor, now=now)
        entry = session.scalar(
            select(InboxEntry)
            .where(InboxEntry.consignment_id == delivery.consignment_id)
            .with_for_update()
        )
        if entry is None:  # not arrived yet
            raise Conflict(
                "status_move_not_allowed", current=delivery.status_code or "", new=status.value
            )
        _check_not_frozen(entry)
        current = Status(entry.status_code)
        entry.status_code = check_move(current, status).value
        entry.status_before_take_back = current.value
    session.add(
        StatusEvent(
            inbox_entry_id=entry.id, code=status.value, reason=note, actor=actor.username, at=now
        )
    )
    _report_back(session, entry, status, now, note=note, actor=actor.username)
    audit.record(
        session,
        actor=actor.username,
        action="delivery.status",
        target=entry.id,
        details={"code": status.value, "reason": note},
    )
    session.commit()
    return status


def _ask_peer(
    session: Session,
    delivery: Delivery,
    status: Status,
    peer: Peer,
    *,
    note: str | None,
    actor: Actor,
    now: datetime,
) -> Status:
    """The sender's move (13) on a delivery a peer holds: recorded here, sent there."""
    current = Status(delivery.status_code) if delivery.status_code else None
    if delivery.state != "delivered" or current is None:
        raise Conflict(
            "status_move_not_allowed", current=delivery.status_code or "", new=status.value
        )
    check_move(current, status)
    source = _source_of(session, delivery)
    message = edxml.StatusMessage(
        sender=_organs(session, [delivery.from_code])[0],
        response_organ_id=source.issuer_code,
        response_code=source.number or "",
        response_date=None,
        response_document_id=source.document_ref,
        status_code=status.value,
        description=note or "",
        timestamp=now.astimezone(VN_TZ).replace(tzinfo=None),
        staff=actor.username,
    )
    session.add(
        StatusOutbox(
            peer=peer.name,
            consignment_id=delivery.consignment_id,
            inbox_entry_id=None,
            code=status.value,
            description=note or "",
            staff=actor.username,
            message=edxml.build_status(message),
            state="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )
    delivery.status_code, delivery.status_at = status.value, now
    audit.record(
        session,
        actor=actor.username,
        action="delivery.status",
        target=delivery.id,
        details={"code": status.value, "reason": note, "peer": peer.name},
    )
    session.commit()
    return status
