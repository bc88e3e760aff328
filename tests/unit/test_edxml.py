"""edXML: the axis samples parse, hostile XML is refused, what we build validates and reads back."""

from __future__ import annotations

import time
from datetime import date, datetime
from pathlib import Path

import pytest

from docexchange.envelopes import edxml
from docexchange.errors import InvalidInput
from tests.corpus.test_corpus import corpus_dir

SAMPLES = "edxml-samples"


def _sample(name: str) -> edxml.DocumentPackage | edxml.StatusMessage:
    return edxml.parse_package((corpus_dir() / SAMPLES / name).read_bytes())


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
            edxml.parse_package(path.read_bytes())
        assert caught.value.code == "edxml_refused", path
        assert time.perf_counter() - start < 2, path  # not a benchmark: a hang guard


def test_oversized_packages_are_refused_before_parsing() -> None:
    with pytest.raises(InvalidInput) as caught:
        edxml.parse_package(b"<" + b" " * (edxml.MAX_PACKAGE_BYTES + 1))
    assert caught.value.code == "edxml_too_large"


def _organ(code: str, name: str) -> edxml.Organ:
    return edxml.Organ(
        organ_id=code, name=name, in_charge=name, address="Phú Thọ", email="vt@phutho.gov.vn"
    )


def test_what_we_build_validates_and_reads_back() -> None:
    package = edxml.DocumentPackage(
        sender=_organ("000.00.00.H45", "UBND tỉnh Phú Thọ"),
        recipients=(_organ("000.21.12.H45", "UBND xã Chân Mộng"),),
        document_id="000.00.00.H45,2026/11/26,05/QĐ-UBND",
        code_number="05",
        code_notation="QĐ-UBND",
        place="Phú Thọ",
        promulgation_date=date(2026, 11, 26),
        type_code=2,
        type_name="Quyết định",
        subject='Về việc <thử> & "kiểm tra"',
        signer_competence="KT. CHỦ TỊCH",
        signer_position="Phó Chủ tịch",
        signer_name="Nguyễn Văn Tỉnh",
        priority=3,
        business=edxml.Business(staff="Văn thư", paper=True),
        attachments=(
            edxml.Attachment(
                content_id="cid:1",
                name="05-QD-UBND.pdf",
                content_type="application/pdf",
                data=b"%PDF-1.7 \x00\xff signed bytes",
            ),
        ),
    )
    data = edxml.build_document(package, now=datetime(2026, 11, 26, 9, 30))
    assert edxml.validate(data) == []
    assert b"<edXML:Bussiness>" in data and b"<AttachmentEncoded>" in data
    back = edxml.parse_package(data)
    assert isinstance(back, edxml.DocumentPackage)
    assert back.problems == ()
    assert back.subject == package.subject and back.business.paper is True
    assert back.attachments[0].data == package.attachments[0].data
    assert back.document_id == package.document_id and back.priority == 3

    status = edxml.StatusMessage(
        sender=_organ("000.21.12.H45", "UBND xã Chân Mộng"),
        response_organ_id="000.00.00.H45",
        response_code="05/QĐ-UBND",
        response_date=date(2026, 11, 26),
        response_document_id=package.document_id,
        status_code="03",
        description="Đã tiếp nhận",
        timestamp=datetime(2026, 11, 26, 10, 0, 5),
        staff="cm.vanthu",
    )
    status_data = edxml.build_status(status)
    assert edxml.validate(status_data) == []
    assert edxml.parse_package(status_data) == status


def test_the_schema_catches_what_breaks_our_rules() -> None:
    status = edxml.StatusMessage(
        sender=_organ("000.21.12.H45", "UBND xã Chân Mộng"),
        response_organ_id="28.22.H17",  # not an identifier code
        response_code="05/QĐ-UBND",
        response_date=None,
        response_document_id="x",
        status_code="07",  # not a status code
        description="",
        timestamp=None,
    )
    problems = edxml.validate(edxml.build_status(status))
    assert len(problems) == 2


def test_sample_paths_exist() -> None:
    assert (corpus_dir() / SAMPLES / "edoc_new.edxml").is_file()
    assert Path(edxml.XSD_PATH).is_file()
