"""PAdES signing of PDFs with pyHanko: personal and organisation signatures.

Each signature is a new incremental revision, so an earlier signature stays intact and
pyHanko's modification analysis rates the later one as allowed.
"""

from __future__ import annotations

import functools
import io
import logging
import zlib
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import uharfbuzz as hb
from fontTools import subset
from fontTools.ttLib import TTFont
from fontTools.ttLib.scaleUpem import scale_upem
from PIL import Image
from pyhanko import stamp
from pyhanko.pdf_utils import generic, layout
from pyhanko.pdf_utils.font.api import FontEngine
from pyhanko.pdf_utils.font.opentype import CIDFontType2, GlyphAccumulator, GlyphAccumulatorFactory
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.timestamps import TimeStamper
from pyhanko_certvalidator import ValidationContext

from pki.errors import SigningFailed
from pki.forms import FormChange

__all__ = [
    "DEFAULT_FONT",
    "Appearance",
    "ImageSide",
    "Placement",
    "estimate_reserve",
    "sign_pdf",
]

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
    # Keep only what Vietnamese and ISO 8601 text needs: pyHanko parses and subsets the
    # font again for every signature, and a small font makes that several times faster.
    # Vietnamese is written here with precomposed letters, so no OpenType layout tables are
    # needed; decompiling them was most of pyHanko's per-signature font work.
    options = subset.Options()
    options.layout_features = []
    options.drop_tables = [*options.drop_tables, "GSUB", "GPOS", "GDEF", "kern"]
    options.hinting = False
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options=options)
    subsetter.populate(unicodes=_VIETNAMESE_TEXT)
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


_VIETNAMESE_TEXT = [
    *range(0x20, 0x7F),  # ASCII
    *range(0xA0, 0x180),  # Latin-1, Latin Extended-A (Ă ă Đ đ Ĩ ĩ Ũ ũ)
    0x1A0,
    0x1A1,
    0x1AF,
    0x1B0,  # Ơ ơ Ư ư
    *range(0x300, 0x324),  # combining accents
    *range(0x1EA0, 0x1EFA),  # Latin Extended Additional: ạ ả ấ … ỹ
    *range(0x2010, 0x2028),  # dashes, quotes, ellipsis
    0x2116,  # №
]


@functools.cache
def _compressed_font(path: Path) -> bytes:
    return zlib.compress(_font_bytes(path))


class _PrebuiltFontFile(CIDFontType2):
    """Embeds the already-subset font program from memory instead of re-saving it."""

    font_path: Path

    def set_font_file(self, writer: BasePdfFileWriter) -> generic.IndirectObject:
        stream = generic.StreamObject(
            dict_data={pdf_name("/Filter"): pdf_name("/FlateDecode")},
            encoded_data=_compressed_font(self.font_path),
        )
        ref: generic.IndirectObject = writer.add_object(stream)
        self._font_descriptor[pdf_name("/FontFile2")] = ref
        return ref


@dataclass(frozen=True)
class _PreparedFont:
    """A parsed font shared by every signature (read-only once prepared)."""

    face: hb.Face
    tt: TTFont
    glyph_set: Any
    ps_name: str
    units_per_em: int
    reverse_cmap: dict[str, set[int]]


@functools.cache
def _prepared_font(path: Path) -> _PreparedFont:
    data = _font_bytes(path)
    tt = TTFont(io.BytesIO(data))
    glyph_set = tt.getGlyphSet(preferCFF=True)
    for name in tt.getGlyphOrder():  # decompile every glyph now, not per signature
        _ = glyph_set[name].width
    ps_name = next(n.toUnicode() for n in tt["name"].names if n.nameID == 6)
    return _PreparedFont(
        face=hb.Face(data),
        tt=tt,
        glyph_set=glyph_set,
        ps_name=ps_name,
        units_per_em=tt["head"].unitsPerEm,
        reverse_cmap=tt["cmap"].buildReversed(),
    )


