"""The only module that talks PKCS#11 (python-pkcs11 and pyHanko's PKCS#11 signer).

Thread safety: python-pkcs11 initialises modules with ``C_Initialize(NULL)``, so SoftHSM2
turns its own locking off, and python-pkcs11 releases the GIL around every call; two threads
inside the module at once crash the process (shared PKCS11-NOTES.md §5). Every PKCS#11 call
in this process therefore runs under :data:`P11_LOCK`, and a person's token is logged in for
one signing operation and logged out before the lock is released. Scale with processes.

PINs are arguments only: never stored, logged or put in exceptions; errors name the label.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import pkcs11
from asn1crypto import x509 as asn1_x509
from asn1crypto.algos import DigestInfo
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
from pkcs11 import exceptions as p11_exc
from pkcs11.util.ec import (
    encode_ec_public_key,
    encode_ecdsa_signature,
    encode_named_curve_parameters,
)
from pkcs11.util.rsa import encode_rsa_public_key
from pkcs11.util.x509 import decode_x509_certificate
from pyhanko.sign.pkcs11 import PKCS11Signer

from pki.config import SoftHsmSetup, TokenRef
from pki.errors import PinIncorrect, PinLocked, TokenError, TokenExists, TokenNotFound
from pki.token_locks import token_lock

__all__ = [
    "P11_LOCK",
    "KeyAlgorithm",
    "TokenInfo",
    "delete_softhsm_token",
    "list_tokens",
    "provision_softhsm_token",
    "read_certificate",
    "read_chain",
    "sign_digest",
    "signing_session",
    "store_certificates",
]

logger = logging.getLogger(__name__)

#: One lock for every PKCS#11 call in the process.
P11_LOCK = threading.RLock()

_T = TypeVar("_T")

KeyAlgorithm = str  # "rsa2048" | "ec-p256"
_KEY_ID = b"\x01"


def _lib(module_path: str) -> Any:
    return pkcs11.lib(module_path)


#: Token objects by (module, label): finding one scans every slot (about 1 ms with a few
#: dozen tokens). Emptied whenever the module is re-initialised (slots change then).
_TOKENS: dict[tuple[str, str], Any] = {}


#: Signing certificates by (module, label, key label): public, and read from the token at
#: every signature otherwise. Emptied with the token cache and when certificates are stored.
_CERTIFICATES: dict[tuple[str, str, str], asn1_x509.Certificate] = {}


def _reinitialize(module_path: str) -> None:
    _TOKENS.clear()
    _CERTIFICATES.clear()
    _lib(module_path).reinitialize()


def _get_token(ref_module: str, label: str) -> Any:
    key = (ref_module, label)
    if key not in _TOKENS:
        try:
            _TOKENS[key] = _scanning(lambda: _lib(ref_module).get_token(token_label=label))
        except p11_exc.NoSuchToken:
            raise TokenNotFound(label, "not present") from None
    return _TOKENS[key]


@contextlib.contextmanager
def _session(
    module_path: str,
    label: str,
    *,
    user_pin: str | None = None,
    so_pin: str | None = None,
    rw: bool = False,
) -> Iterator[Any]:
    with P11_LOCK, token_lock(label):
        token = _get_token(module_path, label)
        try:
            session = token.open(rw=rw, user_pin=user_pin, so_pin=so_pin)
        except p11_exc.PinIncorrect:
            raise PinIncorrect(label, "PIN refused") from None
        except (p11_exc.PinLocked, p11_exc.PinExpired):
            raise PinLocked(label, "PIN locked or expired on the token") from None
        except p11_exc.PKCS11Error as exc:
            raise TokenError(label, type(exc).__name__) from None
        try:
            yield session
        finally:
            session.close()  # C_Logout + C_CloseSession: the token is not left logged in


def _softhsm_util(*args: str) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("softhsm2-util")
    if tool is None:
        raise TokenError("softhsm2-util", "SoftHSM2 is not installed (apt-get install softhsm2)")
    return subprocess.run([tool, *args], capture_output=True, text=True, check=False, timeout=60)  # noqa: S603


@dataclass(frozen=True)
class TokenInfo:
    """What the token doctor shows of one token (no secrets)."""

    label: str
    serial: str
    manufacturer: str
    model: str
    has_key: bool
    certificate_subject: str | None
    certificate_not_after: str | None
    #: The subject's common name (the person's or the organisation's name), if any.
    certificate_name: str | None = None


def provision_softhsm_token(
    setup: SoftHsmSetup,
    *,
    label: str,
    user_pin: str,
    so_pin: str,
    algorithm: KeyAlgorithm = "rsa2048",
) -> bytes:
    """Create a SoftHSM2 token, generate a key pair on it and return the public key (DER).

    The token is initialised with random throwaway PINs (``softhsm2-util`` only takes PINs on
    its command line or a terminal), which are then changed over PKCS#11 to ``so_pin`` and
    ``user_pin``, so neither real PIN ever appears in a process list.

    :raises TokenExists: a token with this label exists.
    """
    ref = TokenRef(module_path=setup.module_path, token_label=label)
    # Under the token's lock: a backup copying the store never sees it half made.
    with P11_LOCK, token_lock(label):
        lib = _lib(setup.module_path)
        with contextlib.suppress(p11_exc.NoSuchToken):
            lib.get_token(token_label=label)
            raise TokenExists(label, "exists already")
        temp_so, temp_user = secrets.token_hex(8), secrets.token_hex(8)
        done = _softhsm_util(
            "--init-token", "--free", "--label", label, "--so-pin", temp_so, "--pin", temp_user
        )
        if done.returncode != 0:
            raise TokenError(label, "softhsm2-util could not initialise the token")
        _reinitialize(setup.module_path)  # tokens made by another process are invisible until then
        with _session(ref.module_path, label, so_pin=temp_so, rw=True) as so_session:
            so_session.set_pin(temp_so, so_pin)
        with _session(ref.module_path, label, user_pin=temp_user, rw=True) as session:
            session.set_pin(temp_user, user_pin)
        with _session(ref.module_path, label, user_pin=user_pin, rw=True) as session:
            private = {Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False}
            if algorithm == "rsa2048":
                public, _ = session.generate_keypair(
                    KeyType.RSA,
                    2048,
                    store=True,
                    label=ref.key_label,
                    id=_KEY_ID,
                    private_template=private,
                )
                der: bytes = encode_rsa_public_key(public)
            elif algorithm == "ec-p256":
                params = session.create_domain_parameters(
                    KeyType.EC,
                    {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")},
                    local=True,
                )
                public, _ = params.generate_keypair(
                    store=True, label=ref.key_label, id=_KEY_ID, private_template=private
                )
                der = encode_ec_public_key(public)
            else:
                raise ValueError(f"unknown key algorithm {algorithm!r}")
    logger.info("provisioned token %s (%s)", label, algorithm)
    return der


def store_certificates(
    ref: TokenRef, user_pin: str, certificate_der: bytes, chain_der: list[bytes]
) -> None:
    """Write the signing certificate (same label and id as the key) and its CA chain,
    replacing what the token held; the next signature uses the new certificate."""
    _CERTIFICATES.pop((ref.module_path, ref.token_label, ref.key_label), None)
    with _session(ref.module_path, ref.token_label, user_pin=user_pin, rw=True) as session:
        for existing in session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE}):
            existing.destroy()
        attrs = decode_x509_certificate(certificate_der)
        attrs.update({Attribute.TOKEN: True, Attribute.LABEL: ref.key_label, Attribute.ID: _KEY_ID})
        session.create_object(attrs)
        for n, der in enumerate(chain_der):
            ca_attrs = decode_x509_certificate(der)
            ca_attrs.update(
                {Attribute.TOKEN: True, Attribute.LABEL: f"ca-{n}", Attribute.ID: bytes([0x10 + n])}
            )
            session.create_object(ca_attrs)


def read_certificate(ref: TokenRef) -> bytes | None:
    """The signing certificate on the token (public objects need no PIN)."""
    with _session(ref.module_path, ref.token_label) as session:
        for obj in session.get_objects(
            {Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.LABEL: ref.key_label}
        ):
            value: bytes = obj[Attribute.VALUE]
            return value
    return None


def read_chain(ref: TokenRef) -> list[bytes]:
    """The CA certificates stored on the token next to the signing certificate."""
    found: list[bytes] = []
    with _session(ref.module_path, ref.token_label) as session:
        for obj in session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE}):
            if obj[Attribute.LABEL] != ref.key_label:
                found.append(obj[Attribute.VALUE])
    return found


def sign_digest(ref: TokenRef, pin: str, digest: bytes) -> bytes:
    """Sign a SHA-256 digest with the token's key (the deferred-signing client side).

    RSA: PKCS#1 v1.5 over the DigestInfo; EC: ECDSA, DER-encoded (r, s).

    :raises PinIncorrect: the token refused the PIN.
    """
    if len(digest) != 32:
        raise ValueError("a SHA-256 digest is 32 bytes")
    with _session(ref.module_path, ref.token_label, user_pin=pin) as session:
        key = session.get_key(object_class=ObjectClass.PRIVATE_KEY, label=ref.key_label)
        if key.key_type == KeyType.EC:
            raw: bytes = key.sign(digest, mechanism=Mechanism.ECDSA)
            return encode_ecdsa_signature(raw)
        info = DigestInfo({"digest_algorithm": {"algorithm": "sha256"}, "digest": digest})
        signed: bytes = key.sign(info.dump(), mechanism=Mechanism.RSA_PKCS)
        return signed


def delete_softhsm_token(setup: SoftHsmSetup, label: str) -> None:
    """Remove a SoftHSM2 token and everything on it."""
    with P11_LOCK, token_lock(label):
        done = _softhsm_util("--delete-token", "--token", label)
        if done.returncode != 0:
            raise TokenNotFound(label, "could not be deleted")
        _reinitialize(setup.module_path)


#: How often a read of every slot is tried before its error stands, and the pause between.
_SCAN_ATTEMPTS, _SCAN_PAUSE = 5, 0.02


def _is_transient(exc: Exception) -> bool:
    # Another process rewriting a token's files while this one reads them all.
    return isinstance(exc, p11_exc.GeneralError) or (
        type(exc) is TokenError and "GeneralError" in str(exc)
    )


def _scanning(read: Callable[[], _T]) -> _T:
    """Run a read-only scan of the module's slots again when it meets a token that another
    process is rewriting (SoftHSM2 answers ``GeneralError`` then: 1 of 50 scans under three
    signing processes). Signing itself never needs this: it holds the token's lock."""
    for attempt in range(1, _SCAN_ATTEMPTS + 1):
        try:
            return read()
        except (p11_exc.GeneralError, TokenError) as exc:
            if attempt == _SCAN_ATTEMPTS or not _is_transient(exc):
                raise
            time.sleep(_SCAN_PAUSE * attempt)
    raise AssertionError("unreachable")


