"""Verdicts on arriving files: computed once per file, trust and issuer, shared by a fan-out."""

from __future__ import annotations

import hashlib
import logging

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from docexchange.services import verification
from docexchange.services.container import Services
from docexchange.storage.models import (
    VerdictCache,
)
from pki.report import ValidationReport

logger = logging.getLogger(__name__)


def trust_key(services: Services) -> str:
    digest = hashlib.sha256()
    for root in sorted(c.dump() for c in services.keys.trust_roots()):
        digest.update(hashlib.sha256(root).digest())
    return digest.hexdigest()


def verdict_key(sha256: str, trust: str, issuer_code: str, mandate: bool) -> tuple[str, str, str]:
    # Without the mandate the issuer plays no part in the verdict: one entry for all.
    return (sha256, trust, issuer_code if mandate else "~")


def verdict_for(
    session: Session, *, data: bytes, sender_code: str, services: Services, mandate: bool = True
) -> ValidationReport:
    """The report for ``data`` from ``sender_code`` under today's trust: computed once.

    ``mandate=False`` for documents from peer servers: who leads a unit there is known
    there, not here (the certificates must still chain to our trusted roots).
    Runs in its own short transactions (the caller holds none).
    """
    key = verdict_key(hashlib.sha256(data).hexdigest(), trust_key(services), sender_code, mandate)
    cached = session.get(VerdictCache, key)
    if cached is not None:
        return ValidationReport.from_dict(cached.report)
    session.rollback()  # no transaction open while the worker verifies
    report = verify_in_transaction(session, data, sender_code, services=services, mandate=mandate)
    try:
        session.add(
            VerdictCache(
                content_sha256=key[0], trust_key=key[1], sender_code=key[2], report=report.as_dict()
            )
        )
        session.commit()
    except IntegrityError:  # another worker stored it first: same inputs, same verdict
        session.rollback()
    return report


def verify_in_transaction(
    session: Session, data: bytes, sender_code: str, *, services: Services, mandate: bool
) -> ValidationReport:
    """Verify ``data`` (and the sender's mandate) in the caller's transaction."""
    checked = verification.verify_document(data, services=services)
    if mandate:
        checked = verification.apply_mandate(session, checked, sender_code=sender_code)
    return checked
