"""Two attack classes after the last signature that pyHanko's own verdict lets through.

Crafted here, on documents our system issued (issue 12 §8). Verdicts side by side, as
the tests assert them:

- form defaults, white text · Type3 glyphs drawing ``1`` as ``5`` · another font: pyHanko
  alone rates the update LTA_UPDATES and the signature intact and valid; ``pdfsig`` (poppler
  22.12) says "Signature is Valid" and "Not total document signed"; poppler draws the page
  differently; docexchange: ``drawing_changed_after_signing``.
- an object, a whole unreferenced update, a comment — each closed by a copy of the file's own
  last ``startxref … %%EOF``: pyHanko alone sees no later revision and a valid signature;
  ``pdfsig``: "Signature is Valid", "Not total document signed"; docexchange:
  ``bytes_after_signed_document``.

The first class changes how form fields are drawn without touching a signed appearance: the
AcroForm's ``/DA``, ``/DR`` and ``/NeedAppearances`` are exempt from pyHanko's comparison,
and a viewer asked to redraw fields draws the signed value in the new font, colour or glyphs.
The second appends bytes no cross-reference section accounts for, ending with a copy of the
file's own last ``startxref … %%EOF``, so the last ``%%EOF`` looks untouched.
"""

from __future__ import annotations

import io
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from flask.testing import FlaskClient
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.dss import DocumentSecurityStore

from docexchange.services.container import Services
from docexchange.services.verification import verify_document
from tests.data.samples import make_form_pdf
from tests.pdfsig import pdfsig
from tests.web.test_documents import _validation_context, signed_and_issued

pytestmark = pytest.mark.usefixtures("signing_tokens")

N = generic.NameObject
Attack = Callable[[bytes], bytes]


def _issued_form(client: FlaskClient, as_user: Any) -> bytes:
    body = signed_and_issued(client, as_user, pdf=make_form_pdf("1.000.000 VND"))
    data: bytes = client.get(
        f"/api/v1/documents/{body['id']}/file", headers=as_user("pt.vanthu")
    ).data
    return data


def _font(base: str) -> generic.DictionaryObject:
    return generic.DictionaryObject(
        {N("/Type"): N("/Font"), N("/Subtype"): N("/Type1"), N("/BaseFont"): N(base)}
    )


def _glyph_swap(swap: dict[str, str]) -> generic.DictionaryObject:
    """A Type3 font whose glyph for each character draws another text (``1`` → ``5``)."""
    names = {32: "space", 46: "period", 48: "zero", 49: "one", 68: "D", 78: "N", 86: "V"}
    procs = generic.DictionaryObject()
    differences = generic.ArrayObject()
    for code, name in names.items():
        drawn = swap.get(chr(code), chr(code))
        procs[N("/" + name)] = generic.StreamObject(
            stream_data=f"600 0 d0 BT /H 1000 Tf 0 0 Td ({drawn}) Tj ET".encode()
        )
        differences += [generic.NumberObject(code), N("/" + name)]
    number = lambda *ns: generic.ArrayObject(generic.FloatObject(n) for n in ns)  # noqa: E731
    return generic.DictionaryObject(
        {
            N("/Type"): N("/Font"),
            N("/Subtype"): N("/Type3"),
            N("/FontBBox"): number(0, 0, 1000, 1000),
            N("/FontMatrix"): number(0.001, 0, 0, 0.001, 0, 0),
            N("/CharProcs"): procs,
            N("/Encoding"): generic.DictionaryObject({N("/Differences"): differences}),
            N("/FirstChar"): generic.NumberObject(32),
            N("/LastChar"): generic.NumberObject(86),
            N("/Widths"): number(*(600 if c in names else 0 for c in range(32, 87))),
            N("/Resources"): generic.DictionaryObject(
                {N("/Font"): generic.DictionaryObject({N("/H"): _font("/Helvetica")})}
            ),
        }
    )


def _redraw_fields(*, da: str | None = None, helv: Any = None) -> Attack:
    """An update that only touches the form's defaults and asks viewers to redraw fields."""

    def attack(pdf: bytes) -> bytes:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        raw = writer.root.raw_get("/AcroForm")
        acroform = raw.get_object()
        if da is not None:
            acroform[N("/DA")] = generic.pdf_string(da)
        if helv is not None:
            # Direct objects inside the form's /DR: pyHanko's diff finds no reference to vet.
            acroform["/DR"]["/Font"][N("/Helv")] = helv
        acroform[N("/NeedAppearances")] = generic.BooleanObject(True)
        if isinstance(raw, generic.IndirectObject):
            writer.mark_update(raw)
        else:
            writer.update_root()
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()

    return attack


def _last_startxref(pdf: bytes) -> bytes:
    return list(re.finditer(rb"startxref\s+\d+\s+%%EOF", pdf))[-1].group(0)