class _PrebuiltGlyphAccumulator(GlyphAccumulator):
    """pyHanko's glyph accumulator for our prepared font, without per-signature font work.

    pyHanko parses, subsets and re-saves the font for every signature (fontTools, about
    15 ms). Our font is cut to the Vietnamese repertoire once (:func:`_font_bytes`) and
    parsed once (:func:`_prepared_font`); each signature shapes its text with HarfBuzz and
    embeds that prepared program as it is, so glyph ids stay valid. This mirrors
    ``GlyphAccumulator.__init__`` of pyHanko 0.38 for TrueType (glyf) fonts; the signing
    tests check the embedded font and its widths.
    """

    def __init__(
        self,
        *,
        font_path: Path,
        writer: BasePdfFileWriter,
        font_size: int,
        ot_script_tag: str | None = None,
        ot_language_tag: str | None = None,
        writing_direction: str | None = None,
        bcp47_lang_code: str | None = None,
        obj_stream: Any = None,
    ) -> None:
        prepared = _prepared_font(font_path)
        self.hb_font = hb.Font(prepared.face)
        self.tt = prepared.tt
        FontEngine.__init__(
            self,
            writer,
            prepared.ps_name,
            embedded_subset=True,
            obj_stream=obj_stream,
            font_size=font_size,
        )
        self._font_ref = writer.allocate_placeholder()
        self.cff_charset = None
        self.use_raw_gids = True
        font_file = _PrebuiltFontFile(prepared.tt, prepared.ps_name, self.subset_prefix)
        font_file.font_path = font_path
        self.cidfont_obj = font_file
        self.features = None
        self.units_per_em = prepared.units_per_em
        self._glyphs: dict[int, tuple[int, int]] = {}
        self._glyph_set = prepared.glyph_set
        self._cid_to_unicode: dict[int, str] = {}
        self._GlyphAccumulator__reverse_cmap = prepared.reverse_cmap
        self.ot_language_tag = ot_language_tag
        self.ot_script_tag = ot_script_tag
        self.writing_direction = writing_direction
        self.bcp47_lang_code = bcp47_lang_code
        self._subset_created = True  # the font program is prepared already
        self._write_prepared = False


@dataclass(frozen=True)
class _MemoryFontFactory(GlyphAccumulatorFactory):
    """pyHanko's OpenType font factory for our prepared font, read from memory.

    The stock factory opens the font file for every signature and never closes it.
    """

    def create_font_engine(
        self, writer: BasePdfFileWriter, obj_stream: Any = None
    ) -> GlyphAccumulator:
        if obj_stream is None and writer.stream_xrefs and self.create_objstream_if_needed:
            obj_stream = writer.prepare_object_stream()  # type: ignore[no-untyped-call]
        return _PrebuiltGlyphAccumulator(
            font_path=Path(self.font_file),
            writer=writer,
            font_size=self.font_size,
            ot_script_tag=self.ot_script_tag,
            ot_language_tag=self.ot_language_tag,
            writing_direction=self.writing_direction,
            bcp47_lang_code=self.bcp47_lang_code,
            obj_stream=obj_stream,
        )


class ImageSide(Enum):
    """Where an appearance's image goes; its text takes the rest of the box."""

    LEFT = "left"  #: image in the left half, text in the right half
    TOP = "top"  #: image above, text in a band at the bottom


@dataclass(frozen=True)
class Appearance:
    """What the visible signature shows: lines of text, an optional PNG, the text colour.

    With an image, image and text share the box side by side (or image above text), so no
    text is ever drawn over the image.
    """

    lines: tuple[str, ...]
    image_png: bytes | None = None
    color: tuple[float, float, float] = (0.0, 0.0, 0.0)
    font: Path = DEFAULT_FONT
    font_size: int = 9
    image_side: ImageSide = ImageSide.LEFT

    def stamp_style(self, box: tuple[float, float, float, float]) -> stamp.TextStampStyle:
        """The pyHanko stamp for this appearance in ``box``."""
        text = "\n".join(line.replace("%", "%%") for line in self.lines)
        style = (
            TextBoxStyle(
                font=_MemoryFontFactory(str(self.font)),
                font_size=self.font_size,
                text_color=self.color,
            )
            if self.lines
            # An image alone: pyHanko cannot embed a font subset of no glyphs.
            else TextBoxStyle()
        )
        if not self.image_png:
            # pyHanko fills %(name)s fields in stamp text; a literal % must be doubled.
            return stamp.TextStampStyle(stamp_text=text, text_box_style=style, border_width=0)
        width, height = box[2] - box[0], box[3] - box[1]
        image_margins, text_margins = self._split(width, height)
        mid, low = layout.AxisAlignment.ALIGN_MID, layout.AxisAlignment.ALIGN_MIN
        return stamp.TextStampStyle(
            stamp_text=text,
            text_box_style=style,
            border_width=0,
            background=PdfImage(Image.open(io.BytesIO(self.image_png))),
            background_opacity=1.0,
            background_layout=layout.SimpleBoxLayoutRule(
                x_align=mid, y_align=mid, margins=image_margins
            ),
            inner_content_layout=layout.SimpleBoxLayoutRule(
                x_align=low if self.image_side is ImageSide.LEFT else mid,
                y_align=mid if self.image_side is ImageSide.LEFT else low,
                margins=text_margins,
            ),
        )

    def _split(self, width: float, height: float) -> tuple[layout.Margins, layout.Margins]:
        """Margins that keep the image and the text in parts of the box that do not meet."""
        if not self.lines:
            return layout.Margins(2, 2, 2, 2), layout.Margins(2, 2, 2, 2)
        if self.image_side is ImageSide.LEFT:
            half = width / 2
            return (
                layout.Margins(left=2, right=int(half) + 2, top=2, bottom=2),
                layout.Margins(left=int(half) + 4, right=2, top=2, bottom=2),
            )
        band = int(len(self.lines) * self.font_size * 1.3) + 4
        return (
            layout.Margins(left=2, right=2, top=2, bottom=band + 2),
            layout.Margins(left=2, right=2, top=int(height) - band, bottom=1),
        )


