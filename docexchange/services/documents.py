"""Outgoing documents: upload, personal signature, issue (number + organisation signature)."""

from __future__ import annotations

import base64
import binascii
import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from docexchange.domain.accounts import Role
from docexchange.domain.documents import (
    DocumentState,
    Secrecy,
    SignatureKind,
    SigningState,
    Urgency,
    check_doc_type,
    document_identifier,
    format_number,
    notation,
    series_for,
)
from docexchange.domain.timeutil import VN_TZ, now_vn, parse_date
from docexchange.domain.units import parse_selector
from docexchange.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    invalid_field,
)
from docexchange.services import audit, tokens
from docexchange.services.authz import Actor, is_in_subtree, require_role
from docexchange.services.container import Services
from docexchange.services.keys import unit_token_label, user_token_label
from docexchange.services.tokens import token_signer
from docexchange.storage.base import utcnow
from docexchange.storage.models import (
    Document,
    DocumentSignature,
    NumberCounter,
    SigningSession,
    Unit,
)
from pki import deferred
from pki.errors import SigningFailed
from pki.pdf import PdfRefused
from pki.signing import Appearance, Placement, sign_pdf
from pki.trust import CertificateProblem, validate_signing_certificate

__all__ = [
    "DocumentInput",
    "create_document",
    "get_document",
    "issue_document",
    "list_documents",
    "sign_document",
]

logger = logging.getLogger(__name__)


def _enum(enum: type[Urgency] | type[Secrecy], value: object, field: str) -> Any:
    try:
        return enum(str(value))
    except ValueError:
        raise invalid_field(
            field, "reason_one_of", values=", ".join(e.value for e in enum)
        ) from None


@dataclass(frozen=True)
class DocumentInput:
    """Validated upload metadata (DESIGN.md §6 ``POST /documents``)."""

    subject: str
    doc_type: str
    urgency: Urgency
    secrecy: Secrecy
    recipients: list[str]
    drafting_unit: str | None
    paper_copy: bool
    due_date: Any
    signature_page: int | None = None

    @classmethod
    def from_mapping(cls, data: object) -> DocumentInput:
        """:raises InvalidInput: for a missing or malformed field."""
        if not isinstance(data, Mapping):
            raise InvalidInput("invalid_json")
        subject = str(data.get("subject") or "").strip()
        if not subject:
            raise InvalidInput("missing_field", field="subject")
        if len(subject) > 500:
            raise invalid_field("subject", "reason_max_length", max_length=500)
        recipients = data.get("recipients") or []
        if not isinstance(recipients, list):
            raise invalid_field("recipients", "reason_non_empty_list")
        checked = [str(parse_selector(r)) for r in recipients]
        drafting = data.get("drafting_unit")
        drafting_unit = str(drafting).strip().upper() if drafting else None
        if drafting_unit is not None and not 1 <= len(drafting_unit) <= 20:
            raise invalid_field("drafting_unit", "reason_max_length", max_length=20)
        paper = data.get("paper_copy", False)
        if not isinstance(paper, bool):
            raise invalid_field("paper_copy", "reason_boolean")
        page = data.get("signature_page")
        if page is not None and (not isinstance(page, int) or isinstance(page, bool) or page < 1):
            raise invalid_field("signature_page", "reason_page_number")
        doc_type = check_doc_type(data.get("doc_type"))
        if doc_type == "CV" and not drafting_unit:
            raise InvalidInput("missing_field", field="drafting_unit")
        return cls(
            subject=subject,
            doc_type=doc_type,
            urgency=_enum(Urgency, data.get("urgency", "normal"), "urgency"),
            secrecy=_enum(Secrecy, data.get("secrecy", "none"), "secrecy"),
            recipients=checked,
            drafting_unit=drafting_unit,
            paper_copy=paper,
            due_date=parse_date(data.get("due_date"), field="due_date"),
            signature_page=page,
        )


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


def list_documents(
    session: Session, *, actor: Actor, state: str | None = None
) -> Sequence[Document]:
    """The outgoing documents of the actor's unit, newest first (``state`` filters)."""
    query = (
        select(Document)
        .where(Document.sender_code == actor.unit_code)
        .order_by(Document.created_at.desc())
    )
    if state:
        try:
            query = query.where(Document.state == DocumentState(state).value)
        except ValueError:
            raise invalid_field(
                "state", "reason_one_of", values=", ".join(s.value for s in DocumentState)
            ) from None
    return session.scalars(query.limit(500)).all()


