"""Finding the signature block and the number and date gaps in a page's real text (PDFium)."""

from __future__ import annotations

import io

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from pki.forms import Align, FormChange, TextField, text_fields_in
from pki.layout import find_date, find_number, find_signature_block, page_text
from pki.pdf import PdfRefused
from tests.data.samples import make_pdf
from tests.data.templates import decision_pdf

A4_HEIGHT = 841.89


def test_the_personal_signature_goes_under_the_position_and_above_the_name() -> None:
    page = page_text(decision_pdf(), [0])[0]
    box = find_signature_block(page, ["Chủ tịch"], name="Nguyễn Văn Tỉnh")
    assert box is not None
    left, bottom, right, top = box
    # "CHỦ TỊCH" is drawn centred on x = 440 with its baseline 538 pt from the top, the name
    # with its baseline 646 pt from the top.
    assert abs((left + right) / 2 - 440) < 3
    assert A4_HEIGHT - 540 - 5 < top < A4_HEIGHT - 538
    assert bottom > A4_HEIGHT - 646 + 10  # above the name's letters
    assert right - left == 200


def test_a_deputy_signs_under_his_own_line_not_under_kt_chu_tich() -> None:
    page = page_text(decision_pdf(block=("KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH")), [0])[0]
    deputy = find_signature_block(page, ["Phó Chủ tịch"])
    assert deputy is not None
    # The exact line wins; for a plain "Chủ tịch" the lowest line that ends with it.
    plain = find_signature_block(page, ["Chủ tịch"])
    assert plain is not None and plain[3] == deputy[3]
    # Under "PHÓ CHỦ TỊCH" (baseline 538 pt from the top), not under "KT. CHỦ TỊCH" (520).
    assert A4_HEIGHT - 538 - 6 < deputy[3] < A4_HEIGHT - 538


def test_no_block_and_no_room_give_no_box() -> None:
    assert find_signature_block(page_text(decision_pdf(), [0])[0], ["Giám đốc"]) is None
    appendix = page_text(decision_pdf(appendix_pages=1), [-1])[0]
    assert appendix.index == 1
    assert find_signature_block(appendix, ["Chủ tịch"]) is None


def test_the_number_gap_is_between_the_colon_and_the_slash() -> None:
    slot = find_number(page_text(decision_pdf(), [0])[0])
    assert slot is not None
    assert slot.size == 13
    assert 85 < slot.box[0] < slot.box[2] < 140
    # Without a gap wide enough for two digits, nothing is written over the text.
    assert find_number(page_text(decision_pdf(number_line="Số: /QĐ-UBND"), [0])[0]) is None
    assert find_number(page_text(decision_pdf(number_line=""), [0])[0]) is None


def test_the_date_gaps_and_a_year_printed_already() -> None:
    found = find_date(page_text(decision_pdf(), [0])[0])
    assert found is not None and found.year is not None
    assert found.day.box[2] < found.month.box[0] < found.month.box[2] < found.year.box[0]
    typed = find_date(
        page_text(decision_pdf(date_line="Phú Thọ, ngày      tháng      năm 2026"), [0])[0]
    )
    assert typed is not None and typed.year is None
    assert find_date(page_text(decision_pdf(date_line="Phú Thọ, ngày 5 tháng 2"), [0])[0]) is None


def test_page_text_refuses_what_pdfium_cannot_read() -> None:
    with pytest.raises(PdfRefused) as broken:
        page_text(b"%PDF-1.7\nnot a pdf", [0])
    assert broken.value.reason == "broken"
    with pytest.raises(PdfRefused) as missing:
        page_text(make_pdf(2), [2])
    assert missing.value.reason == "malformed"
    assert [p.index for p in page_text(make_pdf(3), [0, -1])] == [0, 2]


def test_fields_are_added_empty_and_filled_later() -> None:
    def revised(data: bytes, change: FormChange) -> bytes:
        writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
        change.apply(writer)
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()

    added = revised(
        make_pdf(),
        FormChange(add=(TextField("SoVanBan", 0, (90, 700, 130, 717), 13, Align.RIGHT),)),
    )
    assert text_fields_in(added) == {"SoVanBan": ""}
    filled = revised(added, FormChange(fill=(("SoVanBan", "07"), ("Khac", "x"))))
    assert text_fields_in(filled) == {"SoVanBan": "07"}
    assert text_fields_in(make_pdf()) == {}


def _with_form(form: generic.PdfObject) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(decision_pdf()), strict=False)
    writer.root[generic.NameObject("/AcroForm")] = form
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


BROKEN_FORMS = {
    "fields-a-name": generic.DictionaryObject(
        {generic.NameObject("/Fields"): generic.NameObject("/X")}
    ),
    "form-a-number": generic.NumberObject(7),
}


def test_a_malformed_form_is_refused_not_rewritten() -> None:
    for form in BROKEN_FORMS.values():
        with pytest.raises(ValueError):
            text_fields_in(_with_form(form))
    odd = generic.DictionaryObject(
        {generic.NameObject("/Fields"): generic.ArrayObject([generic.NumberObject(3)])}
    )
    assert text_fields_in(_with_form(odd)) == {}
