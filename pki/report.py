"""Our own verification report types (not pyHanko's), stored as-is for audit and reports.

Shaped after ETSI EN 319 102-1: an indication per signature (TOTAL_PASSED, INDETERMINATE,
TOTAL_FAILED) with a sub-indication, and the JSON of DESIGN.md §6 ``ValidationReport``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from dataclasses import field as dc_field
from typing import Any

__all__ = ["SignatureReport", "SignerInfo", "ValidationReport"]

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
