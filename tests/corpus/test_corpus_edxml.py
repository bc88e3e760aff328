"""edXML against the outside world: the national axis's sample packages parse as written,
and every hostile XML file of the corpus is refused (conformance suite: DOCEXCHANGE_CORPUS).

The same shapes, written by the project itself, are exercised everywhere by
``tests/unit/test_edxml.py``.
"""

from __future__ import annotations

import time
from datetime import date

import pytest

from docexchange.envelopes import edxml
from docexchange.errors import InvalidInput
from tests.corpus.files import corpus_dir, read_corpus

pytestmark = pytest.mark.conformance

SAMPLES = "edxml-samples"


def _sample(name: str) -> edxml.DocumentPackage | edxml.StatusMessage:
    return edxml.parse_package(read_corpus(f"{SAMPLES}/{name}"))


def test_the_new_document_sample_reads_as_written() -> None:
    package = _sample("edoc_new.edxml")
    assert isinstance(package, edxml.DocumentPackage)
    assert package.sender.organ_id == "000.00.00.A80"
    assert [r.organ_id for r in package.recipients] == ["28.22.H17"]
    assert any("28.22.H17" in p for p in package.problems)  # reported, not fatal
    assert package.document_id == "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT"
    assert (package.code_number, package.code_notation) == ("74fass22", "VPCP-TTĐT")
    assert package.promulgation_date == date(2019, 1, 16)
    assert (package.type_code, package.type_name) == (1, "Công văn")
    assert package.subject == "V/v kết nối, liên thông phần mềm quản lý văn bản"
    assert package.signer_name == "Nguyen Thanh Phuc"
    assert package.signer_competence == "TL. BO TRUONG"
    assert package.business.doc_type == 0 and package.business.paper is False
    assert package.business.staff == "Nguyễn Thị Ngọc Trâm"
    [attachment] = package.attachments
    assert attachment.content_type == "application/zip" and attachment.data[:2] == b"PK"
    assert package.to_places and package.trace[0][0] == "000.00.00.G22"


def test_every_document_sample_parses_with_its_business_type() -> None:
    kinds = {
        "dc0bdef0-c7a3-4aaf-b717-777303442973.edxml": 0,
        "edoc_revocation.edxml": 1,
        "edoc_update.edxml": 2,
        "edoc_replacement.edxml": 3,
    }
    for name, kind in kinds.items():
        package = _sample(name)
        assert isinstance(package, edxml.DocumentPackage), name
        assert package.business.doc_type == kind, name
        assert package.sender.organ_id and package.subject, name
    replacement = _sample("edoc_replacement.edxml")
    assert isinstance(replacement, edxml.DocumentPackage)
    replaced = replacement.business.replaced
    assert replaced  # the sample lists the same replacement twice
    assert set(replaced) == {
        ("000.00.00.G22,2014/01/30,7806/VPCP-TTĐT", ("000.00.00.H41", "000.00.00.H14"))
    }


def test_the_malformed_sample_is_refused_with_where_it_breaks() -> None:
    """``edoc.edxml`` is not well-formed (an ``edXML:From`` opened twice, closed once): we
    refuse it rather than guess its structure (README, "Exchange")."""
    with pytest.raises(InvalidInput) as caught:
        _sample("edoc.edxml")
    assert caught.value.code == "edxml_refused"
    assert "line 74" in caught.value.params["reason"]


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("status_inbox__01.edxml", "01"),
        ("status_rejection_02.edxml", "02"),
        ("status_acceptance_03.edxml", "03"),
        ("status_assignment_04.edxml", "04"),
        ("status_processing_05.edxml", "05"),
        ("status_finish_06.edxml", "06"),
        ("status_cancellation_13.edxml", "13"),
        ("status_change-acceptance_15.edxml", "15"),
        ("status_change-rejection_16.edxml", "16"),
    ],
)
def test_every_status_sample_parses(name: str, code: str) -> None:
    message = _sample(name)
    assert isinstance(message, edxml.StatusMessage)
    assert message.status_code == code
    assert message.response_document_id == "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT"
    assert message.response_code == "7816/VPCP-TTĐT"
    assert message.sender.organ_id and message.timestamp is not None
    assert message.staff


def test_hostile_xml_is_refused_quickly_and_fetches_nothing() -> None:
    """Every XML-family file of the corpus (entity bombs, external entities, DTDs, XSLT):
    none is an edXML package we accept; each is refused with a clear error in milliseconds."""
    files = [
        p
        for p in sorted((corpus_dir() / "xml").rglob("*"))
        if p.is_file() and p.suffix in {".xml", ".dtd", ".xsd", ".xsl"}
    ]
    assert len(files) >= 90
    for path in files:
        start = time.perf_counter()
        with pytest.raises(InvalidInput) as caught:
            edxml.parse_package(read_corpus(path.relative_to(corpus_dir()).as_posix()))
        assert caught.value.code == "edxml_refused", path
        assert time.perf_counter() - start < 2, path  # not a benchmark: a hang guard


def test_sample_paths_exist() -> None:
    assert (corpus_dir() / SAMPLES / "edoc_new.edxml").is_file()
