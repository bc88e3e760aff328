"""The shared attack corpus, verdict by verdict against its MANIFEST (path: DOCEXCHANGE_CORPUS).

Each file is verified twice: with the corpus's own roots trusted ("trusted*", as the MANIFEST
baseline did), to compare with the expected verdict; and with our server's roots, where no
foreign file may be valid. Revocation is not fetched online here, so the verdicts do not
depend on whether the test machine reaches the upstream PKIs.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation.dss import DocumentSecurityStore

from docexchange.services.container import Services
from docexchange.services.verification import verify_document
from pki.isolation import IsolatedVerifier, Limits
from pki.report import INDETERMINATE, TOTAL_FAILED, TOTAL_PASSED, ValidationReport
from tests.corpus.expectations import (
    ATTACK,
    EXCEPTIONS,
    EXPECTED,
    EXPECTED_INDETERMINATE,
    EXPIRED_NO_TIMESTAMP,
    ROOT_NOT_IN_CORPUS,
    UNEXPLAINED_CHANGE,
    UNSIGNED,
    VALID,
    WEAK_ALGORITHM,
)
from tests.corpus.files import corpus_dir, read_corpus

README = Path(__file__).resolve().parents[2] / "README.md"
TRUST_ONLY = {"NO_CERTIFICATE_CHAIN_FOUND", "CERTIFICATE_CHAIN_GENERAL_FAILURE"}


def manifest_pdfs() -> set[str]:
    """The PDF paths the MANIFEST's tables list (section heading + first cell)."""
    found, section = set(), None
    for line in (corpus_dir() / "MANIFEST.md").read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^## (\S+)/\s", line)
        if heading:
            section = heading.group(1)
        elif section and line.startswith("| `"):
            name = line.split("`")[1]
            if name.endswith(".pdf"):
                found.add(f"{section}/{name}")
    return found


def _self_signed(data: bytes) -> list[asn1_x509.Certificate]:
    """The roots of "trusted*": every self-signed certificate in the signatures, time stamps
    and DSS of a file (what a relying party that trusts the signer's root would hold)."""
    found: dict[bytes, asn1_x509.Certificate] = {}

    def add(choice: object) -> None:
        cert = getattr(choice, "chosen", choice)
        if isinstance(cert, asn1_x509.Certificate) and cert.subject == cert.issuer:
            found[cert.sha256] = cert

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        try:
            for cert in DocumentSecurityStore.read_dss(reader).certs.values():
                add(cert)
        except Exception:
            pass
        for signature in reader.embedded_signatures:
            for cert in signature.signed_data["certificates"] or []:
                add(cert)
            for attribute in signature.signer_info["unsigned_attrs"] or []:
                if attribute["type"].native == "signature_time_stamp_token":
                    for token in attribute["values"]:
                        for cert in token["content"]["certificates"] or []:
                            add(cert)
    except Exception:
        pass  # the verifier itself must cope with whatever this could not read
    return list(found.values())


@pytest.fixture(scope="module")
def verifier() -> Iterator[IsolatedVerifier]:
    pool = IsolatedVerifier(Limits(seconds=20, fetch_online=False))
    yield pool
    pool.close()


def test_the_expectations_cover_exactly_the_manifest() -> None:
    listed = manifest_pdfs()
    assert len(listed) >= 100
    assert set(EXPECTED) == listed, "a MANIFEST row has no expected verdict here, or the reverse"
    on_disk = {p.relative_to(corpus_dir()).as_posix() for p in corpus_dir().rglob("*.pdf")}
    assert listed == on_disk


def test_every_exception_is_explained_in_the_readme() -> None:
    readme = README.read_text(encoding="utf-8")
    for path, (group, _) in EXPECTED.items():
        if group in EXCEPTIONS:
            assert f"`{path}`" in readme, f"{path} ({group}) is not listed in the README"


def _check(report: ValidationReport, group: str, detail: str | None) -> None:
    signatures = report.signatures
    indications = {s.indication for s in signatures}
    subs = {s.sub_indication for s in signatures if s.sub_indication}
    assert not any("verification_" in m for m in report.messages), "hit the time/memory limit"
    if group == VALID:
        assert report.status == "signed" and indications == {TOTAL_PASSED}
        return
    # Nothing else may pass as a whole.
    assert not (report.status == "signed" and indications == {TOTAL_PASSED})
    if group == ATTACK:
        assert report.status in {"unreadable", "not_signed"} or TOTAL_FAILED in indications
    elif group == EXPECTED_INDETERMINATE:
        assert report.status == "signed" and TOTAL_PASSED not in indications
        assert detail in subs
    elif group == UNSIGNED:
        assert report.status in {"unreadable", "not_signed"} and not signatures
    elif group == UNEXPLAINED_CHANGE:
        failed = [s for s in signatures if s.indication == TOTAL_FAILED]
        assert failed and all(s.intact for s in signatures)
        assert all(
            s.modification_level == "OTHER" and s.messages == ["changed_after_signing"]
            for s in failed
        )
    else:
        allowed = {
            WEAK_ALGORITHM: {"CRYPTO_CONSTRAINTS_FAILURE"},
            EXPIRED_NO_TIMESTAMP: {"OUT_OF_BOUNDS_NO_POE"} | TRUST_ONLY,
            ROOT_NOT_IN_CORPUS: TRUST_ONLY,
        }[group]
        assert report.status == "signed" and TOTAL_FAILED not in indications
        assert INDETERMINATE in indications and subs <= allowed
        assert all(s.intact for s in signatures)
        if group != ROOT_NOT_IN_CORPUS:
            assert subs & (allowed - TRUST_ONLY)


@pytest.mark.parametrize("path", sorted(EXPECTED))
def test_each_corpus_pdf_gets_its_expected_verdict(verifier: IsolatedVerifier, path: str) -> None:
    data = read_corpus(path)
    report = verifier.verify(data, roots=_self_signed(data))
    group, detail = EXPECTED[path]
    try:
        _check(report, group, detail)
    except AssertionError as exc:
        summary = [(s.field, s.indication, s.sub_indication, s.messages) for s in report.signatures]
        raise AssertionError(f"{path}: expected {group}; got {report.status} {summary}") from exc


def test_no_corpus_pdf_is_valid_for_our_roots(services: Services) -> None:
    """Through the server's own path (our trust anchors, worker pool): nothing foreign passes."""
    for path in sorted(EXPECTED):
        report = verify_document(read_corpus(path), services=services)
        assert report.valid is False, path
        assert report.status in {"signed", "not_signed", "unreadable"}
        assert not any(s.indication == TOTAL_PASSED for s in report.signatures), path
