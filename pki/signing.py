"""PAdES signing of PDFs with pyHanko: personal and organisation signatures.

Each signature is a new incremental revision, so an earlier signature stays intact and
pyHanko's modification analysis rates the later one as allowed.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.timestamps import TimeStamper

from pki.errors import SigningFailed

__all__ = ["Placement", "sign_pdf"]

logger = logging.getLogger(__name__)

@dataclass(frozen=True)
class Placement:
    """Where the visible signature box goes: page (-1 = last) and box in PDF points."""

    page: int = -1
    box: tuple[int, int, int, int] = (330, 60, 560, 140)


def sign_pdf(
    data: bytes,
    signer: signers.Signer,
    *,
    field_name: str,
    reason: str | None = None,
    location: str | None = None,
    timestamper: TimeStamper | None = None,
    placement: Placement | None = None,
    bytes_reserved: int | None = None,
) -> bytes:
    """Add one PAdES signature (B-B, or B-T with ``timestamper``) in a new revision.

    :param bytes_reserved: fixed size of the signature container; skips pyHanko's dry run.
    :raises SigningFailed: the PDF or the token could not be used.
    """
    where = placement or Placement()
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
        use_pades_lta=False,
    )
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
        out = signers.sign_pdf(
            writer,
            meta,
            signer=signer,
            timestamper=timestamper,
            new_field_spec=fields.SigFieldSpec(field_name, on_page=where.page, box=where.box),
            bytes_reserved=bytes_reserved,
        )
    except (SigningError, PdfError, ValueError, KeyError, TypeError) as exc:
        logger.warning("signing failed: %s", type(exc).__name__)
        raise SigningFailed(type(exc).__name__) from exc
    signed: bytes = out.getvalue()
    return signed
