"""Verify a PDF's signatures against this server's trust anchors."""

from __future__ import annotations

import logging

from cryptography.hazmat.primitives import serialization

from docexchange.services.container import Services
from pki.report import ValidationReport
from pki.validation import verify_pdf

__all__ = ["verify_document"]

logger = logging.getLogger(__name__)


def verify_document(data: bytes, *, services: Services) -> ValidationReport:
    """The verdict on ``data`` with our trust roots, our CA chain and its current CRL."""
    keys = services.keys
    crl = keys.ca.crl().public_bytes(serialization.Encoding.DER)
    return verify_pdf(data, roots=keys.trust_roots(), other_certs=keys.chain(), crls=[crl])
