"""edXML on packages the project writes itself: what we build validates against the XSD and
reads back; the QCVN 102 shapes of the national axis's samples (every status, a revocation, a
replacement) parse; hostile XML written here is refused. Reads no external file: the axis
samples and the corpus's hostile XML are the conformance suite's (``tests/corpus``).
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pytest

from docexchange.envelopes import edxml
from docexchange.errors import InvalidInput


def test_oversized_packages_are_refused_before_parsing() -> None:
    with pytest.raises(InvalidInput) as caught:
        edxml.parse_package(b"<" + b" " * (edxml.MAX_PACKAGE_BYTES + 1))
    assert caught.value.code == "edxml_too_large"


def _organ(code: str, name: str) -> edxml.Organ:
    return edxml.Organ(
        organ_id=code, name=name, in_charge=name, address="Phú Thọ", email="vt@phutho.gov.vn"
    )


DOCUMENT_ID = "000.00.00.H45,2026/11/26,05/QĐ-UBND"
PROVINCE = _organ("000.00.00.H45", "UBND tỉnh Phú Thọ")
COMMUNE = _organ("000.21.12.H45", "UBND xã Chân Mộng")


def sample_package(**changes: object) -> edxml.DocumentPackage:
    """A province's decision to two communes, forwarded once; ``changes`` replace fields."""
    package = edxml.DocumentPackage(
        sender=PROVINCE,
        recipients=(COMMUNE, _organ("000.22.12.H45", "UBND xã Minh Lương")),
        document_id=DOCUMENT_ID,
        code_number="05",
        code_notation="QĐ-UBND",
        place="Phú Thọ",
        promulgation_date=date(2026, 11, 26),
        type_code=2,
        type_name="Quyết định",
        subject="Về việc kết nối, liên thông phần mềm quản lý văn bản",
        signer_competence="TM. ỦY BAN NHÂN DÂN",
        signer_position="Chủ tịch",
        signer_name="Nguyễn Văn Tỉnh",
        priority=1,
        business=edxml.Business(staff="Nguyễn Thị Văn Thư"),
        attachments=(
            edxml.Attachment(
                content_id="cid:1",
                name="05-QD-UBND.pdf",
                content_type="application/pdf",
                data=b"%PDF-1.7 signed",
            ),
        ),
        to_places=("UBND xã Chân Mộng",),
        trace=(("000.00.00.H45", "2026/11/26 09:30:00"), ("000.00.12.H45", "2026/11/26 10:00:00")),
    )
    return replace(package, **changes)  # type: ignore[arg-type]