def document_pdf(document: Document, *, services: Services) -> bytes:
    """The current PDF bytes of a document."""
    return services.blobs.get(document.current_sha256)


def _signed_bytes(
    session: Session,
    current: bytes,
    *,
    document_id: str,
    services: Services,
    actor: Actor,
    label: str,
    pin: object,
    field_name: str,
    reason: str,
    location: str,
    appearance: Appearance,
    placement: Placement,
) -> tuple[bytes, bytes]:
    """Sign ``current`` on the token ``label``; return (signed PDF, certificate DER)."""
    settings = services.settings
    with token_signer(
        session, label, pin, keys=services.keys, actor=actor, max_failures=settings.max_pin_failures
    ) as (signer, certificate_der):
        try:
            signed = sign_pdf(
                current,
                signer,
                field_name=field_name,
                reason=reason,
                location=location,
                timestamper=services.keys.timestamper() if settings.timestamp_signatures else None,
                appearance=appearance,
                placement=placement,
                # B-LT: with a time stamp, embed the revocation data as well.
                revocation_context=(
                    services.keys.revocation_context() if settings.timestamp_signatures else None
                ),
            )
        except SigningFailed:
            raise InvalidInput("signing_failed", id=document_id) from None
    return signed, certificate_der


def _record_signature(
    document: Document,
    *,
    services: Services,
    actor: Actor,
    label: str,
    kind: str,
    field_name: str,
    signed: bytes,
    certificate_der: bytes,
) -> DocumentSignature:
    digest = services.blobs.put(signed)
    certificate = asn1_x509.Certificate.load(certificate_der)
    signature = DocumentSignature(
        kind=kind,
        field_name=field_name,
        signer=actor.username,
        token_label=label,
        certificate_subject=certificate.subject.human_friendly[:500],
        certificate_serial=format(certificate.serial_number, "x"),
        signed_at=utcnow(),
        sha256_after=digest,
    )
    document.signatures.append(signature)
    document.current_sha256 = digest
    document.verified_valid = None  # the kept verdict was on an earlier revision
    return signature


def _field_name(document: Document, kind: SignatureKind) -> str:
    prefix = "CaNhan" if kind is SignatureKind.PERSONAL else "ToChuc"
    return f"{prefix}{len(document.signatures) + 1}"


#: NĐ 30/2020 Phụ lục I: the personal signature sits between position and name, the
#: organisation's to its left (with a seal image it overlaps about a third of the personal
#: one; a text-only stamp sits beside it so both stay legible). Last page, PDF points.
PERSONAL_BOX = Placement(page=-1, box=(360, 70, 565, 150))
SEAL_BOX = Placement(page=-1, box=(130, 70, 355, 150))
SEAL_OVER_SIGNATURE_BOX = Placement(page=-1, box=(290, 55, 430, 165))


def _on_page(placement: Placement, document: Document) -> Placement:
    """The placement on the page chosen at upload (pyHanko counts pages from 0)."""
    if document.signature_page is None:
        return placement
    return Placement(page=document.signature_page - 1, box=placement.box)


def _signature_image(actor: Actor, services: Services) -> bytes | None:
    digest = actor.signature_image_sha256
    return services.blobs.get(digest) if digest else None


def _personal_appearance(actor: Actor, image: bytes | None = None) -> Appearance:
    signed_at = now_vn().isoformat(timespec="seconds")
    return Appearance(
        lines=(actor.position, actor.full_name, f"Ký số: {signed_at}"),
        image_png=image,
        color=(0.0, 0.2, 0.7),
    )


