"""The instance's key material: its SoftHSM2 store, its demo CA and who owns which token.

Token labels are derived from owners: ``u:<username>`` for a person, ``o:<unit code>`` for a
unit's seal; PKCS#11 labels are at most 32 bytes, which both fit.
"""

from __future__ import annotations

import functools
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.sign.timestamps import TimeStamper
from pyhanko_certvalidator import ValidationContext

from docexchange.errors import DocExchangeError, InvalidInput
from pki.config import SoftHsmSetup, TokenDirectory, TokenRef
from pki.demo_ca import DemoCA
from pki.trust import load_certificates

__all__ = [
    "KeyMaterial",
    "ca_certificate_pem",
    "crl_der",
    "ocsp_answer",
    "tsa_answer",
    "unit_token_label",
    "user_token_label",
]

logger = logging.getLogger(__name__)


def user_token_label(username: str) -> str:
    """The label of a person's token."""
    return f"u:{username}"


def unit_token_label(unit_code: str) -> str:
    """The label of a unit's organisation (seal) token."""
    return f"o:{unit_code}"


@dataclass(frozen=True)
class KeyMaterial:
    """Where this instance keeps tokens and its CA; built once per process."""

    hsm_dir: Path
    pki_dir: Path
    module_path: str
    #: Where the CRL, OCSP and TSA of the demo CA are served (written into certificates).
    pki_base_url: str = "http://127.0.0.1:5000/pki"
    #: Per-token module and key label (``hsm_config``); None: every token on ``module_path``.
    tokens_config: Path | None = None
    #: Folder of trusted root certificates besides the demo CA's.
    trust_dir: Path | None = None
    #: The operator's file with the SO PIN for new tokens (never inside the instance).
    so_pin_file: Path | None = None

    @functools.cached_property
    def directory(self) -> TokenDirectory:
        """Which module serves which token."""
        if self.tokens_config is None:
            return TokenDirectory(default_module=self.module_path)
        return TokenDirectory.load(self.tokens_config, default_module=self.module_path)

    @functools.cached_property
    def softhsm(self) -> SoftHsmSetup:
        """The SoftHSM2 store of this instance (reading it changes nothing: see
        :meth:`activate_store`)."""
        return SoftHsmSetup(self.hsm_dir, module_path=self.module_path)

    def activate_store(self) -> SoftHsmSetup:
        """Point this process at the instance's SoftHSM2 store (``SOFTHSM2_CONF``), before
        any PKCS#11 module loads; again is a no-op. Called by everything that opens a token.

        :raises RuntimeError: this process already uses another instance's store.
        """
        self.softhsm.activate()
        return self.softhsm

    @functools.cached_property
    def ca(self) -> DemoCA:
        """The demo CA (created on first use)."""
        return DemoCA.ensure(self.pki_dir, base_url=self.pki_base_url)

    def so_pin(self, given: str | None = None, *, demo: bool) -> str:
        """The security officer's PIN for a new token, for this one operation: the admin's
        (``given``), else the operator's file (``DOCEXCHANGE_TOKEN_SO_PIN_FILE``, outside the
        instance folder, read when needed and never copied), else — in demo mode only — the
        instance's demo SO PIN. Nothing here writes an SO PIN outside demo mode.

        :raises InvalidInput: ``so_pin_required`` (no source); :raises DocExchangeError:
            ``so_pin_file_unreadable``.
        """
        if given:
            return given
        if self.so_pin_file is not None:
            try:
                text = self.so_pin_file.read_text(encoding="utf-8").strip()
            except OSError:
                raise DocExchangeError("so_pin_file_unreadable") from None
            if not text:
                raise DocExchangeError("so_pin_file_unreadable")
            return text
        if demo:
            return self._demo_so_pin()
        raise InvalidInput("so_pin_required", field="so_pin")

    @property
    def so_pin_source(self) -> str:
        """Where a new token's SO PIN comes from: ``file`` or ``admin`` (``demo`` is decided
        by the caller, who knows the mode)."""
        return "file" if self.so_pin_file is not None else "admin"

    def _demo_so_pin(self) -> str:
        path = self.hsm_dir / "so_pin"
        if not path.exists():
            self.hsm_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(secrets.token_hex(16))
        return path.read_text(encoding="ascii").strip()

    def ref(self, label: str) -> TokenRef:
        """The reference of a token of this instance (module and key label from config)."""
        self.activate_store()  # SoftHSM2 must see our config before any module loads
        return self.directory.ref(label)

    def chain(self) -> list[asn1_x509.Certificate]:
        """The CA certificates to embed with a signature (intermediate first)."""
        return list(self._chain)

    @functools.cached_property
    def _chain(self) -> tuple[asn1_x509.Certificate, ...]:
        return (_asn1(self.ca.intermediate), _asn1(self.ca.root))

    def trust_roots(self) -> list[asn1_x509.Certificate]:
        """The roots a certificate presented to this server must chain to.

        The demo CA's root, plus every certificate (PEM or DER) in the trust folder: that is
        where the production anchors go (MIC National Root CA, the Government specialised
        CA), as configuration, not code.
        """
        roots = [_asn1(self.ca.root)]
        if self.trust_dir is not None and self.trust_dir.is_dir():
            roots.extend(load_certificates(self.trust_dir))
        return roots

    def revocation_context(self) -> ValidationContext:
        """Revocation data for the certificates this server signs with (PAdES B-LT).

        The demo CA is in-process, so its CRL is always at hand; the TSA's certificate is
        covered by the same CRL.
        """
        crl = self.ca.crl().public_bytes(serialization.Encoding.DER)
        return ValidationContext(
            trust_roots=self.trust_roots(),
            other_certs=self.chain(),
            crls=[crl],
            revocation_mode="soft-fail",
        )

    def timestamper(self) -> TimeStamper:
        """The time-stamp authority for PAdES B-T signatures."""
        return self.ca.timestamper()

    def is_revoked(self, certificate_der: bytes) -> bool:
        """Whether the issuing CA has revoked this certificate (its revocation list)."""
        certificate = asn1_x509.Certificate.load(certificate_der)
        return self.ca.is_revoked(int(certificate.serial_number))


def _asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def crl_der(keys: KeyMaterial) -> bytes:
    """The demo CA's current CRL, DER-encoded."""
    return keys.ca.crl().public_bytes(serialization.Encoding.DER)


def ca_certificate_pem(keys: KeyMaterial, which: str) -> bytes:
    """``root`` or ``intermediate`` as PEM (for clients building their trust store)."""
    certificate = keys.ca.root if which == "root" else keys.ca.intermediate
    return certificate.public_bytes(serialization.Encoding.PEM)


def ocsp_answer(keys: KeyMaterial, request_der: bytes) -> bytes:
    """The demo CA's OCSP answer to a DER request."""
    return keys.ca.ocsp_response(request_der)


def tsa_answer(keys: KeyMaterial, request_der: bytes) -> bytes:
    """The demo TSA's answer to an RFC 3161 request.

    :raises InvalidInput: ``invalid_tsa_request``.
    """
    try:
        return keys.ca.tsa_response(request_der)
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidInput("invalid_tsa_request") from exc