def test_what_we_build_validates_and_reads_back() -> None:
    package = sample_package(
        recipients=(COMMUNE,),
        subject='Về việc <thử> & "kiểm tra"',
        priority=3,
        business=edxml.Business(staff="Văn thư", paper=True),
        attachments=(
            replace(sample_package().attachments[0], data=b"%PDF-1.7 \x00\xff signed bytes"),
        ),
        trace=(),
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


def _round_trip(data: bytes) -> edxml.DocumentPackage | edxml.StatusMessage:
    assert edxml.validate(data) == []
    return edxml.parse_package(data)


def test_a_new_document_reads_back_as_written_with_its_trace() -> None:
    back = _round_trip(edxml.build_document(sample_package(), now=datetime(2026, 11, 26, 10, 0)))
    assert isinstance(back, edxml.DocumentPackage)
    assert back.sender.organ_id == "000.00.00.H45"
    assert [r.organ_id for r in back.recipients] == ["000.21.12.H45", "000.22.12.H45"]
    assert back.document_id == DOCUMENT_ID
    assert (back.code_number, back.code_notation) == ("05", "QĐ-UBND")
    assert back.promulgation_date == date(2026, 11, 26)
    assert (back.type_code, back.type_name) == (2, "Quyết định")
    assert (back.signer_competence, back.signer_name) == ("TM. ỦY BAN NHÂN DÂN", "Nguyễn Văn Tỉnh")
    assert back.business.doc_type == 0 and back.business.paper is False
    assert back.business.staff == "Nguyễn Thị Văn Thư"
    assert back.to_places == ("UBND xã Chân Mộng",)
    assert [hop[0] for hop in back.trace] == ["000.00.00.H45", "000.00.12.H45"]
    [attachment] = back.attachments
    assert attachment.data == b"%PDF-1.7 signed" and attachment.name == "05-QD-UBND.pdf"


@pytest.mark.parametrize(
    ("doc_type", "reason"),
    [(1, "Thu hồi văn bản"), (2, "Cập nhật văn bản"), (3, "Thay thế văn bản")],
)
def test_revocation_update_and_replacement_read_back(doc_type: int, reason: str) -> None:
    """The axis's business types: a revocation carries no file (no manifest, no attachment
    list); a replacement names the documents it replaces and for whom."""
    replaced = ((DOCUMENT_ID, ("000.21.12.H45", "000.22.12.H45")),) if doc_type == 3 else ()
    package = sample_package(
        document_id="000.00.00.H45,2026/11/27,06/QĐ-UBND" if doc_type == 3 else DOCUMENT_ID,
        business=edxml.Business(
            doc_type=doc_type, reason=reason, document_id=DOCUMENT_ID, replaced=replaced
        ),
        attachments=() if doc_type == 1 else sample_package().attachments,
    )
    data = edxml.build_document(package, now=datetime(2026, 11, 27, 8, 0))
    assert (b"<edXML:edXMLManifest" in data) is (doc_type != 1)
    back = _round_trip(data)
    assert isinstance(back, edxml.DocumentPackage)
    assert (back.business.doc_type, back.business.reason) == (doc_type, reason)
    assert back.business.document_id == DOCUMENT_ID
    assert back.business.replaced == replaced
    assert len(back.attachments) == (0 if doc_type == 1 else 1)


@pytest.mark.parametrize("code", ["01", "02", "03", "04", "05", "06", "13", "15", "16"])
def test_every_status_reads_back(code: str) -> None:
    status = edxml.StatusMessage(
        sender=COMMUNE,
        response_organ_id="000.00.00.H45",
        response_code="05/QĐ-UBND",
        response_date=date(2026, 11, 26),
        response_document_id=DOCUMENT_ID,
        status_code=code,
        description="Trả lại: sai thể thức" if code == "02" else "Đã xử lý",
        timestamp=datetime(2026, 11, 26, 10, 0, 5),
        staff="Đỗ Thị Chân",
        department="Văn phòng",
    )
    back = _round_trip(edxml.build_status(status))
    assert back == status


#: Hostile XML written here (the corpus holds more): each must be refused, fetch nothing and
#: take no time.
HOSTILE = {
    "billion laughs": b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<edXML:edXML xmlns:edXML="http://www.e-doc.vn/Schema/">&lol3;</edXML:edXML>""",
    "external entity (file)": b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<edXML:edXML xmlns:edXML="http://www.e-doc.vn/Schema/">&xxe;</edXML:edXML>""",
    "external entity (network)": b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY xxe SYSTEM "http://127.0.0.1:9/x">]>
<edXML:edXML xmlns:edXML="http://www.e-doc.vn/Schema/">&xxe;</edXML:edXML>""",
    "external DTD": b"""<?xml version="1.0"?>
<!DOCTYPE edXML SYSTEM "http://127.0.0.1:9/edxml.dtd">
<edXML:edXML xmlns:edXML="http://www.e-doc.vn/Schema/"/>""",
    "parameter entity": b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;]>
<edXML:edXML xmlns:edXML="http://www.e-doc.vn/Schema/"/>""",
    "lower-case doctype": b"""<?xml version="1.0"?>
<!doctype x [<!entity a "b">]><edXML:edXML xmlns:edXML="http://www.e-doc.vn/Schema/"/>""",
    "another root": b"""<?xml version="1.0"?><html><body>maintenance</body></html>""",
    "not XML": b"%PDF-1.7 not xml at all",
    "empty": b"",
    "an element opened twice": b"""<?xml version="1.0"?>
<edXML:edXML xmlns:edXML="http://www.e-doc.vn/Schema/"><edXML:edXMLEnvelope>
<edXML:edXMLHeader><edXML:MessageHeader><edXML:From><edXML:From>
<edXML:OrganId>000.00.00.H45</edXML:OrganId></edXML:From>
</edXML:MessageHeader></edXML:edXMLHeader></edXML:edXMLEnvelope></edXML:edXML>""",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_xml_written_here_is_refused_quickly(name: str) -> None:
    start = time.perf_counter()
    with pytest.raises(InvalidInput) as caught:
        edxml.parse_package(HOSTILE[name])
    assert caught.value.code == "edxml_refused", name
    assert time.perf_counter() - start < 2  # a hang guard, not a benchmark


def test_a_broken_package_is_refused_with_the_line_where_it_breaks() -> None:
    with pytest.raises(InvalidInput) as caught:
        edxml.parse_package(HOSTILE["an element opened twice"])
    assert "line 5" in caught.value.params["reason"]


def test_the_schema_file_is_shipped() -> None:
    assert Path(edxml.XSD_PATH).is_file()