def list_tokens(module_path: str) -> list[TokenInfo]:
    """Every initialised token of a module with its key and certificate (the token doctor)."""
    return _scanning(lambda: _list_tokens(module_path))


def _list_tokens(module_path: str) -> list[TokenInfo]:
    infos: list[TokenInfo] = []
    with P11_LOCK:
        _reinitialize(module_path)
        for slot in _lib(module_path).get_slots(token_present=True):
            token = slot.get_token()
            if not token.label:
                continue
            ref = TokenRef(module_path=module_path, token_label=token.label)
            certificate = read_certificate(ref)
            subject = not_after = name = None
            if certificate is not None:
                parsed = asn1_x509.Certificate.load(certificate)
                subject = parsed.subject.human_friendly
                name = parsed.subject.native.get("common_name")
                not_after = parsed.not_valid_after.isoformat()
            with _session(module_path, token.label) as session:
                has_key = any(
                    True for _ in session.get_objects({Attribute.CLASS: ObjectClass.PUBLIC_KEY})
                )
            infos.append(
                TokenInfo(
                    label=token.label,
                    serial=token.serial.decode(errors="replace").strip()
                    if isinstance(token.serial, bytes)
                    else str(token.serial),
                    manufacturer=token.manufacturer_id,
                    model=token.model,
                    has_key=has_key,
                    certificate_subject=subject,
                    certificate_not_after=not_after,
                    certificate_name=name,
                )
            )
    return infos