@dataclass(frozen=True)
class Placement:
    """Where the visible signature box goes: page (-1 = last) and box in PDF points."""

    page: int = -1
    box: tuple[float, float, float, float] = (330, 60, 560, 140)


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
    revocation_context: ValidationContext | None = None,
    form: FormChange | None = None,
) -> bytes:
    """Add one PAdES signature (B-B, or B-T with ``timestamper``) in a new revision.

    :param form: text fields added or filled in the same revision, before it is signed.

    :param bytes_reserved: hex characters reserved for the signature container; by default
        estimated from the certificates, which skips pyHanko's dry run.
    :param revocation_context: with it, the certificate path's revocation data is embedded
        after signing (PAdES B-LT when time-stamped): the document then validates years
        later without reaching the CA.
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
        validation_context=revocation_context,
        embed_validation_info=revocation_context is not None,
    )
    reserve = (
        bytes_reserved
        if bytes_reserved is not None
        else estimate_reserve(signer, timestamped=timestamper is not None)
    )
    # With our estimate first; if the container turns out larger (an unusually long chain),
    # once more with pyHanko sizing it itself.
    for attempt in (reserve, None):
        try:
            return _sign_once(
                data,
                signer,
                meta=meta,
                timestamper=timestamper,
                where=where,
                appearance=appearance,
                reserve=attempt,
                form=form,
            )
        except SigningError as exc:
            if attempt is not None and "larger than expected" in str(exc):
                logger.info("signature container larger than estimated; signing again")
                continue
            logger.warning("signing failed: %s: %s", type(exc).__name__, exc)
            raise SigningFailed(type(exc).__name__) from exc
        except (PdfError, ValueError, KeyError, TypeError, OSError) as exc:
            logger.warning("signing failed: %s", type(exc).__name__)
            raise SigningFailed(type(exc).__name__) from exc
    raise SigningFailed("unreachable")  # pragma: no cover - the loop returns or raises


#: Room for the signed attributes, signature value and CMS structure around the certificates.
_CMS_OVERHEAD = 3072
#: Room for an RFC 3161 token with its TSA certificate chain.
_TIMESTAMP_ALLOWANCE = 8192


def estimate_reserve(signer: signers.Signer, *, timestamped: bool) -> int:
    """Hex characters to reserve for the signature, so pyHanko can skip its dry run.

    pyHanko otherwise builds every CMS container twice to measure it (about 40% of the
    signing time, shared PKCS11-NOTES.md §4).
    """
    certificates = [signer.signing_cert, *signer.cert_registry]
    size = sum(len(c.dump()) for c in certificates if c is not None) + _CMS_OVERHEAD
    if timestamped:
        size += _TIMESTAMP_ALLOWANCE
    return 2 * size


def signature_field(name: str, where: Placement) -> fields.SigFieldSpec:
    """The new signature field at ``where`` (pyHanko wants whole points)."""
    box = tuple(round(v) for v in where.box)
    return fields.SigFieldSpec(name, on_page=where.page, box=box)  # type: ignore[arg-type]


def _sign_once(
    data: bytes,
    signer: signers.Signer,
    *,
    meta: signers.PdfSignatureMetadata,
    timestamper: TimeStamper | None,
    where: Placement,
    appearance: Appearance | None,
    reserve: int | None,
    form: FormChange | None,
) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    if form is not None:
        form.apply(writer)
    pdf_signer = signers.PdfSigner(
        meta,
        signer=signer,
        timestamper=timestamper,
        stamp_style=appearance.stamp_style(where.box) if appearance else None,
        new_field_spec=signature_field(str(meta.field_name), where),
    )
    out = pdf_signer.sign_pdf(writer, bytes_reserved=reserve)
    signed: bytes = out.getvalue()
    return signed
