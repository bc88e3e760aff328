"""Trust store administration: the roots (and intermediates) signatures must chain to.

The demo CA's root is built in; every other anchor (e.g. the MIC National Root CA, the
Government specialised CA) is a file in the trust folder, added and removed by admins, each
change audited.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import pem as asn1_pem
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy.orm import Session

from docexchange.domain.accounts import Role
from docexchange.errors import Conflict, InvalidInput, NotFound
from docexchange.services import audit
from docexchange.services.authz import Actor, require_role
from docexchange.services.keys import KeyMaterial
from pki.trust import certificate_files, load_certificate_file

__all__ = ["Anchor", "add_anchor", "list_anchors", "remove_anchor"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Anchor:
    """One trusted certificate."""

    fingerprint: str  # SHA-256 of the DER, hex
    subject: str
    not_after: str
    built_in: bool


def _describe(certificate: x509.Certificate, *, built_in: bool) -> Anchor:
    der = certificate.public_bytes(serialization.Encoding.DER)
    return Anchor(
        fingerprint=hashlib.sha256(der).hexdigest(),
        subject=certificate.subject.rfc4514_string(),
        not_after=certificate.not_valid_after_utc.isoformat(),
        built_in=built_in,
    )


def _folder(keys: KeyMaterial) -> Path:
    if keys.trust_dir is None:
        raise Conflict("trust_store_not_configured")
    return keys.trust_dir


def _in_folder(keys: KeyMaterial) -> list[tuple[Path, Anchor]]:
    """Every certificate of the trust folder with its file (a file may hold several)."""
    folder = keys.trust_dir
    if folder is None or not folder.is_dir():
        return []
    found = []
    for path in certificate_files(folder):
        for certificate in load_certificate_file(path):
            found.append(
                (
                    path,
                    _describe(x509.load_der_x509_certificate(certificate.dump()), built_in=False),
                )
            )
    return found


def list_anchors(*, keys: KeyMaterial, actor: Actor) -> list[Anchor]:
    """Admins and auditors: every trusted certificate (the demo root, then the folder's)."""
    require_role(actor, Role.ADMIN, Role.AUDITOR)
    return [_describe(keys.ca.root, built_in=True), *(a for _, a in _in_folder(keys))]


def add_anchor(session: Session, pem: str | bytes, *, keys: KeyMaterial, actor: Actor) -> Anchor:
    """Admin: trust a CA certificate (PEM text, or the bytes of a PEM or DER file).

    :raises InvalidInput: ``certificate_unreadable`` or ``not_a_ca_certificate``.
    :raises Conflict: ``anchor_exists``.
    """
    require_role(actor, Role.ADMIN)
    if isinstance(pem, str):
        pem = pem.encode()
    try:
        certificate = (
            x509.load_pem_x509_certificate(pem)
            if b"-----BEGIN" in pem
            else x509.load_der_x509_certificate(pem)
        )
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    except (ValueError, x509.ExtensionNotFound):
        raise InvalidInput("not_a_ca_certificate") from None
    if not constraints.ca:
        raise InvalidInput("not_a_ca_certificate")
    anchor = _describe(certificate, built_in=False)
    folder = _folder(keys)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{anchor.fingerprint}.pem"
    known = {a.fingerprint for _, a in _in_folder(keys)}
    known.add(_describe(keys.ca.root, built_in=True).fingerprint)
    if path.exists() or anchor.fingerprint in known:
        raise Conflict("anchor_exists", fingerprint=anchor.fingerprint)
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    audit.record(
        session,
        actor=actor.username,
        action="trust.add",
        target=anchor.fingerprint,
        details={"subject": anchor.subject},
    )
    session.commit()
    return anchor


def remove_anchor(session: Session, fingerprint: str, *, keys: KeyMaterial, actor: Actor) -> None:
    """Admin: stop trusting a certificate (the built-in demo root cannot be removed).

    :raises NotFound: ``anchor_not_found``.
    """
    require_role(actor, Role.ADMIN)
    _folder(keys)
    matches = [(path, a) for path, a in _in_folder(keys) if a.fingerprint == fingerprint]
    if not matches:
        raise NotFound("anchor_not_found", fingerprint=fingerprint[:64])
    path, anchor = matches[0]
    if len(load_certificate_file(path)) > 1:
        # A bundle file: keep its other certificates.
        rest = [c for c in load_certificate_file(path) if c.sha256.hex() != fingerprint]
        path.write_bytes(b"".join(asn1_pem.armor("CERTIFICATE", c.dump()) for c in rest))
    else:
        path.unlink()
    subject = anchor.subject
    audit.record(
        session,
        actor=actor.username,
        action="trust.remove",
        target=fingerprint,
        details={"subject": subject},
    )
    session.commit()
