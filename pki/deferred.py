"""Deferred (remote) signing: the server prepares, a USB token elsewhere signs a hash.

The PDF never leaves the server and the key never leaves the token (DESIGN.md §4.3):

1. :func:`prepare` adds the signature field and placeholder in a new revision and returns
   the SHA-256 of the CMS signed attributes, the only thing the token signs;
2. the client signs that digest on its token (RSA PKCS#1 v1.5 over a DigestInfo, or ECDSA);
3. :func:`finish` checks the raw signature against the certificate, builds the CMS
   (time-stamped when a TSA is given) and embeds it byte-exactly in the prepared PDF.

Recipe checked against pyHanko 0.38 (shared PKCS11-NOTES.md §3.4).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
from dataclasses import dataclass

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import load_der_x509_certificate
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.signers.pdf_byterange import PreparedByteRangeDigest
from pyhanko.sign.signers.pdf_signer import PdfTBSDocument
from pyhanko.sign.timestamps import TimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

from pki.errors import SigningFailed
from pki.forms import FormChange
from pki.signing import Appearance, Placement, estimate_reserve, signature_field

__all__ = ["DeferredState", "finish", "prepare", "raw_signature_size"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeferredState:
    """Everything :func:`finish` needs, to be stored between the two calls (no secrets)."""

    prepared_pdf: bytes
    document_digest: bytes
    reserved_start: int
    reserved_end: int
    signed_attrs: bytes
    #: SHA-256 of ``signed_attrs``: what the client's token signs.
    to_sign: bytes


def raw_signature_size(certificate: asn1_x509.Certificate) -> int:
    """Bytes of a raw signature by this certificate's key (room in the placeholder)."""
    public_key = certificate.public_key
    bits = int(public_key.bit_size)
    if public_key.algorithm == "rsa":
        return (bits + 7) // 8
    return 2 * ((bits + 7) // 8) + 8  # DER ECDSA (r, s)


def prepare(
    data: bytes,
    certificate: asn1_x509.Certificate,
    chain: list[asn1_x509.Certificate],
    *,
    field_name: str,
    reason: str | None = None,
    appearance: Appearance | None = None,
    placement: Placement | None = None,
    timestamped: bool = False,
    form: FormChange | None = None,
) -> DeferredState:
    """Prepare a signature revision for ``certificate`` and return what the token must sign.

    :raises SigningFailed: the PDF cannot take a signature.
    """
    where = placement or Placement()
    external = signers.ExternalSigner(
        signing_cert=certificate,
        cert_registry=SimpleCertificateStore.from_certs(chain),  # type: ignore[no-untyped-call]
        signature_value=raw_signature_size(certificate),
        embed_roots=False,
    )
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
    )
    pdf_signer = signers.PdfSigner(
        meta,
        signer=external,
        stamp_style=appearance.stamp_style(where.box) if appearance else None,
        new_field_spec=signature_field(field_name, where),
    )
    reserve = estimate_reserve(external, timestamped=timestamped)

    async def _prepare() -> tuple[PreparedByteRangeDigest, bytes, bytes]:
        writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
        if form is not None:
            form.apply(writer)
        prepared, tbs, output = await pdf_signer.async_digest_doc_for_signing(
            writer, bytes_reserved=reserve
        )
        attrs = await external.signed_attrs(
            prepared.document_digest, tbs.md_algorithm, use_pades=True
        )
        output.seek(0)
        return prepared, output.read(), attrs.dump()

    try:
        prepared, pdf, attrs_der = asyncio.run(_prepare())
    except (SigningError, PdfError, ValueError, KeyError, TypeError) as exc:
        raise SigningFailed(type(exc).__name__) from exc
    return DeferredState(
        prepared_pdf=pdf,
        document_digest=prepared.document_digest,
        reserved_start=prepared.reserved_region_start,
        reserved_end=prepared.reserved_region_end,
        signed_attrs=attrs_der,
        to_sign=hashlib.sha256(attrs_der).digest(),
    )


def verify_raw_signature(
    certificate: asn1_x509.Certificate, signed_attrs: bytes, signature: bytes
) -> bool:
    """Whether ``signature`` is this certificate's key signing ``signed_attrs`` (SHA-256)."""
    public_key = load_der_x509_certificate(certificate.dump()).public_key()
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, signed_attrs, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, signed_attrs, ec.ECDSA(hashes.SHA256()))
        else:
            return False
    except InvalidSignature:
        return False
    return True


def finish(
    state: DeferredState,
    certificate: asn1_x509.Certificate,
    chain: list[asn1_x509.Certificate],
    signature: bytes,
    *,
    timestamper: TimeStamper | None = None,
) -> bytes:
    """Embed the client's raw ``signature``; return the signed PDF.

    :raises SigningFailed: ``bad_signature`` when the signature does not verify against the
        certificate over the prepared attributes (wrong key, wrong data), or when embedding
        fails.
    """
    if not verify_raw_signature(certificate, state.signed_attrs, signature):
        raise SigningFailed("bad_signature")
    external = signers.ExternalSigner(
        signing_cert=certificate,
        cert_registry=SimpleCertificateStore.from_certs(chain),  # type: ignore[no-untyped-call]
        signature_value=signature,
        embed_roots=False,
    )

    async def _finish() -> bytes:
        container = await external.async_sign_prescribed_attributes(
            "sha256",
            signed_attrs=cms.CMSAttributes.load(state.signed_attrs),
            timestamper=timestamper,
        )
        output = io.BytesIO(state.prepared_pdf)
        prepared = PreparedByteRangeDigest(
            document_digest=state.document_digest,
            reserved_region_start=state.reserved_start,
            reserved_region_end=state.reserved_end,
        )
        await PdfTBSDocument.async_finish_signing(output, prepared, container)
        return output.getvalue()

    try:
        return asyncio.run(_finish())
    except (SigningError, PdfError, ValueError, KeyError, TypeError) as exc:
        raise SigningFailed(type(exc).__name__) from exc
