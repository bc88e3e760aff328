"""The verification report keeps its type across storage: from_dict(as_dict()) is the same."""

from __future__ import annotations

from pki.report import (
    INDETERMINATE,
    TOTAL_FAILED,
    TOTAL_PASSED,
    SignatureReport,
    SignerInfo,
    ValidationReport,
    Verdict,
)


def _signature(kind: str, indication: str, messages: list[str] | None = None) -> SignatureReport:
    return SignatureReport(
        field=f"{kind}1",
        kind=kind,
        signer=SignerInfo(name="Nguyễn Văn Tỉnh", subject="CN=…", serial="1f", issuer="CN=CA"),
        signing_time="2027-03-15T09:00:00+07:00",
        timestamp_time=None,
        indication=indication,
        sub_indication=None if indication == TOTAL_PASSED else "FORMAT_FAILURE",
        intact=True,
        trusted=indication != INDETERMINATE,
        revocation="good",
        coverage="ENTIRE_REVISION",
        modification_level="NONE",
        messages=messages or [],
        validated_at=None,
    )


def test_a_stored_report_reads_back_equal_and_sums_up_in_one_place() -> None:
    report = ValidationReport(
        valid=False,
        signatures=[
            _signature("personal", TOTAL_PASSED),
            _signature("organization", TOTAL_FAILED, ["drawing_changed_after_signing"]),
        ],
        messages=["no_valid_organisation_signature"],
    )
    again = ValidationReport.from_dict(report.as_dict())
    assert again == report
    assert again.summary() == Verdict(False, TOTAL_FAILED)
    assert again.passed_kinds() == {"personal"}
    assert again.reasons() == ["drawing_changed_after_signing", "no_valid_organisation_signature"]
    valid = ValidationReport(valid=True, signatures=[_signature("personal", TOTAL_PASSED)])
    assert valid.summary() == Verdict(True, TOTAL_PASSED)


def test_an_old_or_partial_stored_report_still_reads() -> None:
    """Reports stored before a field existed (``validated_at``) or cut short read back."""
    stored = {"valid": False, "signatures": [{"kind": "personal", "indication": INDETERMINATE}]}
    report = ValidationReport.from_dict(stored)
    assert report.status == "signed" and report.signatures[0].signer is None
    assert report.summary() == Verdict(False, INDETERMINATE)
    assert report.reasons() == [INDETERMINATE]
    assert ValidationReport.from_dict({}).summary() == Verdict(False, TOTAL_FAILED)
