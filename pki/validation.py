"""Verify every signature of a PDF with pyHanko, stricter than pyHanko where it must be.

Rules added on top of pyHanko (shared corpus MANIFEST, "Findings"):

- bytes after the last ``%%EOF`` that are not whitespace make the last signature fail (a
  broken incremental update other viewers may render, ``isa_B``);
- after the last signature only long-term-validation updates (DSS, document time stamps) are
  accepted: a form fill or annotation no signature covers makes it fail (``dss-2236/replace``);
  anything pyHanko rates above form filling fails any signature;
- every exception from any parser becomes a verdict ("cannot validate"), never an error;
- messages are stable codes; the server renders them in Vietnamese and English.
- a PDF whose signature fields are empty is "not signed".
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from typing import Any

from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko_certvalidator import ValidationContext

from pki.report import (
    INDETERMINATE,
    TOTAL_FAILED,
    TOTAL_PASSED,
    SignatureReport,
    SignerInfo,
    ValidationReport,
)

__all__ = ["summarise", "verify_pdf"]

logger = logging.getLogger(__name__)

_ACCEPTED_AFTER_LAST = {ModificationLevel.NONE, ModificationLevel.LTA_UPDATES}
_ACCEPTED_BETWEEN = _ACCEPTED_AFTER_LAST | {ModificationLevel.FORM_FILLING}


def _trailing_bytes(data: bytes) -> bool:
    end = data.rfind(b"%%EOF")
    return end == -1 or bool(data[end + 5 :].strip(b" \t\r\n\x00\x0c"))


def _signer(certificate: asn1_x509.Certificate) -> SignerInfo:
    subject = certificate.subject.native
    return SignerInfo(
        name=str(subject.get("common_name", "")),
        subject=certificate.subject.human_friendly,
        serial=format(certificate.serial_number, "x"),
        issuer=certificate.issuer.human_friendly,
        organization_identifier=subject.get("organization_identifier"),
    )


def _kind(signer: SignerInfo | None) -> str:
    if signer is None:
        return "unknown"
    return "organization" if signer.organization_identifier else "personal"


def _context(
    reader: PdfFileReader,
    roots: Sequence[asn1_x509.Certificate],
    other_certs: Sequence[asn1_x509.Certificate],
    crls: Sequence[bytes],
) -> tuple[ValidationContext, bool]:
    kwargs: dict[str, Any] = {
        "trust_roots": list(roots),
        "other_certs": list(other_certs),
        "crls": list(crls),
        "allow_fetching": False,
        "revocation_mode": "soft-fail",
    }
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except Exception:
        return ValidationContext(**kwargs), bool(crls)
    has_revinfo = bool(crls) or bool(dss.crls) or bool(dss.ocsps)
    return dss.as_validation_context(kwargs), has_revinfo


def verify_pdf(
    data: bytes,
    *,
    roots: Sequence[asn1_x509.Certificate],
    other_certs: Sequence[asn1_x509.Certificate] = (),
    crls: Sequence[bytes] = (),
) -> ValidationReport:
    """Judge every signature of ``data``; never raises for bad input.

    ``valid`` is true only when every signature passed and both a personal and an
    organisation signature are present (NĐ 30/2020 Điều 5).

    :param roots: the trust anchors (required: there is no "trust everything").
    :param crls: revocation lists the caller holds (DER); the file's DSS is read as well.
    """
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        try:
            embedded = list(reader.embedded_signatures)
        except ValueError:
            # An empty or placeholder signature field (MANIFEST finding 4).
            return ValidationReport(valid=False, signatures=[], status="not_signed")
    except Exception as exc:
        logger.info("unreadable PDF: %s", type(exc).__name__)
        return ValidationReport(
            valid=False,
            signatures=[],
            status="unreadable",
            messages=["pdf_unreadable"],
        )
    if not embedded:
        return ValidationReport(valid=False, signatures=[], status="not_signed")
    try:
        context, has_revinfo = _context(reader, roots, other_certs, crls)
    except Exception:
        return ValidationReport(
            valid=False,
            signatures=[],
            status="unreadable",
            messages=["pdf_unreadable"],
        )
    trailing = _trailing_bytes(data)
    reports = []
    for index, signature in enumerate(embedded):
        last = index == len(embedded) - 1
        reports.append(
            _one(signature, context, has_revinfo=has_revinfo, last=last, trailing=trailing)
        )
    return summarise(reports)


def summarise(reports: list[SignatureReport]) -> ValidationReport:
    """The document's verdict from its signatures' (after any later rule changed them)."""
    personal = any(r.kind == "personal" and r.passed for r in reports)
    organisation = any(r.kind == "organization" and r.passed for r in reports)
    signed = [r for r in reports if r.kind != "timestamp"]
    valid = bool(signed) and all(r.passed for r in reports) and personal and organisation
    messages = []
    if not personal:
        messages.append("no_valid_personal_signature")
    if not organisation:
        messages.append("no_valid_organisation_signature")
    return ValidationReport(valid=valid, signatures=reports, messages=messages)


def _one(
    signature: object, context: ValidationContext, *, has_revinfo: bool, last: bool, trailing: bool
) -> SignatureReport:
    field = str(getattr(signature, "field_name", "?"))
    try:
        if getattr(signature, "sig_object_type", None) == "/DocTimeStamp":
            return _doc_timestamp(signature, context, field)
        status = validate_pdf_signature(signature, context)  # type: ignore[arg-type]
    except Exception as exc:
        logger.info("signature %s cannot be validated: %s", field, type(exc).__name__)
        return SignatureReport(
            field=field,
            kind="unknown",
            signer=None,
            signing_time=None,
            timestamp_time=None,
            indication=TOTAL_FAILED,
            sub_indication="FORMAT_FAILURE",
            intact=False,
            trusted=False,
            revocation="not_checked",
            coverage=None,
            modification_level=None,
            messages=["signature_cannot_validate"],
        )
    signer = _signer(status.signing_cert)
    level = status.modification_level
    messages: list[str] = []
    indication, sub = TOTAL_PASSED, None
    if not status.intact:
        indication, sub = TOTAL_FAILED, "HASH_FAILURE"
        messages.append("signed_bytes_changed")
    elif not status.valid:
        indication, sub = TOTAL_FAILED, "SIG_CRYPTO_FAILURE"
        messages.append("signature_value_mismatch")
    elif status.revoked:
        indication, sub = TOTAL_FAILED, "REVOKED"
        messages.append("signing_certificate_revoked")
    elif (
        status.docmdp_ok is False
        or level is None
        or level not in (_ACCEPTED_AFTER_LAST if last else _ACCEPTED_BETWEEN)
    ):
        indication, sub = TOTAL_FAILED, "FORMAT_FAILURE"
        messages.append("changed_after_signing")
    elif last and trailing:
        indication, sub = TOTAL_FAILED, "FORMAT_FAILURE"
        messages.append("bytes_after_signed_document")
    elif not status.trusted:
        indication = INDETERMINATE
        problem = status.trust_problem_indic
        sub = str(getattr(problem, "name", problem)) if problem else "NO_CERTIFICATE_CHAIN_FOUND"
        messages.append("signing_certificate_untrusted")
    timestamp = status.timestamp_validity
    return SignatureReport(
        field=field,
        kind=_kind(signer),
        signer=signer,
        signing_time=status.signer_reported_dt.isoformat() if status.signer_reported_dt else None,
        timestamp_time=timestamp.timestamp.isoformat() if timestamp is not None else None,
        indication=indication,
        sub_indication=sub,
        intact=bool(status.intact),
        trusted=bool(status.trusted),
        revocation="revoked"
        if status.revoked
        else ("good" if has_revinfo and status.trusted else "not_checked"),
        coverage=status.coverage.name if status.coverage is not None else None,
        modification_level=level.name if level is not None else None,
        messages=messages,
    )


def _doc_timestamp(signature: object, context: ValidationContext, field: str) -> SignatureReport:
    status = validate_pdf_timestamp(signature, validation_context=context)  # type: ignore[arg-type]
    passed = bool(status.intact and status.valid and status.trusted)
    return SignatureReport(
        field=field,
        kind="timestamp",
        signer=_signer(status.signing_cert),
        signing_time=None,
        timestamp_time=status.timestamp.isoformat() if status.timestamp else None,
        indication=TOTAL_PASSED
        if passed
        else (TOTAL_FAILED if not status.intact else INDETERMINATE),
        sub_indication=None
        if passed
        else ("HASH_FAILURE" if not status.intact else "NO_CERTIFICATE_CHAIN_FOUND"),
        intact=bool(status.intact),
        trusted=bool(status.trusted),
        revocation="not_checked",
        coverage=status.coverage.name if status.coverage is not None else None,
        modification_level=None,
        messages=[] if passed else ["document_timestamp_invalid"],
    )
