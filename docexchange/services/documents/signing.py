"""The competent person's signature: on the server's token, placed as NĐ 30 lays it out."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from asn1crypto import x509 as asn1_x509
from sqlalchemy import select
from sqlalchemy.orm import Session

from docexchange.domain.accounts import Role
from docexchange.domain.documents import (
    DocumentState,
    SignatureKind,
)
from docexchange.domain.timeutil import now_vn, stamp_time
from docexchange.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
)
from docexchange.services import audit, tokens
from docexchange.services.authz import Actor, require_role
from docexchange.services.container import Services
from docexchange.services.documents.drafts import _visible, get_document
from docexchange.services.documents.stamps import personal_layout
from docexchange.services.keys import user_token_label
from docexchange.services.tokens import token_signer
from docexchange.storage.base import utcnow
from docexchange.storage.models import (
    Document,
    DocumentSignature,
)
from pki.errors import SigningFailed
from pki.forms import FormChange
from pki.signing import Appearance, Placement, sign_pdf

logger = logging.getLogger(__name__)


def sign_with(
    signer: Any,
    current: bytes,
    *,
    document_id: str,
    services: Services,
    field_name: str,
    reason: str,
    location: str,
    appearance: Appearance,
    placement: Placement,
    form: FormChange | None = None,
) -> bytes:
    """Sign ``current`` with a logged-in ``signer`` (time-stamped and B-LT when configured).

    :raises InvalidInput: ``signing_failed``.
    """
    settings = services.settings
    try:
        return sign_pdf(
            current,
            signer,
            field_name=field_name,
            reason=reason,
            location=location,
            timestamper=services.keys.timestamper() if settings.timestamp_signatures else None,
            appearance=appearance,
            placement=placement,
            form=form,
            # B-LT: with a time stamp, embed the revocation data as well.
            revocation_context=(
                services.keys.revocation_context() if settings.timestamp_signatures else None
            ),
        )
    except SigningFailed:
        raise InvalidInput("signing_failed", id=document_id) from None


def _signed_bytes(
    session: Session,
    current: bytes,
    *,
    document_id: str,
    services: Services,
    actor: Actor,
    label: str,
    pin: str,
    field_name: str,
    reason: str,
    location: str,
    appearance: Appearance,
    placement: Placement,
    form: FormChange | None = None,
) -> tuple[bytes, bytes]:
    """Sign ``current`` on the token ``label``; return (signed PDF, certificate DER)."""
    settings = services.settings
    with token_signer(
        session, label, pin, keys=services.keys, actor=actor, max_failures=settings.max_pin_failures
    ) as (signer, certificate_der):
        signed = sign_with(
            signer,
            current,
            document_id=document_id,
            services=services,
            field_name=field_name,
            reason=reason,
            location=location,
            appearance=appearance,
            placement=placement,
            form=form,
        )
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


def _signature_image(actor: Actor, services: Services) -> bytes | None:
    digest = actor.signature_image_sha256
    return services.blobs.get(digest) if digest else None


def _personal_appearance(actor: Actor, image: bytes | None = None) -> Appearance:
    signed_at = stamp_time(now_vn())
    return Appearance(
        lines=(actor.position, actor.full_name, f"Ký số: {signed_at}"),
        image_png=image,
        color=(0.0, 0.2, 0.7),
    )


@dataclass(frozen=True)
class Prepared:
    """A document read and checked for a personal signature (no transaction held after)."""

    document: Document
    seen: str
    data: bytes  #: the file at ``seen``, read once for the layout and the signature
    field_name: str
    appearance: Appearance
    placement: Placement
    #: The number and date fields this revision lays over the document's gaps, if any.
    form: FormChange | None = None


def prepare_personal(
    session: Session, document_id: str, *, services: Services, actor: Actor
) -> Prepared:
    """Read and check a document for the actor's signature (the caller ends the read).

    :raises Forbidden: not a signer of the sending unit.
    :raises Conflict: ``document_not_signable``, ``document_already_signed``,
        ``document_submitted_to_another``.
    """
    document = get_document(session, document_id, actor=actor)
    _check_signable(document, actor)
    data = services.blobs.get(document.current_sha256)
    layout = personal_layout(
        data,
        document,
        position=actor.position,
        name=actor.full_name,
        services=services,
    )
    return Prepared(
        document=document,
        seen=document.current_sha256,
        data=data,
        field_name=_field_name(document, SignatureKind.PERSONAL),
        appearance=_personal_appearance(actor, _signature_image(actor, services)),
        placement=layout.placement,
        form=layout.form,
    )


def finish_personal(
    session: Session,
    prepared: Prepared,
    signed: bytes,
    certificate_der: bytes,
    *,
    services: Services,
    actor: Actor,
    clear_failures: bool = False,
) -> Document:
    """Record a personal signature made on ``prepared`` and commit (audited); a PIN that
    worked clears the token's earlier failures (``clear_failures``).

    :raises Conflict: ``document_changed`` when another change landed meanwhile.
    """
    document = prepared.document
    # Every change to a document replaces its PDF, so an unchanged digest under the row lock
    # means the copy read before signing is still current.
    current = session.scalar(
        select(Document.current_sha256).where(Document.id == document.id).with_for_update()
    )
    if current != prepared.seen:
        raise Conflict("document_changed", id=document.id)
    signature = _record_signature(
        document,
        services=services,
        actor=actor,
        label=user_token_label(actor.username),
        kind=SignatureKind.PERSONAL,
        field_name=prepared.field_name,
        signed=signed,
        certificate_der=certificate_der,
    )
    if clear_failures:
        tokens.clear_failures(session, user_token_label(actor.username))
    return _signed(session, document, signature, actor=actor)


def sign_document(
    session: Session, document_id: str, pin: str, *, services: Services, actor: Actor
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
    prepared = prepare_personal(session, document_id, services=services, actor=actor)
    earlier_failures = tokens.refuse_if_locked(session, label, actor=actor)
    session.commit()  # end the read; nothing is held while the token signs
    signed, certificate_der = _signed_bytes(
        session,
        prepared.data,
        document_id=prepared.document.id,
        services=services,
        actor=actor,
        label=label,
        pin=pin,
        field_name=prepared.field_name,
        reason="Ký duyệt",
        location=prepared.document.sender_code,
        appearance=prepared.appearance,
        placement=prepared.placement,
        form=prepared.form,
    )
    return finish_personal(
        session,
        prepared,
        signed,
        certificate_der,
        services=services,
        actor=actor,
        clear_failures=earlier_failures > 0,
    )


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
    if document.submitted_to not in (None, actor.username):
        # Submitted to one leader: only that leader signs it (a draft nobody submitted, any).
        raise Conflict("document_submitted_to_another", id=document.id)


def _lock_document(session: Session, document_id: str, *, actor: Actor) -> Document:
    """Read the document afresh under a row lock (PostgreSQL), serialising its writers."""
    document = session.get(Document, document_id[:32], with_for_update=True, populate_existing=True)
    if document is None or not _visible(session, document, actor):
        raise NotFound("document_not_found", id=document_id[:40])
    return document