def sign_document(
    session: Session, document_id: str, pin: object, *, services: Services, actor: Actor
) -> Document:
    """The competent person's signature, with the key on their own token.

    Three short steps, so no database transaction stays open while the token works:
    check and read; sign; re-check that nobody changed the document meanwhile and record.

    :raises Forbidden: not a signer of the sending unit.
    :raises Conflict: ``document_not_signable`` when the document is issued already,
        ``document_changed`` when another signature landed while this one was made.
    """
    require_role(actor, Role.SIGNER)
    label = user_token_label(actor.username)
    document = get_document(session, document_id, actor=actor)
    _check_signable(document, actor)
    earlier_failures = tokens.refuse_if_locked(session, label, actor=actor)
    seen = document.current_sha256
    field_name = _field_name(document, SignatureKind.PERSONAL)
    appearance = _personal_appearance(actor, _signature_image(actor, services))
    session.commit()  # end the read; nothing is held while the token signs

    signed, certificate_der = _signed_bytes(
        session,
        services.blobs.get(seen),
        document_id=document.id,
        services=services,
        actor=actor,
        label=label,
        pin=pin,
        field_name=field_name,
        reason="Ký duyệt",
        location=document.sender_code,
        appearance=appearance,
        placement=_on_page(PERSONAL_BOX, document),
    )

    # Every change to a document replaces its PDF, so an unchanged digest under the row lock
    # means the copy read before signing is still current.
    current = session.scalar(
        select(Document.current_sha256).where(Document.id == document.id).with_for_update()
    )
    if current != seen:
        raise Conflict("document_changed", id=document.id)
    signature = _record_signature(
        document,
        services=services,
        actor=actor,
        label=label,
        kind=SignatureKind.PERSONAL,
        field_name=field_name,
        signed=signed,
        certificate_der=certificate_der,
    )
    if earlier_failures:
        tokens.clear_failures(session, label)
    return _signed(session, document, signature, actor=actor)


def _signed(
    session: Session,
    document: Document,
    signature: DocumentSignature,
    *,
    actor: Actor,
    deferred_session: str | None = None,
) -> Document:
    """A personal signature is in: the document is signed, the audit log says by whom."""
    document.state = DocumentState.SIGNED
    details: dict[str, object] = {
        "field": signature.field_name,
        "serial": signature.certificate_serial,
        "sha256": signature.sha256_after,
    }
    if deferred_session:
        details["deferred"] = deferred_session
    audit.record(
        session, actor=actor.username, action="document.sign", target=document.id, details=details
    )
    session.commit()
    return document


def _check_signable(document: Document, actor: Actor) -> None:
    if document.sender_code != actor.unit_code:
        raise Forbidden("unit_forbidden", code=document.sender_code)
    if document.state == DocumentState.ISSUED:
        raise Conflict("document_not_signable", id=document.id, state=document.state)
    if any(
        s.kind == SignatureKind.PERSONAL and s.signer == actor.username for s in document.signatures
    ):
        raise Conflict("document_already_signed", id=document.id)


def _lock_document(session: Session, document_id: str, *, actor: Actor) -> Document:
    """Read the document afresh under a row lock (PostgreSQL), serialising its writers."""
    document = session.get(Document, document_id[:32], with_for_update=True, populate_existing=True)
    if document is None or not _visible(session, document, actor):
        raise NotFound("document_not_found", id=document_id[:40])
    return document


def _next_number(session: Session, unit_code: str, year: int, series: str) -> int:
    """Take the next number of a series atomically (row lock until commit)."""
    for _attempt in range(2):
        bumped = session.execute(
            update(NumberCounter)
            .where(
                NumberCounter.unit_code == unit_code,
                NumberCounter.year == year,
                NumberCounter.series == series,
            )
            .values(last_number=NumberCounter.last_number + 1)
            .returning(NumberCounter.last_number)
        ).scalar_one_or_none()
        if bumped is not None:
            return int(bumped)
        try:
            with session.begin_nested():
                session.execute(
                    insert(NumberCounter).values(
                        unit_code=unit_code, year=year, series=series, last_number=1
                    )
                )
            return 1
        except IntegrityError:
            continue  # another transaction created the counter first: bump it instead
    raise Conflict("numbering_busy", code=unit_code)


