"""Verify a PDF's signatures against this server's trust anchors."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from docexchange.domain.accounts import Role
from docexchange.domain.documents import SignatureKind
from docexchange.metrics import VERIFICATION_SECONDS, VERIFICATIONS
from docexchange.services import accounts, audit, documents
from docexchange.services.authz import Actor
from docexchange.services.container import Services
from docexchange.storage.base import utcnow
from docexchange.storage.models import CertificateRecord, Document
from pki.report import TOTAL_FAILED, SignatureReport, ValidationReport
from pki.validation import summarise

__all__ = ["apply_mandate", "verify_document", "verify_stored_document"]

logger = logging.getLogger(__name__)


def verify_document(
    data: bytes, *, services: Services, at: datetime | None = None
) -> ValidationReport:
    """The verdict on ``data`` with our trust roots and CA chain.

    The PDF is parsed in a worker process under time and memory limits. Revocation data
    comes from the document itself (its DSS: our issued documents carry their CRL, PAdES
    B-LT) and, when reachable, online from the CRL and OCSP addresses in the certificates.
    Passing our own CA's CRL in as well would make pyHanko treat every foreign certificate's
    revocation as undeterminable.

    :param at: judge as at this moment (point in time, revocation data of the file only).
    """
    keys = services.keys
    started, outcome = time.perf_counter(), "error"
    try:
        report = services.verifier.verify(
            data, roots=keys.trust_roots(), other_certs=keys.chain(), at=at
        )
        outcome = "valid" if report.valid else "invalid"
        return report
    finally:
        VERIFICATIONS.labels(outcome).inc()
        VERIFICATION_SECONDS.observe(time.perf_counter() - started)


def apply_mandate(
    session: Session, report: ValidationReport, *, sender_code: str
) -> ValidationReport:
    """Signatures count for ``sender_code`` only if its own people and seal made them.

    A personal signature needs a certificate registered to a person who held the signer role
    in the sending unit when the signature was made (role history; the time stamp's time, or
    else the time the signer states); an organisation signature needs the sending unit's
    certificate.
    """
    checked = [_mandate(session, signature, sender_code) for signature in report.signatures]
    return summarise(checked)


def _signing_moment(signature: SignatureReport) -> datetime:
    """When the signature was made: its trusted time stamp, else the time the signer
    states, else now (a signature with neither is judged as if made now)."""
    for value in (signature.timestamp_time, signature.signing_time):
        if value:
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                continue
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return utcnow()


def _mandate(session: Session, signature: SignatureReport, sender_code: str) -> SignatureReport:
    if (
        not signature.passed
        or signature.signer is None
        or signature.kind == SignatureKind.TIMESTAMP
    ):
        return signature
    record = session.scalar(
        select(CertificateRecord).where(
            CertificateRecord.issuer == signature.signer.issuer[:500],
            CertificateRecord.serial == signature.signer.serial,
        )
    )
    problem = None
    if record is None:
        problem = "certificate_not_registered"
    elif signature.kind == SignatureKind.ORGANIZATION:
        if record.owner_unit_code != sender_code:
            problem = "seal_of_another_unit"
    elif record.owner_username is None or not accounts.held_role(
        session, record.owner_username, sender_code, Role.SIGNER, _signing_moment(signature)
    ):
        problem = "signer_not_leader_of_sender"
    if problem is None:
        return signature
    return replace(
        signature,
        indication=TOTAL_FAILED,
        sub_indication="SIG_CONSTRAINTS_FAILURE",
        messages=[*signature.messages, problem],
    )


def verify_stored_document(
    session: Session, document_id: str, *, services: Services, actor: Actor
) -> ValidationReport:
    """Verify a document's current file for its sending unit and keep the report with it.

    Anyone who may see the document may ask (again: trust anchors and revocation change).
    The file is read first and verified with no transaction open; the report is stored
    with the SHA-256 of the revision it judged, which may be older than the document's by
    then (a signature added meanwhile): the API says whether it is still current.
    """
    document = documents.get_document(session, document_id, actor=actor)
    sha256, sender = document.current_sha256, document.sender_code
    data = documents.document_pdf(document, services=services)
    session.rollback()  # no transaction held while the worker parses the file
    report = apply_mandate(session, verify_document(data, services=services), sender_code=sender)
    session.execute(
        update(Document)
        .where(Document.id == document_id)
        .values(
            verification=report.as_dict(),
            verified_sha256=sha256,
            verified_at=utcnow(),
            # The verdict column speaks of the current file only (a signature may have
            # been added while this one was judged).
            verified_valid=case((Document.current_sha256 == sha256, report.valid), else_=None),
        )
    )
    audit.record(
        session,
        actor=actor.username,
        action="document.verify",
        target=document_id,
        details={"valid": report.valid, "sha256": sha256},
    )
    session.commit()
    return report
