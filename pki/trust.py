"""Trust decisions about certificates presented to the server (not yet about PDFs).

Full PDF signature validation with reports arrives with the verification work; this module
answers one question for deferred signing: may this certificate sign for us?
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import (
    ExpiredError,
    InvalidCertificateError,
    NotYetValidError,
    PathBuildingError,
    PathValidationError,
    RevokedError,
)

__all__ = [
    "CertificateProblem",
    "certificate_files",
    "load_certificate_file",
    "load_certificates",
    "validate_signing_certificate",
]

logger = logging.getLogger(__name__)


class CertificateProblem(ValueError):
    """Why a certificate may not sign: ``untrusted``, ``expired``, ``revoked`` or ``invalid``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


CERTIFICATE_SUFFIXES = (".pem", ".crt", ".cer", ".der")


def load_certificate_file(path: Path) -> list[asn1_x509.Certificate]:
    """The certificates in one file (PEM, possibly several, or one DER).

    :raises ValueError: naming the file if it holds no readable certificate.
    """
    data = path.read_bytes()
    try:
        if pem.detect(data):
            return [
                asn1_x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True)
            ]
        certificate = asn1_x509.Certificate.load(data)
        _ = certificate.subject  # parse now
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path.name}: not a certificate") from exc
    return [certificate]


def certificate_files(folder: Path) -> list[Path]:
    """The certificate files of a trust folder, sorted by name."""
    return [
        path
        for path in sorted(folder.iterdir())
        if path.suffix.lower() in CERTIFICATE_SUFFIXES and path.is_file()
    ]


def load_certificates(folder: Path) -> list[asn1_x509.Certificate]:
    """Every certificate in ``folder`` (``*.pem``, ``*.crt``, ``*.cer``, ``*.der``), sorted by name.

    :raises ValueError: naming a file that holds no readable certificate.
    """
    return [cert for path in certificate_files(folder) for cert in load_certificate_file(path)]


def validate_signing_certificate(
    certificate: asn1_x509.Certificate,
    intermediates: list[asn1_x509.Certificate],
    *,
    roots: list[asn1_x509.Certificate],
) -> None:
    """Check the path to one of ``roots``, validity now, and the non-repudiation key usage.

    Revocation is checked by the caller against its own CA's list (soft-fail here).

    :raises CertificateProblem: naming the first thing wrong.
    """
    context = ValidationContext(trust_roots=roots, other_certs=intermediates)
    validator = CertificateValidator(
        certificate, intermediate_certs=intermediates, validation_context=context
    )
    try:
        asyncio.run(validator.async_validate_usage({"non_repudiation"}))  # type: ignore[no-untyped-call]
    except PathBuildingError:
        raise CertificateProblem("untrusted") from None
    except (ExpiredError, NotYetValidError):
        raise CertificateProblem("expired") from None
    except RevokedError:
        raise CertificateProblem("revoked") from None
    except (InvalidCertificateError, PathValidationError) as exc:
        logger.info("certificate refused: %s", type(exc).__name__)
        raise CertificateProblem("invalid") from None