def issue_document(
    session: Session, document_id: str, pin: object, *, services: Services, actor: Actor
) -> Document:
    """Number the document and apply the unit's organisation signature, in one transaction.

    If signing fails the transaction rolls back and the number was never given out.

    :raises Forbidden: not a clerk of the sending unit.
    :raises Conflict: ``document_not_issuable`` without a personal signature, or issued already.
    """
    require_role(actor, Role.CLERK)
    document = get_document(session, document_id, actor=actor)
    label = unit_token_label(document.sender_code)
    earlier_failures = tokens.refuse_if_locked(session, label, actor=actor)
    # One transaction from here: the number is taken under a row lock and given back by the
    # rollback if signing fails. (On SQLite that transaction holds the database's single
    # write lock while the unit's token signs.)
    document = _lock_document(session, document_id, actor=actor)
    if document.sender_code != actor.unit_code:
        raise Forbidden("unit_forbidden", code=document.sender_code)
    if document.state != DocumentState.SIGNED:
        raise Conflict("document_not_issuable", id=document.id, state=document.state)
    unit = session.get(Unit, document.sender_code)
    assert unit is not None
    now = utcnow()
    today = now.astimezone(VN_TZ).date()
    series = series_for(document.doc_type, Secrecy(document.secrecy))
    number = _next_number(session, unit.code, today.year, series)
    notation_ = notation(document.doc_type, unit.abbreviation, document.drafting_unit)
    number_text = f"{format_number(number)}/{notation_}"
    stamp_time = now.astimezone(VN_TZ).isoformat(timespec="seconds")
    field_name = _field_name(document, SignatureKind.ORGANIZATION)
    signed, certificate_der = _signed_bytes(
        session,
        services.blobs.get(document.current_sha256),
        document_id=document.id,
        services=services,
        actor=actor,
        label=label,
        pin=pin,
        field_name=field_name,
        reason=f"Số {number_text}, ban hành {stamp_time}",
        location=unit.code,
        appearance=Appearance(
            # Over a seal image, two short lines that stay inside the seal's box.
            lines=(f"Số: {number_text}", stamp_time)
            if unit.seal_image_sha256
            else (unit.name, f"Số: {number_text}", f"Thời gian ký: {stamp_time}"),
            color=(0.8, 0.0, 0.0),
            image_png=(
                services.blobs.get(unit.seal_image_sha256) if unit.seal_image_sha256 else None
            ),
        ),
        # With a seal image the seal overlaps a third of the personal signature (NĐ 30).
        placement=_on_page(
            SEAL_OVER_SIGNATURE_BOX if unit.seal_image_sha256 else SEAL_BOX, document
        ),
    )
    signature = _record_signature(
        document,
        services=services,
        actor=actor,
        label=label,
        kind=SignatureKind.ORGANIZATION,
        field_name=field_name,
        signed=signed,
        certificate_der=certificate_der,
    )
    if earlier_failures:
        tokens.clear_failures(session, label)
    document.series = series
    document.issued_year = today.year
    document.number = number
    document.notation = notation_
    # Secret documents never travel: numbered in their own series, no exchange identifier
    # (it would repeat the identifier of the ordinary document with the same number).
    secret = Secrecy(document.secrecy) is not Secrecy.NONE
    document.document_id = (
        None if secret else document_identifier(unit.code, today, number, notation_)
    )
    document.issued_at = now
    document.issued_by = actor.username
    document.state = DocumentState.ISSUED
    audit.record(
        session,
        actor=actor.username,
        action="document.issue",
        target=document.id,
        details={
            "number": number_text,
            "document_id": document.document_id,
            "serial": signature.certificate_serial,
        },
    )
    session.commit()
    return document


# --- deferred signing (a USB token on the leader's own computer) -------------------------

SIGNING_SESSION_TTL = timedelta(minutes=10)


@dataclass(frozen=True)
class OpenedSigningSession:
    """What the client needs: the session, the digest its token signs, and how."""

    session: SigningSession
    to_sign: bytes
    signature_format: str


def _parse_chain(chain_pem: object) -> list[asn1_x509.Certificate]:
    if (
        not isinstance(chain_pem, list)
        or not chain_pem
        or not all(isinstance(c, str) for c in chain_pem)
    ):
        raise invalid_field("certificate_chain", "reason_non_empty_list")
    parsed = []
    for text in chain_pem:
        try:
            der = x509.load_pem_x509_certificate(text.encode()).public_bytes(
                serialization.Encoding.DER
            )
        except ValueError:
            raise InvalidInput("certificate_unreadable") from None
        parsed.append(asn1_x509.Certificate.load(der))
    return parsed


def _check_certificate(
    services: Services, certificate: asn1_x509.Certificate, chain: list[asn1_x509.Certificate]
) -> None:
    """The client's certificate must chain to our trust anchor, allow signing, and be live."""
    try:
        validate_signing_certificate(certificate, chain, roots=services.keys.trust_roots())
    except CertificateProblem as exc:
        raise InvalidInput("certificate_untrusted", reason=exc.reason) from None
    if services.keys.is_revoked(certificate.dump()):
        raise Conflict("certificate_revoked", label=format(certificate.serial_number, "x"))