def _append(body: Callable[[bytes], bytes]) -> Attack:
    """Bytes after the end of the file, closed by a copy of its own last startxref/%%EOF."""
    return lambda pdf: pdf + b"\n" + body(pdf) + _last_startxref(pdf) + b"\n"


def _unreferenced_update(pdf: bytes) -> bytes:
    """A whole update (object, table, trailer) that the file's last startxref does not name."""
    size = int(re.findall(rb"/Size (\d+)", pdf)[-1])
    obj = b"%d 0 obj\n<< /Type /Annot /Subtype /FreeText /Rect [72 600 500 640]" % size
    obj += b" /Contents (So tien: 5.000.000.000 VND) /DA (/Helv 14 Tf 0 g) >>\nendobj\n"
    start = len(pdf) + 1
    table = b"xref\n%d 1\n%010d 00000 n \n" % (size, start)
    prev = int(re.findall(rb"startxref\s+(\d+)", pdf)[-1])
    return obj + table + b"trailer\n<< /Size %d /Prev %d >>\n" % (size + 1, prev)


DRAWING = [
    pytest.param(_redraw_fields(da="/Helv 12 Tf 1 g"), id="form-defaults-white-text"),
    pytest.param(_redraw_fields(helv=_glyph_swap({"1": "5"})), id="form-defaults-type3-glyphs"),
    pytest.param(_redraw_fields(helv=_font("/Courier-Bold")), id="form-defaults-other-font"),
]
APPENDED = [
    pytest.param(_append(lambda _: b"9999 0 obj\n<< /Type /Annot >>\nendobj\n"), id="object"),
    pytest.param(_append(_unreferenced_update), id="unreferenced-update"),
    pytest.param(_append(lambda _: b"% nothing to see\n"), id="comment"),
]


def _pyhanko_alone(pdf: bytes, services: Services) -> tuple[ModificationLevel | None, bool]:
    """pyHanko's own verdict on the last signature: modification level, and intact+valid."""
    signature = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[-1]
    status = validate_pdf_signature(signature, _validation_context(services))
    return status.modification_level, bool(status.intact and status.valid)


def _render(pdf: bytes, tmp_path: Path) -> bytes:
    path = tmp_path / "page.pdf"
    path.write_bytes(pdf)
    args = ["pdftoppm", "-r", "40", "-f", "1", "-l", "1", "-gray", str(path)]
    return subprocess.run(args, capture_output=True, check=True, timeout=60).stdout


@pytest.mark.parametrize("attack", DRAWING)
def test_an_update_that_redraws_signed_fields_fails_the_last_signature(
    client: FlaskClient, as_user: Any, services: Services, tmp_path: Path, attack: Attack
) -> None:
    issued = _issued_form(client, as_user)
    assert verify_document(issued, services=services).valid is True
    forged = attack(issued)
    # The attack is real: poppler draws the page differently, and pyHanko alone accepts it.
    assert _render(forged, tmp_path) != _render(issued, tmp_path)
    assert _pyhanko_alone(forged, services) == (ModificationLevel.LTA_UPDATES, True)
    assert "Signature is Valid." in pdfsig(forged, services, tmp_path)
    report = verify_document(forged, services=services)
    assert report.valid is False
    last = report.signatures[-1]
    assert (last.indication, last.sub_indication) == ("TOTAL_FAILED", "FORMAT_FAILURE")
    assert last.messages == ["drawing_changed_after_signing"]
    assert report.signatures[0].indication == "TOTAL_PASSED"


@pytest.mark.parametrize("attack", APPENDED)
def test_bytes_no_cross_reference_section_accounts_for_fail_the_last_signature(
    client: FlaskClient, as_user: Any, services: Services, tmp_path: Path, attack: Attack
) -> None:
    issued = _issued_form(client, as_user)
    forged = attack(issued)
    assert forged.rstrip().endswith(_last_startxref(issued))
    level, intact = _pyhanko_alone(forged, services)
    assert intact and level in (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES)
    assert "Not total document signed" in pdfsig(forged, services, tmp_path)
    report = verify_document(forged, services=services)
    assert report.valid is False
    assert report.signatures[-1].messages == ["bytes_after_signed_document"]


def test_whitespace_after_the_end_and_validation_data_are_not_attacks(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    """Good variants: trailing blank lines, and a later update that only adds DSS data."""
    issued = _issued_form(client, as_user)
    assert verify_document(issued + b"\r\n\n  \n", services=services).valid is True
    out = io.BytesIO(issued)
    out.seek(0, io.SEEK_END)
    intermediate = services.keys.ca.intermediate.public_bytes(serialization.Encoding.DER)
    DocumentSecurityStore.add_dss(
        out, None, certs=[asn1_x509.Certificate.load(intermediate)], force_write=True
    )
    updated = out.getvalue()
    assert len(updated) > len(issued) and updated.startswith(issued)
    assert verify_document(updated, services=services).valid is True
