"""Our own verification report types (not pyHanko's), stored as-is for audit and reports.

Shaped after ETSI EN 319 102-1: an indication per signature (TOTAL_PASSED, INDETERMINATE,
TOTAL_FAILED) with a sub-indication, and the JSON of DESIGN.md §6 ``ValidationReport``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from dataclasses import field as dc_field
from typing import Any

__all__ = ["SignatureReport", "SignerInfo", "ValidationReport", "Verdict"]

TOTAL_PASSED = "TOTAL_PASSED"
INDETERMINATE = "INDETERMINATE"
TOTAL_FAILED = "TOTAL_FAILED"


@dataclass(frozen=True)
class SignerInfo:
    """Who the signing certificate names."""

    name: str
    subject: str
    serial: str
    issuer: str
    organization_identifier: str | None = None
    #: The certificate's validity (ISO 8601), shown beside the signer.
    valid_from: str | None = None
    valid_to: str | None = None


@dataclass(frozen=True)
class SignatureReport:
    """The verdict on one signature."""

    field: str
    kind: str  # personal | organization | unknown
    signer: SignerInfo | None
    signing_time: str | None
    timestamp_time: str | None
    indication: str
    sub_indication: str | None
    intact: bool
    trusted: bool
    revocation: str  # good | revoked | unknown | not_checked
    coverage: str | None
    modification_level: str | None
    messages: list[str] = dc_field(default_factory=list)
    #: When the certificate was judged: ``None`` for now, else the trusted time stamp's time
    #: (a certificate that expired after a time-stamped signature).
    validated_at: str | None = None

    @property
    def passed(self) -> bool:
        """Whether this signature is TOTAL_PASSED."""
        return self.indication == TOTAL_PASSED

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SignatureReport:
        """A signature report as :meth:`ValidationReport.as_dict` stored it."""
        values = {f.name: data[f.name] for f in fields(cls) if f.name in data}
        signer = data.get("signer")
        values["signer"] = SignerInfo(**_known(SignerInfo, signer)) if signer else None
        values["messages"] = list(data.get("messages") or [])
        values.setdefault("indication", TOTAL_FAILED)
        for name in ("field", "kind", "revocation"):
            values.setdefault(name, "unknown")
        for name in ("signing_time", "timestamp_time", "sub_indication", "coverage"):
            values.setdefault(name, None)
        values.setdefault("modification_level", None)
        values.setdefault("intact", False)
        values.setdefault("trusted", False)
        return cls(**values)


@dataclass(frozen=True)
class Verdict:
    """A report in brief, for lists: valid, or the first problem's indication."""

    valid: bool
    indication: str


@dataclass(frozen=True)
class ValidationReport:
    """The verdict on a whole PDF (DESIGN.md §6)."""

    valid: bool
    signatures: list[SignatureReport]
    #: ``signed``, ``not_signed`` or ``unreadable`` (the file could not be parsed at all).
    status: str = "signed"
    messages: list[str] = dc_field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, as the API returns it and the database stores it."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ValidationReport:
        """The report :meth:`as_dict` stored (``from_dict(r.as_dict()) == r``)."""
        return cls(
            valid=bool(data.get("valid")),
            signatures=[SignatureReport.from_dict(s) for s in data.get("signatures") or []],
            status=str(data.get("status") or "signed"),
            messages=list(data.get("messages") or []),
        )

    def summary(self) -> Verdict:
        """Valid (TOTAL_PASSED), or the indication of the first signature that did not pass
        (TOTAL_FAILED when none did but the document is still not valid)."""
        if self.valid:
            return Verdict(True, TOTAL_PASSED)
        failed = next((s for s in self.signatures if not s.passed), None)
        return Verdict(False, failed.indication if failed else TOTAL_FAILED)

    def passed_kinds(self) -> set[str]:
        """The kinds (personal, organization) of the signatures that passed."""
        return {s.kind for s in self.signatures if s.passed}

    def reasons(self) -> list[str]:
        """Every reason code: each failed signature's (or its sub-indication), then the
        document's."""
        out: list[str] = []
        for signature in self.signatures:
            if not signature.passed:
                out.extend(signature.messages or [signature.sub_indication or signature.indication])
        return out + list(self.messages)


def _known(kind: type, data: Mapping[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(kind)}
    return {k: v for k, v in data.items() if k in names}
