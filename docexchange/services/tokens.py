"""Tokens: provisioning for people and units, PIN-failure locking, the token doctor.

A PIN is an argument of one call: it goes to the token and nowhere else (not the database,
not a log line, not an audit event, not an error).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.sign.signers import Signer
from sqlalchemy import select
from sqlalchemy.orm import Session

from docexchange.domain.accounts import Role
from docexchange.domain.documents import SignatureKind
from docexchange.errors import (
    Conflict,
    DocExchangeError,
    Forbidden,
    InvalidInput,
    Locked,
    NotFound,
    invalid_field,
)
from docexchange.metrics import SIGNATURE_SECONDS, SIGNATURES
from docexchange.services import audit
from docexchange.services.authz import Actor, require_role
from docexchange.services.keys import KeyMaterial, unit_token_label, user_token_label
from docexchange.storage.base import utcnow
from docexchange.storage.models import CertificateRecord, TokenState, Unit, User
from pki import errors as pki_errors
from pki import tokens as p11
from pki.demo_ca import PersonSubject, new_citizen_id

__all__ = [
    "ProvisionedToken",
    "check_pin_format",
    "clear_failures",
    "provision_unit_token",
    "provision_user_token",
    "refuse_if_locked",
    "token_signer",
    "unlock_token",
]

logger = logging.getLogger(__name__)


def check_pin_format(pin: str) -> str:
    """A PIN is 4 to 32 characters.

    :raises InvalidInput: ``invalid_pin_format`` (the PIN itself is never echoed).
    """
    if not isinstance(pin, str) or not 4 <= len(pin) <= 32:
        raise InvalidInput("invalid_pin_format")
    return pin


@dataclass(frozen=True)
class ProvisionedToken:
    """A new token and the certificate stored on it."""

    label: str
    certificate_pem: str


def _province_of(session: Session, unit: Unit) -> str:
    current: Unit | None = unit
    while current is not None:
        if current.level == "province":
            return current.name.replace("UBND tỉnh ", "").replace("UBND thành phố ", "")
        current = session.get(Unit, current.parent_code) if current.parent_code else None
    return "Việt Nam"


ALGORITHMS = ("rsa2048", "ec-p256")


def check_algorithm(value: str | None) -> str:
    """RSA-2048 (the default, what Vietnamese CAs issue) or ECDSA P-256.

    :raises InvalidInput: ``invalid_field``.
    """
    algorithm = "rsa2048" if value in (None, "") else value
    if algorithm not in ALGORITHMS:
        raise invalid_field("algorithm", "reason_one_of", values=", ".join(ALGORITHMS))
    return str(algorithm)


def _provision(
    keys: KeyMaterial,
    label: str,
    pin: str,
    issue: Callable[[bytes], x509.Certificate],
    *,
    so_pin: str,
    algorithm: str = "rsa2048",
) -> tuple[bytes, x509.Certificate]:
    try:
        public_der = p11.provision_softhsm_token(
            keys.activate_store(),
            label=label,
            user_pin=pin,
            so_pin=so_pin,
            algorithm=algorithm,
        )
    except pki_errors.TokenExists:
        raise Conflict("token_exists", label=label) from None
    except pki_errors.TokenError:
        logger.exception("token provisioning failed for %s", label)
        raise DocExchangeError("token_unavailable", label=label) from None
    certificate = issue(public_der)
    der = certificate.public_bytes(serialization.Encoding.DER)
    chain = [
        c.public_bytes(serialization.Encoding.DER) for c in (keys.ca.intermediate, keys.ca.root)
    ]
    p11.store_certificates(keys.ref(label), pin, der, chain)
    return der, certificate


def provision_user_token(
    session: Session,
    username: str,
    pin: str,
    *,
    keys: KeyMaterial,
    actor: Actor | None,
    algorithm: str | None = None,
    so_pin: str | None = None,
    demo: bool = False,
) -> ProvisionedToken:
    """Admin: create a person's token with a key generated on it and a certificate from the CA.

    :param so_pin: the security officer's PIN the token gets, for this call only (see
        :meth:`KeyMaterial.so_pin` for where it comes from otherwise).
    :param demo: demo mode, whose demo SO PIN may serve.
    :raises Conflict: ``token_exists``; :raises InvalidInput: ``so_pin_required``.
    """
    if actor is not None:
        require_role(actor, Role.ADMIN)
    checked = check_pin_format(pin)
    chosen = check_algorithm(algorithm)
    officer = keys.so_pin(so_pin, demo=demo)
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound("user_not_found", username=username)
    unit = session.get(Unit, user.unit_code)
    assert unit is not None
    person = PersonSubject(
        full_name=user.full_name,
        position=user.position,
        unit_name=unit.name,
        province=_province_of(session, unit),
        citizen_id=new_citizen_id(),
    )
    label = user_token_label(username)
    _der, certificate = _provision(
        keys,
        label,
        checked,
        lambda der: keys.ca.issue_personal(der, person),
        so_pin=officer,
        algorithm=chosen,
    )
    return _provisioned(session, label, certificate, owner=username, actor=actor)


def provision_unit_token(
    session: Session,
    unit_code: str,
    pin: str,
    *,
    keys: KeyMaterial,
    actor: Actor | None,
    so_pin: str | None = None,
    demo: bool = False,
) -> ProvisionedToken:
    """Admin: create a unit's organisation token (its digital seal); ``so_pin`` and
    ``demo`` as for :func:`provision_user_token`."""
    if actor is not None:
        require_role(actor, Role.ADMIN)
    checked = check_pin_format(pin)
    officer = keys.so_pin(so_pin, demo=demo)
    unit = session.get(Unit, unit_code)
    if unit is None:
        raise NotFound("unit_not_found", code=unit_code)
    label = unit_token_label(unit_code)
    province = _province_of(session, unit)
    _der, certificate = _provision(
        keys,
        label,
        checked,
        lambda der: keys.ca.issue_organisation(
            der, unit_name=unit.name, unit_code=unit.code, province=province
        ),
        so_pin=officer,
    )
    return _provisioned(session, label, certificate, owner=unit_code, actor=actor)


def _provisioned(
    session: Session,
    label: str,
    certificate: x509.Certificate,
    *,
    owner: str,
    actor: Actor | None,
) -> ProvisionedToken:
    """Record a new token: its lock state starts clean, its certificate's owner is known
    (for the mandate check), and the audit log names it."""
    _reset_state(session, label)
    personal = label.startswith("u:")
    register_certificate(
        session,
        certificate.public_bytes(serialization.Encoding.DER),
        kind=SignatureKind.PERSONAL if personal else SignatureKind.ORGANIZATION,
        username=owner if personal else None,
        unit_code=None if personal else owner,
    )
    audit.record(
        session,
        actor=actor.username if actor else "system",
        action="token.provision",
        target=label,
        details={"serial": format(certificate.serial_number, "x"), "owner": owner},
    )
    session.commit()
    return ProvisionedToken(label, certificate.public_bytes(serialization.Encoding.PEM).decode())


def _reset_state(session: Session, label: str) -> None:
    state = session.get(TokenState, label)
    if state is not None:
        state.failures = 0
        state.locked_at = None


def unlock_token(session: Session, label: str, *, actor: Actor) -> None:
    """Admin: clear a token's PIN-failure lock."""
    require_role(actor, Role.ADMIN)
    state = session.get(TokenState, label)
    if state is None or (state.locked_at is None and state.failures == 0):
        raise NotFound("token_not_locked", label=label)
    state.failures = 0
    state.locked_at = None
    audit.record(session, actor=actor.username, action="token.unlock", target=label)
    session.commit()


