"""PAdES signing of PDFs with pyHanko: personal and organisation signatures.

Each signature is a new incremental revision, so an earlier signature stays intact and
pyHanko's modification analysis rates the later one as allowed.
"""

from __future__ import annotations

import functools
import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fontTools.ttLib import TTFont
from fontTools.ttLib.scaleUpem import scale_upem
from PIL import Image
from pyhanko import stamp
from pyhanko.pdf_utils.font.opentype import GlyphAccumulator, GlyphAccumulatorFactory
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.timestamps import TimeStamper

from pki.errors import SigningFailed

__all__ = ["DEFAULT_FONT", "Appearance", "Placement", "sign_pdf"]

logger = logging.getLogger(__name__)

#: A Unicode TrueType font embedded in appearances, so "Nguyễn", "Đoan Hùng" render
#: (the standard PDF fonts lose Vietnamese letters). DejaVu Serif carries every precomposed
#: Vietnamese letter (Liberation Serif relies on combining marks that pyHanko drops);
#: Debian package fonts-dejavu-core.
DEFAULT_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf")


@functools.cache
def _font_bytes(path: Path) -> bytes:
    """The font, rescaled to 1000 units per em.

    pyHanko writes glyph widths and kerning in font units where PDF expects thousandths of
    an em, so a TrueType font with 2048 units per em (Liberation, DejaVu) comes out with
    double spacing; rescaling the font once makes the two agree.
    """
    font = TTFont(io.BytesIO(path.read_bytes()))
    if font["head"].unitsPerEm != 1000:
        scale_upem(font, 1000)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


@dataclass(frozen=True)
class _MemoryFontFactory(GlyphAccumulatorFactory):
    """pyHanko's OpenType font factory, reading the font from memory.

    The stock factory opens the font file for every signature and never closes it; this one
    reads the file once and hands pyHanko an in-memory copy.
    """

    def create_font_engine(
        self, writer: BasePdfFileWriter, obj_stream: Any = None
    ) -> GlyphAccumulator:
        if obj_stream is None and writer.stream_xrefs and self.create_objstream_if_needed:
            obj_stream = writer.prepare_object_stream()  # type: ignore[no-untyped-call]
        return GlyphAccumulator(
            writer=writer,
            font_handle=io.BytesIO(_font_bytes(Path(self.font_file))),
            font_size=self.font_size,
            ot_script_tag=self.ot_script_tag,
            ot_language_tag=self.ot_language_tag,
            writing_direction=self.writing_direction,
            bcp47_lang_code=self.bcp47_lang_code,
            obj_stream=obj_stream,
        )


@dataclass(frozen=True)
class Appearance:
    """What the visible signature shows: lines of text, an optional PNG, the text colour."""

    lines: tuple[str, ...]
    image_png: bytes | None = None
    color: tuple[float, float, float] = (0.0, 0.0, 0.0)
    font: Path = DEFAULT_FONT
    font_size: int = 9

    def stamp_style(self) -> stamp.TextStampStyle:
        """The pyHanko stamp for this appearance."""
        background = PdfImage(Image.open(io.BytesIO(self.image_png))) if self.image_png else None
        return stamp.TextStampStyle(
            # pyHanko fills %(name)s fields in stamp text; a literal % must be doubled.
            stamp_text="\n".join(line.replace("%", "%%") for line in self.lines),
            text_box_style=TextBoxStyle(
                font=_MemoryFontFactory(str(self.font)),
                font_size=self.font_size,
                text_color=self.color,
            ),
            border_width=0,
            background=background,
            background_opacity=1.0,
        )


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
    appearance: Appearance | None = None,
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
        pdf_signer = signers.PdfSigner(
            meta,
            signer=signer,
            timestamper=timestamper,
            stamp_style=appearance.stamp_style() if appearance else None,
            new_field_spec=fields.SigFieldSpec(field_name, on_page=where.page, box=where.box),
        )
        out = pdf_signer.sign_pdf(writer, bytes_reserved=bytes_reserved)
    except (SigningError, PdfError, ValueError, KeyError, TypeError, OSError) as exc:
        logger.warning("signing failed: %s", type(exc).__name__)
        raise SigningFailed(type(exc).__name__) from exc
    signed: bytes = out.getvalue()
    return signed