class _LockedSigner(PKCS11Signer):
    """pyHanko's PKCS#11 signer, with every token call under :data:`P11_LOCK`.

    pyHanko runs ``C_Sign`` on the default thread pool; the lock (re-entrant, and already
    held by the thread that opened the session) makes that call wait for nothing else
    but keeps any other thread out of the module meanwhile.
    """

    def _load_objects(self) -> None:
        with P11_LOCK:
            super()._load_objects()  # type: ignore[no-untyped-call]


@contextlib.contextmanager
def signing_session(
    ref: TokenRef, pin: str, *, chain: list[asn1_x509.Certificate] | None = None
) -> Iterator[PKCS11Signer]:
    """Log in to a token with ``pin`` and yield a pyHanko signer; log out on exit.

    The process-wide lock is held for the whole window, so nobody else can use the login.

    :raises PinIncorrect: the token refused the PIN.
    :raises TokenNotFound: no such token.
    """
    cache_key = (ref.module_path, ref.token_label, ref.key_label)
    with _session(ref.module_path, ref.token_label, user_pin=pin) as session:
        signer = _LockedSigner(
            session,
            key_label=ref.key_label,
            cert_label=ref.key_label,
            signing_cert=_CERTIFICATES.get(cache_key),
            ca_chain=chain or [],
            # Relying parties hold the roots they trust; the CMS carries the path below it.
            embed_roots=False,
        )
        try:
            signer._load_objects()
        except Exception as exc:  # pyHanko raises PKCS11Error for a missing key or cert
            raise TokenNotFound(ref.token_label, "no signing key or certificate") from exc
        _CERTIFICATES[cache_key] = signer.signing_cert
        # SoftHSM2 offers ECDSA only as the raw mechanism (shared PKCS11-NOTES.md §5.6).
        signer.use_raw_mechanism = signer.signing_cert.public_key.algorithm == "ec"
        yield signer