def refuse_if_locked(session: Session, label: str, *, actor: Actor) -> int:
    """Refuse (and audit) any use of a token locked after too many wrong PINs.

    Call it before the caller writes anything: a refusal commits its audit event.

    :returns: the wrong PINs counted so far (0 when none).
    :raises Locked: ``token_locked``.
    """
    state = session.get(TokenState, label)
    if state is not None and state.locked_at is not None:
        audit.record(session, actor=actor.username, action="token.locked_attempt", target=label)
        session.commit()
        raise Locked("token_locked", label=label)
    return state.failures if state is not None else 0


def clear_failures(session: Session, label: str) -> None:
    """After a PIN the token accepted, the count of wrong PINs starts again (caller commits)."""
    state = session.get(TokenState, label)
    if state is not None and state.failures:
        state.failures = 0


@contextlib.contextmanager
def token_signer(
    session: Session,
    label: str,
    pin: str,
    *,
    keys: KeyMaterial,
    actor: Actor,
    max_failures: int,
) -> Iterator[tuple[Signer, bytes]]:
    """Log in to the token ``label`` with ``pin`` and yield (signer, certificate DER).

    Nothing is read from the database on the way in, so a caller may hold no transaction
    while the token works. A wrong PIN rolls the caller's transaction back and is counted
    in a transaction of its own; at ``max_failures`` in a row the token is locked until an
    admin unlocks it. Every wrong PIN is audited.

    :raises Locked: ``token_locked``.
    :raises Forbidden: ``pin_incorrect`` with ``attempts_left``.
    :raises NotFound: ``token_not_found``.
    :raises Conflict: ``certificate_revoked``.
    """
    checked = check_pin_format(pin)
    kind = SignatureKind.PERSONAL if label.startswith("u:") else SignatureKind.ORGANIZATION
    started, outcome = time.perf_counter(), "error"
    try:
        with p11.signing_session(keys.ref(label), checked, chain=keys.chain()) as signer:
            certificate_der = signer.signing_cert.dump()
            if keys.is_revoked(certificate_der):
                raise Conflict("certificate_revoked", label=label)
            yield signer, certificate_der
            outcome = "ok"
    except pki_errors.PinIncorrect:
        outcome = "wrong_pin"
        session.rollback()
        _record_failure(session, label, actor=actor, max_failures=max_failures)
    except pki_errors.TokenNotFound:
        raise NotFound("token_not_found", label=label) from None
    except pki_errors.PinLocked:
        raise Locked("token_locked", label=label) from None
    finally:
        SIGNATURES.labels(kind.value, outcome).inc()
        SIGNATURE_SECONDS.labels(kind.value).observe(time.perf_counter() - started)