def open_signing_session(
    session: Session, document_id: str, chain_pem: object, *, services: Services, actor: Actor
) -> OpenedSigningSession:
    """Prepare the personal signature of a leader whose token is on their own computer.

    :raises InvalidInput: ``certificate_untrusted`` / ``certificate_unreadable``.
    """
    require_role(actor, Role.SIGNER)
    document = get_document(session, document_id, actor=actor)
    _check_signable(document, actor)
    chain = _parse_chain(chain_pem)
    certificate, intermediates = chain[0], chain[1:]
    _check_certificate(services, certificate, intermediates)
    field_name = _field_name(document, SignatureKind.PERSONAL)
    try:
        state = deferred.prepare(
            services.blobs.get(document.current_sha256),
            certificate,
            intermediates,
            field_name=field_name,
            reason="Ký duyệt",
            appearance=_personal_appearance(actor, _signature_image(actor, services)),
            placement=_on_page(PERSONAL_BOX, document),
            timestamped=services.settings.timestamp_signatures,
        )
    except SigningFailed:
        raise InvalidInput("signing_failed", id=document.id) from None
    row = SigningSession(
        id=secrets.token_hex(16),
        document_id=document.id,
        username=actor.username,
        state=SigningState.OPEN,
        field_name=field_name,
        seen_sha256=document.current_sha256,
        prepared_sha256=services.blobs.put(state.prepared_pdf),
        document_digest=state.document_digest,
        reserved_start=state.reserved_start,
        reserved_end=state.reserved_end,
        signed_attrs=state.signed_attrs,
        certificate=certificate.dump(),
        chain=[base64.b64encode(c.dump()).decode() for c in intermediates],
        expires_at=utcnow() + SIGNING_SESSION_TTL,
    )
    session.add(row)
    audit.record(
        session,
        actor=actor.username,
        action="document.signing_session_open",
        target=document.id,
        details={"session": row.id, "serial": format(certificate.serial_number, "x")},
    )
    session.commit()
    algorithm = certificate.public_key.algorithm
    return OpenedSigningSession(
        session=row,
        to_sign=state.to_sign,
        signature_format="rsa-pkcs1v15-digestinfo-sha256"
        if algorithm == "rsa"
        else "ecdsa-sha256-der",
    )


def complete_signing_session(
    session: Session, session_id: str, signature_b64: object, *, services: Services, actor: Actor
) -> Document:
    """Embed the client's signature; the document is then signed like any other.

    :raises NotFound: ``signing_session_not_found`` (also another person's session).
    :raises Conflict: ``signing_session_closed`` / ``signing_session_expired`` /
        ``document_changed``.
    :raises InvalidInput: ``signature_invalid`` when the signature does not verify.
    """
    row = session.get(SigningSession, session_id[:32], with_for_update=True)
    if row is None or row.username != actor.username:
        raise NotFound("signing_session_not_found", id=session_id[:40])
    if row.state != SigningState.OPEN:
        raise Conflict("signing_session_closed", id=row.id)
    if row.expires_at <= utcnow():
        row.state = SigningState.EXPIRED
        session.commit()
        raise Conflict("signing_session_expired", id=row.id)
    try:
        signature = base64.b64decode(str(signature_b64), validate=True)
    except (ValueError, binascii.Error):
        raise InvalidInput("signature_invalid") from None
    document = _lock_document(session, row.document_id, actor=actor)
    _check_signable(document, actor)
    if document.current_sha256 != row.seen_sha256:
        raise Conflict("document_changed", id=document.id)
    certificate = asn1_x509.Certificate.load(row.certificate)
    chain = [asn1_x509.Certificate.load(base64.b64decode(c)) for c in row.chain]
    state = deferred.DeferredState(
        prepared_pdf=services.blobs.get(row.prepared_sha256),
        document_digest=row.document_digest,
        reserved_start=row.reserved_start,
        reserved_end=row.reserved_end,
        signed_attrs=row.signed_attrs,
        to_sign=b"",
    )
    timestamper = services.keys.timestamper() if services.settings.timestamp_signatures else None
    try:
        signed = deferred.finish(state, certificate, chain, signature, timestamper=timestamper)
    except SigningFailed as exc:
        audit.record(
            session,
            actor=actor.username,
            action="document.signing_session_refused",
            target=document.id,
            details={"session": row.id, "reason": str(exc)},
        )
        session.commit()
        raise InvalidInput("signature_invalid") from None
    signature_row = _record_signature(
        document,
        services=services,
        actor=actor,
        label="external",
        kind=SignatureKind.PERSONAL,
        field_name=row.field_name,
        signed=signed,
        certificate_der=row.certificate,
    )
    row.state = SigningState.DONE
    return _signed(session, document, signature_row, actor=actor, deferred_session=row.id)
