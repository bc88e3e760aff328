"""Signature coverage: which sent documents carry valid signatures; expiring certificates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from docexchange.domain.documents import DocumentState, SignatureKind, number_text
from docexchange.domain.reports import (
    Period,
    Scope,
)
from docexchange.errors import NotFound
from docexchange.services import directory
from docexchange.services.authz import Actor
from docexchange.services.reports.ratio import _check_access
from docexchange.storage.models import (
    CertificateRecord,
    Document,
    InboxEntry,
    Unit,
    User,
)
from pki.report import ValidationReport

#: Certificates that expire within this many days are listed.
EXPIRY_WARNING_DAYS = 30


@dataclass
class CoverageRow:
    """How many documents of a unit (or a signer) carry valid signatures."""

    key: str
    name: str
    issued: int = 0
    issued_personal_valid: int = 0
    issued_organisation_valid: int = 0
    issued_both_valid: int = 0
    received: int = 0
    received_personal_valid: int = 0
    received_organisation_valid: int = 0
    received_both_valid: int = 0


@dataclass(frozen=True)
class CoverageFailure:
    """A document without a valid personal or organisation signature, and why."""

    source: str  # document | inbox
    id: str
    unit_code: str
    number: str | None
    subject: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class ExpiringCertificate:
    subject: str
    serial: str
    kind: str
    owner: str
    not_after: datetime


@dataclass(frozen=True)
class Coverage:
    units: list[CoverageRow]
    signers: list[CoverageRow]
    failures: list[CoverageFailure]
    expiring: list[ExpiringCertificate]


def _judged(report: Mapping[str, Any] | None) -> tuple[bool, bool, tuple[str, ...]]:
    """(valid personal signature, valid organisation signature, reasons) of a stored report."""
    if not report:
        return False, False, ("not_verified",)
    judged = ValidationReport.from_dict(report)
    passed = judged.passed_kinds()
    personal = SignatureKind.PERSONAL in passed
    organisation = SignatureKind.ORGANIZATION in passed
    reasons = judged.reasons()
    if not personal:
        reasons.append("no_valid_personal_signature")
    if not organisation:
        reasons.append("no_valid_organisation_signature")
    return personal, organisation, tuple(dict.fromkeys(str(r) for r in reasons if r))


def signature_coverage(
    session: Session,
    *,
    actor: Actor,
    unit: str | None,
    period: Period,
    scope: Scope,
    now: datetime,
    limit: int = 1000,
) -> Coverage:
    """Auditors: per unit and per signer, the documents issued and received in ``period``
    and how many carry a valid personal and a valid organisation signature (from the reports
    kept with them: a document never checked counts as not valid, reason ``not_verified``);
    the failing documents with their reasons; certificates expiring within 30 days.

    :raises NotFound: ``unit_not_found``; :raises Forbidden: ``unit_forbidden``.
    """
    code = unit or actor.unit_code
    if session.get(Unit, code) is None:
        raise NotFound("unit_not_found", code=code[:20])
    _check_access(session, actor, code, scope)
    codes = [code] if scope is Scope.SELF else directory.subtree_select(code)
    names = dict(session.execute(select(Unit.code, Unit.name).where(Unit.code.in_(codes))).all())
    units = {c: CoverageRow(c, n) for c, n in sorted(names.items())}
    signers: dict[str, CoverageRow] = {}
    failures: list[CoverageFailure] = []
    people = dict(session.execute(select(User.username, User.full_name)).all())
    issued = session.scalars(
        select(Document).where(
            Document.sender_code.in_(codes),
            Document.state == DocumentState.ISSUED,
            Document.issued_at >= period.start,
            Document.issued_at < period.end,
        )
    )
    for d in issued:
        current = d.verified_valid is not None and d.verified_sha256 == d.current_sha256
        personal, organisation, reasons = _judged(d.verification if current else None)
        leader = next((s.signer for s in d.signatures if s.kind == SignatureKind.PERSONAL), "")
        rows = [units[d.sender_code]]
        if leader:
            rows.append(signers.setdefault(leader, CoverageRow(leader, people.get(leader, ""))))
        for row in rows:
            row.issued += 1
            row.issued_personal_valid += personal
            row.issued_organisation_valid += organisation
            row.issued_both_valid += personal and organisation
        if not (personal and organisation) and len(failures) < limit:
            number = number_text(d.number, d.notation)
            failures.append(
                CoverageFailure("document", d.id, d.sender_code, number, d.subject, reasons)
            )
    arrived = session.scalars(
        select(InboxEntry).where(
            InboxEntry.recipient_code.in_(codes),
            InboxEntry.received_at >= period.start,
            InboxEntry.received_at < period.end,
        )
    )
    for e in arrived:
        personal, organisation, reasons = _judged(e.verification)
        row = units[e.recipient_code]
        row.received += 1
        row.received_personal_valid += personal
        row.received_organisation_valid += organisation
        row.received_both_valid += personal and organisation
        if not (personal and organisation) and len(failures) < limit:
            failures.append(
                CoverageFailure("inbox", e.id, e.recipient_code, e.number, e.subject, reasons)
            )
    owners = select(User.username).where(User.unit_code.in_(codes))
    expiring = [
        ExpiringCertificate(
            c.subject, c.serial, c.kind, c.owner_username or c.owner_unit_code or "", c.not_after
        )
        for c in session.scalars(
            select(CertificateRecord)
            .where(
                CertificateRecord.not_after >= now,
                CertificateRecord.not_after < now + timedelta(days=EXPIRY_WARNING_DAYS),
                (CertificateRecord.owner_unit_code.in_(codes))
                | (CertificateRecord.owner_username.in_(owners)),
            )
            .order_by(CertificateRecord.not_after)
        )
    ]
    return Coverage(
        [u for u in units.values() if u.issued or u.received],
        sorted(signers.values(), key=lambda r: r.key),
        failures,
        expiring,
    )