def _record_failure(session: Session, label: str, *, actor: Actor, max_failures: int) -> None:
    state = session.get(TokenState, label)
    if state is None:
        state = TokenState(label=label, failures=0)
        session.add(state)
    state.failures += 1
    locked = state.failures >= max_failures
    if locked:
        state.locked_at = utcnow()
    audit.record(
        session,
        actor=actor.username,
        action="token.pin_failure",
        target=label,
        details={"failures": state.failures, "locked": locked},
    )
    session.commit()
    if locked:
        raise Locked("token_locked", label=label)
    raise Forbidden("pin_incorrect", attempts_left=max_failures - state.failures)


def register_existing_token(
    session: Session,
    label: str,
    *,
    keys: KeyMaterial,
    username: str | None = None,
    unit_code: str | None = None,
) -> bool:
    """Register the certificate of a token that exists already, if this database lacks it.

    A demo instance keeps its tokens when its database is made anew (another database URL,
    a wiped file); without the registration no signature would pass the mandate check.
    """
    der = p11.read_certificate(keys.ref(label))
    if der is None:
        return False
    parsed = asn1_x509.Certificate.load(der)
    known = session.scalar(
        select(CertificateRecord.id).where(
            CertificateRecord.issuer == parsed.issuer.human_friendly[:500],
            CertificateRecord.serial == format(parsed.serial_number, "x"),
        )
    )
    if known is not None:
        return False
    register_certificate(
        session,
        der,
        kind=SignatureKind.PERSONAL if username else SignatureKind.ORGANIZATION,
        username=username,
        unit_code=unit_code,
    )
    session.commit()
    return True


def register_certificate(
    session: Session,
    certificate_der: bytes,
    *,
    kind: str,
    username: str | None = None,
    unit_code: str | None = None,
) -> None:
    """Remember whose signing certificate this is (caller commits)."""
    parsed = asn1_x509.Certificate.load(certificate_der)
    session.add(
        CertificateRecord(
            issuer=parsed.issuer.human_friendly[:500],
            serial=format(parsed.serial_number, "x"),
            subject=parsed.subject.human_friendly[:500],
            kind=kind,
            owner_username=username,
            owner_unit_code=unit_code,
            not_after=parsed.not_valid_after,
        )
    )
