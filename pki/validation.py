"""Verify every signature of a PDF with pyHanko, stricter than pyHanko where it must be.

Rules added on top of pyHanko (shared corpus MANIFEST, "Findings"):

- the file must end at its last revision: bytes no cross-reference section accounts for make
  the last signature fail (a broken incremental update other viewers may render, ``isa_B``,
  even when it ends with a copy of the last ``startxref … %%EOF``; :mod:`pki.revisions`);
- after the last signature only long-term-validation updates (DSS, document time stamps) are
  accepted: a form fill or annotation no signature covers makes it fail (``dss-2236/replace``);
  anything pyHanko rates above form filling fails any signature;
- nothing after the last signature (document time stamps aside) may change what a viewer
  draws, whatever pyHanko's diff policy exempts (the form's default appearance and resources:
  :mod:`pki.revisions`);
- every exception from any parser becomes a verdict ("cannot validate"), never an error;
- messages are stable codes; the server renders them in Vietnamese and English.
- a PDF whose signature fields are empty is "not signed".
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.fetchers import Fetchers

from pki.report import (
    INDETERMINATE,
    TOTAL_FAILED,
    TOTAL_PASSED,
    SignatureReport,
    SignerInfo,
    ValidationReport,
)
from pki.revisions import ends_at_last_revision, renders_as_signed

__all__ = ["summarise", "verify_pdf"]

logger = logging.getLogger(__name__)

_ACCEPTED_AFTER_LAST = {ModificationLevel.NONE, ModificationLevel.LTA_UPDATES}
_ACCEPTED_BETWEEN = _ACCEPTED_AFTER_LAST | {ModificationLevel.FORM_FILLING}
#: The reason shown for an INDETERMINATE signature, by sub-indication.
_UNTRUSTED_REASONS = {
    "OUT_OF_BOUNDS_NO_POE": "signing_certificate_expired",
    "OUT_OF_BOUNDS_NOT_REVOKED": "signing_certificate_expired",
    "EXPIRED": "signing_certificate_expired",
    "NOT_YET_VALID": "signing_certificate_not_yet_valid",
    "CRYPTO_CONSTRAINTS_FAILURE": "weak_algorithm",
    "TRY_LATER": "revocation_unknown",
    "REVOCATION_OUT_OF_BOUNDS_NO_POE": "revocation_unknown",
}
_EXPIRY_PROBLEMS = {"OUT_OF_BOUNDS_NO_POE", "OUT_OF_BOUNDS_NOT_REVOKED", "EXPIRED"}


def _placeholders_only(reader: PdfFileReader) -> bool:
    """Whether every filled signature field holds only a placeholder (zeros, or nothing)."""
    for _name, value, _ref in enumerate_sig_fields(reader, filled_status=True):
        contents = value.get_object().get("/Contents")
        if contents is None:
            continue
        raw = getattr(contents, "original_bytes", contents)
        if not isinstance(raw, bytes) or raw.strip(b"\x00"):
            return False
    return True


def _is_timestamp(signature: object) -> bool:
    return getattr(signature, "sig_object_type", None) == "/DocTimeStamp"


def _redrawn(reader: PdfFileReader, signature: object) -> bool:
    """Whether a revision after ``signature`` changes what a viewer draws."""
    try:
        revision = int(signature.signed_revision)  # type: ignore[attr-defined]
        return not renders_as_signed(reader, revision)
    except MemoryError:
        raise
    except Exception as exc:
        logger.info("revisions cannot be compared: %s", type(exc).__name__)
        return True


def _signer(certificate: asn1_x509.Certificate) -> SignerInfo:
    subject = certificate.subject.native
    return SignerInfo(
        name=str(subject.get("common_name", "")),
        subject=certificate.subject.human_friendly,
        serial=format(certificate.serial_number, "x"),
        issuer=certificate.issuer.human_friendly,
        organization_identifier=subject.get("organization_identifier"),
        valid_from=certificate.not_valid_before.isoformat(),
        valid_to=certificate.not_valid_after.isoformat(),
    )


def _kind(signer: SignerInfo | None) -> str:
    if signer is None:
        return "unknown"
    return "organization" if signer.organization_identifier else "personal"


class _Contexts:
    """Validation contexts for one document: now (online when allowed), or at a past moment."""

    def __init__(
        self,
        reader: PdfFileReader,
        *,
        roots: Sequence[asn1_x509.Certificate],
        other_certs: Sequence[asn1_x509.Certificate],
        crls: Sequence[bytes],
        fetchers: Fetchers | None,
        at: datetime | None,
        now: datetime | None,
    ) -> None:
        self._base: dict[str, Any] = {
            "trust_roots": list(roots),
            "other_certs": list(other_certs),
            "crls": list(crls),
            "revocation_mode": "soft-fail",
        }
        try:
            self._dss: DocumentSecurityStore | None = DocumentSecurityStore.read_dss(reader)
        except Exception:
            self._dss = None
        self.has_revinfo = bool(crls) or (
            self._dss is not None and bool(self._dss.crls or self._dss.ocsps)
        )
        self.moment = at or now or datetime.now(UTC)
        self.now = (
            self.at(at)
            if at is not None
            else self._make(
                allow_fetching=fetchers is not None, fetchers=fetchers, moment=self.moment
            )
        )

    def _make(self, **extra: Any) -> ValidationContext:
        kwargs = {**self._base, **extra}
        if self._dss is None:
            return ValidationContext(**kwargs)
        return self._dss.as_validation_context(kwargs)

    def at(self, moment: datetime) -> ValidationContext:
        """Point-in-time validation at ``moment`` with the revocation data the file carries.

        pyHanko cannot fetch for a past moment; revocation data issued after ``moment``
        (a B-LT document's DSS) is accepted for it.
        """
        return self._make(moment=moment, allow_fetching=False, retroactive_revinfo=True)


def verify_pdf(
    data: bytes,
    *,
    roots: Sequence[asn1_x509.Certificate],
    other_certs: Sequence[asn1_x509.Certificate] = (),
    crls: Sequence[bytes] = (),
    fetchers: Fetchers | None = None,
    at: datetime | None = None,
    now: datetime | None = None,
) -> ValidationReport:
    """Judge every signature of ``data``; never raises for bad input.

    ``valid`` is true only when every signature passed and both a personal and an
    organisation signature are present (NĐ 30/2020 Điều 5).

    :param roots: the trust anchors (required: there is no "trust everything").
    :param crls: revocation lists the caller holds (DER); the file's DSS is read as well.
    :param fetchers: fetch CRLs and OCSP responses online from the addresses in the
        certificates (soft-fail: an unreachable responder leaves the status "unknown"). The
        caller owns them, so what they fetched is cached across documents.
    :param at: judge as at this moment instead of now (point-in-time validation with the
        revocation data the file carries; nothing is fetched).
    :param now: the caller's "now" (default: this process's clock), so that a worker
        process judges as at the moment the server asked, whatever its own clock says.
    """
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        try:
            embedded = list(reader.embedded_signatures)
        except ValueError:
            if _placeholders_only(reader):
                # An empty or placeholder signature field (MANIFEST finding 4).
                return ValidationReport(valid=False, signatures=[], status="not_signed")
            return ValidationReport(
                valid=False,
                signatures=[],
                status="unreadable",
                messages=["signature_cannot_validate"],
            )
    except MemoryError:
        raise  # the worker turns it into "limits exceeded"
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
        contexts = _Contexts(
            reader,
            roots=roots,
            other_certs=other_certs,
            crls=crls,
            fetchers=fetchers,
            at=at,
            now=now,
        )
    except Exception:
        return ValidationReport(
            valid=False,
            signatures=[],
            status="unreadable",
            messages=["pdf_unreadable"],
        )
    # The last signature that is not a document time stamp: what follows it may only add
    # validation data, and must neither change the drawing nor leave unaccounted bytes.
    signers = [i for i, s in enumerate(embedded) if not _is_timestamp(s)] or [len(embedded) - 1]
    last_signer = signers[-1]
    after_last = [] if ends_at_last_revision(reader, data) else ["bytes_after_signed_document"]
    if _redrawn(reader, embedded[last_signer]):
        after_last.insert(0, "drawing_changed_after_signing")
    reports = [
        _one(
            signature,
            contexts,
            fetchers=fetchers,
            last=index == len(embedded) - 1,
            after_last=after_last if index == last_signer else [],
        )
        for index, signature in enumerate(embedded)
    ]
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


def _fetched_for(fetchers: Fetchers | None, certificate: asn1_x509.Certificate) -> bool:
    """Whether revocation data for ``certificate`` was fetched online."""
    if fetchers is None:
        return False
    for lookup in (
        fetchers.ocsp_fetcher.fetched_responses_for_cert,
        fetchers.crl_fetcher.fetched_crls_for_cert,
    ):
        try:
            if list(lookup(certificate)):
                return True
        except (KeyError, ValueError):
            continue
    return False


def _revocation(status: Any, *, has_revinfo: bool, fetchers: Fetchers | None) -> str:
    if status.revoked:
        return "revoked"
    if not status.trusted:
        return "not_checked"
    if has_revinfo or _fetched_for(fetchers, status.signing_cert):
        return "good"
    return "unknown"


def _expired_with_timestamp(status: Any, now: datetime) -> datetime | None:
    """The trusted signature time stamp's time, if the signing certificate has expired since.

    An expired certificate cannot be judged now (pyHanko says OUT_OF_BOUNDS_NO_POE, or
    TRY_LATER when the only revocation data left is stale); with a proof of existence it is
    judged at that time instead (ETSI EN 319 102-1).
    """
    stamp = status.timestamp_validity
    if status.trusted or stamp is None or not (stamp.intact and stamp.valid and stamp.trusted):
        return None
    problem = getattr(status.trust_problem_indic, "name", None)
    not_after = status.signing_cert["tbs_certificate"]["validity"]["not_after"].native
    if problem not in _EXPIRY_PROBLEMS and not_after >= now:
        return None
    moment: datetime = stamp.timestamp
    return moment


def _broken_timestamp(status: Any) -> bool:
    stamp = status.timestamp_validity
    return stamp is not None and not (stamp.intact and stamp.valid)


def _one(
    signature: object,
    contexts: _Contexts,
    *,
    fetchers: Fetchers | None,
    last: bool,
    after_last: list[str],
) -> SignatureReport:
    field = str(getattr(signature, "field_name", "?"))
    try:
        if _is_timestamp(signature):
            return _doc_timestamp(signature, contexts.now, field)
        status = validate_pdf_signature(signature, contexts.now)  # type: ignore[arg-type]
        validated_at = None
        moment = _expired_with_timestamp(status, contexts.moment)
        if moment is not None:
            # The certificate has expired since: judge it when the time stamp proves the
            # signature existed (ETSI EN 319 102-1, validation with a proof of existence).
            status = validate_pdf_signature(signature, contexts.at(moment))  # type: ignore[arg-type]
            validated_at = moment.isoformat()
    except MemoryError:
        raise
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
    elif _broken_timestamp(status):
        # A time stamp that does not match this signature was copied from elsewhere.
        indication, sub = TOTAL_FAILED, "HASH_FAILURE"
        messages.append("signature_timestamp_invalid")
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
    elif after_last:
        indication, sub = TOTAL_FAILED, "FORMAT_FAILURE"
        messages.extend(after_last)
    elif not status.trusted:
        indication = INDETERMINATE
        problem = status.trust_problem_indic
        sub = str(getattr(problem, "name", problem)) if problem else "NO_CERTIFICATE_CHAIN_FOUND"
        messages.append(_UNTRUSTED_REASONS.get(sub, "signing_certificate_untrusted"))
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
        revocation=_revocation(status, has_revinfo=contexts.has_revinfo, fetchers=fetchers),
        coverage=status.coverage.name if status.coverage is not None else None,
        modification_level=level.name if level is not None else None,
        messages=messages,
        validated_at=validated_at,
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
