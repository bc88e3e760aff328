"""Stamps where NĐ 30 puts them, the number and date written into the document's own gaps.

A decision drawn as the template shows it (tests.data.templates) is signed and issued through
the API with real tokens; the result is checked by our verifier, by pyHanko's validator and
modification analysis, by poppler's ``pdfsig``, and by looking: poppler's rendering of the
page against a reference picture kept in ``tests/data/renders`` (``DX_WRITE_RENDERS=1``
writes them afresh; look at them before committing).
"""

from __future__ import annotations

import io
import os
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from PIL import Image, ImageChops
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature

from docexchange.services.container import Services
from docexchange.services.verification import verify_document
from pki.forms import text_fields_in
from tests.clock import office_at, vn
from tests.data.templates import decision_pdf
from tests.pdfsig import pdfsig
from tests.web.test_documents import _png, _validation_context, signed_and_issued

pytestmark = pytest.mark.usefixtures("signing_tokens", "issued_on")

RENDERS = Path(__file__).parent.parent / "data" / "renders"
ISSUED_ON = date(2027, 2, 5)
A4_HEIGHT = 841.89


def _issued(client: FlaskClient, as_user: Any, pdf: bytes) -> tuple[dict[str, Any], bytes]:
    body = signed_and_issued(client, as_user, pdf=pdf)
    data: bytes = client.get(
        f"/api/v1/documents/{body['id']}/file", headers=as_user("pt.vanthu")
    ).data
    return body, data


@pytest.fixture
def issued_on(services: Services) -> Iterator[None]:
    """The whole test at 09:30 on 5 February 2027, Vietnam time (day and month below 10)."""
    with office_at(services, vn(ISSUED_ON, 9, 30)):
        yield


def _boxes(pdf: bytes) -> list[tuple[int, tuple[float, ...]]]:
    """Page index and box of each signature, in signing order."""
    reader = PdfFileReader(io.BytesIO(pdf))
    pages = [
        reader.find_page_for_modification(i)[0].idnum
        for i in range(reader.root["/Pages"]["/Count"])
    ]
    found = []
    for embedded in reader.embedded_signatures:
        field = embedded.sig_field
        found.append(
            (pages.index(field.raw_get("/P").idnum), tuple(float(v) for v in field["/Rect"]))
        )
    return found


def _checked_everywhere(pdf: bytes, services: Services, tmp_path: Path) -> None:
    report = verify_document(pdf, services=services)
    assert report.valid is True, report.as_dict()
    context = _validation_context(services)
    personal, organisation = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    first = validate_pdf_signature(personal, context)
    assert first.intact and first.valid and first.trusted, first.summary()
    # Issuing filled the fields the leader's revision laid: form filling, nothing more.
    assert first.modification_level is not None
    assert first.modification_level <= ModificationLevel.FORM_FILLING
    assert validate_pdf_signature(organisation, context).bottom_line
    checked = pdfsig(pdf, services, tmp_path)
    assert checked.count("Signature Validation: Signature is Valid.") == 2, checked


def _render(pdf: bytes, tmp_path: Path) -> Image.Image:
    path = tmp_path / "issued.pdf"
    path.write_bytes(pdf)
    args = ["pdftoppm", "-r", "50", "-f", "1", "-l", "1", "-gray", "-png", str(path)]
    out = subprocess.run(args, capture_output=True, check=True, timeout=60).stdout
    return Image.open(io.BytesIO(out)).convert("L")


def _looks_like(picture: Image.Image, name: str) -> None:
    """``picture`` matches the reference ``name`` but for a few pixels (times, anti-aliasing)."""
    reference = RENDERS / f"{name}.png"
    if os.environ.get("DX_WRITE_RENDERS"):
        RENDERS.mkdir(parents=True, exist_ok=True)
        picture.save(reference)
    kept = Image.open(reference).convert("L")
    assert kept.size == picture.size
    diff = ImageChops.difference(kept, picture).point(lambda v: 255 if v > 60 else 0)
    changed = diff.histogram()[255]
    assert changed < picture.size[0] * picture.size[1] * 0.004, f"{name}: {changed} pixels differ"


def test_the_number_and_date_go_into_the_gaps_and_the_stamps_into_the_block(
    client: FlaskClient, as_user: Any, services: Services, tmp_path: Path
) -> None:
    body, pdf = _issued(client, as_user, decision_pdf(appendix_pages=1))
    assert body["number"] == "01/QĐ-UBND"
    assert text_fields_in(pdf) == {
        "SoVanBan": "01",
        "NgayBanHanh": "05",
        "ThangBanHanh": "02",
        "NamBanHanh": "2027",
    }
    (personal_page, personal), (seal_page, seal) = _boxes(pdf)
    # On the decision's page, not the appendix after it; under "CHỦ TỊCH", centred on it.
    assert personal_page == seal_page == 0
    assert abs((personal[0] + personal[2]) / 2 - 440) < 3
    assert A4_HEIGHT - 545 < personal[3] < A4_HEIGHT - 538
    # A text-only seal beside it, not over it.
    assert seal[2] <= personal[0] and seal[1] == personal[1]
    _checked_everywhere(pdf, services, tmp_path)
    _looks_like(_render(pdf, tmp_path), "decision-text-stamps")


def test_with_images_the_seal_overlaps_a_third_of_the_signature_and_no_text_covers_them(
    client: FlaskClient, as_user: Any, services: Services, tmp_path: Path
) -> None:
    admin = as_user("admin")
    for path, colour in (
        ("/api/v1/users/pt.lanhdao/signature-image", (20, 40, 200, 255)),
        ("/api/v1/units/000.00.00.H45/seal-image", (210, 20, 20, 255)),
    ):
        put = client.put(path, data=_png(colour), headers={**admin, "Content-Type": "image/png"})
        assert put.status_code == 200
    _, pdf = _issued(client, as_user, decision_pdf())
    assert text_fields_in(pdf)["SoVanBan"] == "01"
    (_, personal), (_, seal) = _boxes(pdf)
    third = personal[0] + (personal[2] - personal[0]) / 3
    assert seal[0] < personal[0] < seal[2] and abs(seal[2] - third) < 1.5
    _checked_everywhere(pdf, services, tmp_path)
    _looks_like(_render(pdf, tmp_path), "decision-image-stamps")


def test_without_a_number_line_the_seal_carries_the_number_and_the_page_says_so(
    client: FlaskClient, as_user: Any, services: Services, tmp_path: Path
) -> None:
    body, pdf = _issued(client, as_user, decision_pdf(number_line=""))
    fields = text_fields_in(pdf)
    assert "SoVanBan" not in fields and fields["NgayBanHanh"] == "05"
    path = tmp_path / "issued.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, timeout=60
    ).stdout.decode()
    assert "Số: 01/QĐ-UBND" in text
    _checked_everywhere(pdf, services, tmp_path)
    from tests.web.test_ui import _login

    _login(client, "pt.vanthu")
    page = client.get(f"/documents/{body['id']}").get_data(as_text=True)
    assert "Số văn bản chưa được điền vào nội dung văn bản" in page, page


def test_a_malformed_form_is_refused_at_upload(client: FlaskClient, as_user: Any) -> None:
    """pyHanko would fail an assertion adding the signature field to it: refused up front."""
    from tests.unit.test_layout import BROKEN_FORMS, _with_form
    from tests.web.test_documents import upload

    for form in BROKEN_FORMS.values():
        answer = upload(client, as_user("pt.vanthu"), _with_form(form))
        assert answer.status_code == 422, answer.get_json()
        assert answer.get_json()["error"]["code"] == "pdf_malformed"
