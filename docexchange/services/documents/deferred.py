"""Deferred signing: the server prepares the PDF, the leader's own token signs its digest."""

from __future__ import annotations

import base64
import binascii
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy.orm import Session

from docexchange.domain.accounts import Role
from docexchange.domain.documents import (
    SignatureKind,
    SigningState,
)
from docexchange.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    invalid_field,
)
from docexchange.services import audit
from docexchange.services.authz import Actor, require_role
from docexchange.services.container import Services
from docexchange.services.documents.drafts import get_document
from docexchange.services.documents.signing import (
    _check_signable,
    _field_name,
    _lock_document,
    _personal_appearance,
    _record_signature,
    _signature_image,
    _signed,
)
from docexchange.services.documents.stamps import personal_layout
from docexchange.storage.base import utcnow
from docexchange.storage.models import (
    Document,
    SigningSession,
)
from pki import deferred
from pki.errors import SigningFailed
from pki.trust import CertificateProblem, validate_signing_certificate

logger = logging.getLogger(__name__)


SIGNING_SESSION_TTL = timedelta(minutes=10)


@dataclass(frozen=True)
class OpenedSigningSession:
    """What the client needs: the session, the digest its token signs, and how."""

    session: SigningSession
    to_sign: bytes
    signature_format: str


def _parse_chain(chain_pem: Sequence[str]) -> list[asn1_x509.Certificate]:
    if not chain_pem:
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
    session: Session,
    document_id: str,
    chain_pem: Sequence[str],
    *,
    services: Services,
    actor: Actor,
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
    data = services.blobs.get(document.current_sha256)
    layout = personal_layout(
        data, document, position=actor.position, name=actor.full_name, services=services
    )
    try:
        state = deferred.prepare(
            data,
            certificate,
            intermediates,
            field_name=field_name,
            reason="Ký duyệt",
            appearance=_personal_appearance(actor, _signature_image(actor, services)),
            placement=layout.placement,
            form=layout.form,
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
    session: Session, session_id: str, signature_b64: str, *, services: Services, actor: Actor
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
        signature = base64.b64decode(signature_b64, validate=True)
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
