"""Sample PDFs made at test time (no third-party files in the repository)."""

from __future__ import annotations


def make_pdf(pages: int = 1, *, text: str = "Cong van thu nghiem", padding: int = 0) -> bytes:
    """A small valid PDF with ``pages`` A4 pages of Helvetica text.

    :param padding: bytes of an incompressible stream object to make the file larger.
    """
    objects: list[bytes] = []
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(pages))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode())
    font_ref = 3 + 2 * pages
    for i in range(pages):
        content = f"BT /F1 14 Tf 72 760 Td ({text} - trang {i + 1}) Tj ET".encode()
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            f"/Resources << /Font << /F1 {font_ref} 0 R >> >> /Contents {4 + 2 * i} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    if padding:
        blob = bytes((i * 7919 + 13) % 251 for i in range(padding))
        objects.append(b"<< /Length %d >>\nstream\n" % len(blob) + blob + b"\nendstream")
    return _assemble(objects)


def encrypted_pdf() -> bytes:
    """MINIMAL_PDF behind a user password (uploads of such files are refused)."""
    import io

    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.pdf_utils.writer import copy_into_new_writer

    writer = copy_into_new_writer(PdfFileReader(io.BytesIO(MINIMAL_PDF)))
    writer.encrypt("owner-pass", "user-pass")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_form_pdf(amount: str = "1.000.000 VND") -> bytes:
    """One A4 page with a filled text field ``so_tien`` drawn by its own appearance stream.

    The widget takes its font from the form's default resources (``/DR /Helv``), as forms
    made by office software do; the form does not ask viewers to redraw fields.
    """
    drawing = f"/Tx BMC q BT /Helv 12 Tf 0 g 2 6 Td ({amount}) Tj ET Q EMC".encode()
    content = b"BT /F1 14 Tf 72 760 Td (Quyet dinh chi tien) Tj 0 -50 Td (So tien:) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [5 0 R] /DA (/Helv 12 Tf 0 g)"
        b" /DR << /Font << /Helv 4 0 R >> >> >> >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R"
        b" >> >> /Contents 7 0 R /Annots [5 0 R] >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (so_tien) /V (" + amount.encode() + b")"
        b" /Rect [200 700 400 724] /F 4 /P 3 0 R /AP << /N 6 0 R >> >>",
        b"<< /Type /XObject /Subtype /Form /BBox [0 0 200 24] /Resources << /Font << /Helv 4 0 R"
        b" >> >> /Length %d >>\nstream\n" % len(drawing) + drawing + b"\nendstream",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    return _assemble(objects)


def _assemble(objects: list[bytes]) -> bytes:
    """A classic PDF file (one cross-reference table) from the bodies of objects 1, 2, …"""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


MINIMAL_PDF = make_pdf()
