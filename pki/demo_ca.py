"""The demo PKI: a root, a "government CA" intermediate, a TSA and an OCSP responder.

Generated once per instance under ``<instance>/pki`` (private keys mode 0600) and reused
after; reproducible in shape, not in key material. Personal certificates carry subjects
shaped like Vietnamese ones (CN, title, O, ST, C=VN, UID=CCCD:…); organisation certificates
carry the unit's identifier code as organizationIdentifier. Production trust anchors (MIC
National Root CA, the Government specialised CA) are configuration, never this code.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from asn1crypto import cms, core, tsp
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPublicKeyTypes
from cryptography.x509 import ocsp
from cryptography.x509.oid import (
    AuthorityInformationAccessOID,
    ExtendedKeyUsageOID,
    NameOID,
    ObjectIdentifier,
)
from pyhanko.sign import general
from pyhanko.sign.general import simple_cms_attribute
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

__all__ = ["DemoCA", "PersonSubject"]

logger = logging.getLogger(__name__)

UID = ObjectIdentifier("0.9.2342.19200300.100.1.1")
ORGANIZATION_IDENTIFIER = ObjectIdentifier("2.5.4.97")
_ROLES = ("root", "intermediate", "tsa", "ocsp")


@dataclass(frozen=True)
class PersonSubject:
    """Who a personal certificate names."""

    full_name: str
    position: str
    unit_name: str
    province: str
    citizen_id: str


def _name(*attrs: tuple[ObjectIdentifier, str]) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in attrs])


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


class DemoCA:
    """A small software CA for demos and tests (never for production keys)."""

    def __init__(self, directory: Path, *, base_url: str) -> None:
        self.directory = directory
        self.base_url = base_url.rstrip("/")
        self._timestamper: DummyTimeStamper | None = None
        self._crl: tuple[tuple[int, int], x509.CertificateRevocationList] | None = None
        self._certs: dict[str, x509.Certificate] = {}
        self._keys: dict[str, rsa.RSAPrivateKey] = {}
        for role in _ROLES:
            self._certs[role] = x509.load_pem_x509_certificate(
                (directory / f"{role}.crt").read_bytes()
            )
            key = serialization.load_pem_private_key((directory / f"{role}.key").read_bytes(), None)
            assert isinstance(key, rsa.RSAPrivateKey)
            self._keys[role] = key

    # --- creation -----------------------------------------------------------------------

    @classmethod
    def ensure(cls, directory: Path, *, base_url: str = "http://127.0.0.1:5000/pki") -> DemoCA:
        """Load the CA from ``directory``, creating it on first use."""
        if not (directory / "root.crt").exists():
            cls._create(directory, base_url=base_url)
        return cls(directory, base_url=base_url)

    @classmethod
    def _create(cls, directory: Path, *, base_url: str) -> None:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        now = datetime.now(UTC) - timedelta(minutes=5)
        root_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
        root_name = _name(
            (NameOID.COMMON_NAME, "docexchange Demo Root CA"),
            (NameOID.ORGANIZATION_NAME, "docexchange demo"),
            (NameOID.COUNTRY_NAME, "VN"),
        )
        root = cls._ca_cert(
            root_name, root_key.public_key(), root_name, root_key, now, years=20, path_len=1
        )
        inter_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        inter_name = _name(
            (NameOID.COMMON_NAME, "Co quan chung thuc so demo"),
            (NameOID.ORGANIZATION_NAME, "docexchange demo"),
            (NameOID.COUNTRY_NAME, "VN"),
        )
        inter = cls._ca_cert(
            inter_name, inter_key.public_key(), root_name, root_key, now, years=10, path_len=0
        )
        pairs = {"root": (root, root_key), "intermediate": (inter, inter_key)}
        for role, usage in (
            ("tsa", ExtendedKeyUsageOID.TIME_STAMPING),
            ("ocsp", ExtendedKeyUsageOID.OCSP_SIGNING),
        ):
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            cert = (
                x509.CertificateBuilder()
                .subject_name(
                    _name(
                        (NameOID.COMMON_NAME, f"docexchange demo {role.upper()}"),
                        (NameOID.COUNTRY_NAME, "VN"),
                    )
                )
                .issuer_name(inter_name)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now)
                .not_valid_after(now + timedelta(days=3650))
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(
                    x509.KeyUsage(True, True, False, False, False, False, False, False, False),
                    critical=True,
                )
                .add_extension(x509.ExtendedKeyUsage([usage]), critical=True)
                .add_extension(
                    x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
                )
                .add_extension(
                    x509.AuthorityKeyIdentifier.from_issuer_public_key(inter_key.public_key()),
                    critical=False,
                )
                .sign(inter_key, hashes.SHA256())
            )
            pairs[role] = (cert, key)
        for role, (cert, key) in pairs.items():
            (directory / f"{role}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
            _write_private(
                directory / f"{role}.key",
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                ),
            )
        (directory / "revoked.json").write_text("[]", encoding="utf-8")
        logger.info("created the demo PKI in %s", directory)

    @staticmethod
    def _ca_cert(
        subject: x509.Name,
        public_key: CertificateIssuerPublicKeyTypes,
        issuer: x509.Name,
        issuer_key: rsa.RSAPrivateKey,
        now: datetime,
        *,
        years: int,
        path_len: int,
    ) -> x509.Certificate:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + timedelta(days=365 * years))
            .add_extension(x509.BasicConstraints(ca=True, path_length=path_len), critical=True)
            .add_extension(
                x509.KeyUsage(True, False, False, False, False, True, True, False, False),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                critical=False,
            )
            .sign(issuer_key, hashes.SHA256())
        )

    # --- issuing ------------------------------------------------------------------------

    @property
    def root(self) -> x509.Certificate:
        """The demo trust anchor."""
        return self._certs["root"]

    @property
    def intermediate(self) -> x509.Certificate:
        """The CA that issues end-entity certificates."""
        return self._certs["intermediate"]

    def _end_entity(
        self,
        subject: x509.Name,
        public_key_der: bytes,
        *,
        days: int,
        valid_from: datetime | None = None,
    ) -> x509.Certificate:
        public_key = serialization.load_der_public_key(public_key_der)
        issuer_key = self._keys["intermediate"]
        now = valid_from or datetime.now(UTC) - timedelta(minutes=5)
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.intermediate.subject)
            .public_key(public_key)  # type: ignore[arg-type]
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            # digitalSignature + contentCommitment (nonRepudiation), as document signing needs.
            .add_extension(
                x509.KeyUsage(True, True, False, False, False, False, False, False, False),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)  # type: ignore[arg-type]
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                critical=False,
            )
            .add_extension(
                x509.CRLDistributionPoints(
                    [
                        x509.DistributionPoint(
                            [
                                x509.UniformResourceIdentifier(
                                    f"{self.base_url}/crl/intermediate.crl"
                                )
                            ],
                            None,
                            None,
                            None,
                        )
                    ]
                ),
                critical=False,
            )
            .add_extension(
                x509.AuthorityInformationAccess(
                    [
                        x509.AccessDescription(
                            AuthorityInformationAccessOID.OCSP,
                            x509.UniformResourceIdentifier(f"{self.base_url}/ocsp"),
                        )
                    ]
                ),
                critical=False,
            )
            .sign(issuer_key, hashes.SHA256())
        )
        self._record_issued(cert.serial_number)
        return cert

    def _record_issued(self, serial: int) -> None:
        path = self.directory / "issued.txt"
        with path.open("a", encoding="ascii") as handle:
            handle.write(f"{serial:x}\n")

    def has_issued(self, serial: int) -> bool:
        """Whether this CA issued the end-entity certificate with this serial number."""
        path = self.directory / "issued.txt"
        if not path.exists():
            return False
        wanted = f"{serial:x}"
        return any(line.strip() == wanted for line in path.read_text(encoding="ascii").splitlines())

    def issue_personal(
        self,
        public_key_der: bytes,
        person: PersonSubject,
        *,
        days: int = 730,
        valid_from: datetime | None = None,
    ) -> x509.Certificate:
        """A personal signing certificate for an official (``valid_from`` now by default)."""
        subject = _name(
            (NameOID.COUNTRY_NAME, "VN"),
            (NameOID.STATE_OR_PROVINCE_NAME, person.province),
            (NameOID.ORGANIZATION_NAME, person.unit_name),
            (NameOID.TITLE, person.position or "Cán bộ"),
            (NameOID.COMMON_NAME, person.full_name),
            (UID, f"CCCD:{person.citizen_id}"),
        )
        return self._end_entity(subject, public_key_der, days=days, valid_from=valid_from)

    def issue_organisation(
        self,
        public_key_der: bytes,
        *,
        unit_name: str,
        unit_code: str,
        province: str,
        days: int = 1825,
    ) -> x509.Certificate:
        """An organisation (seal) certificate naming the unit and its identifier code."""
        subject = _name(
            (NameOID.COUNTRY_NAME, "VN"),
            (NameOID.STATE_OR_PROVINCE_NAME, province),
            (NameOID.ORGANIZATION_NAME, unit_name),
            (ORGANIZATION_IDENTIFIER, unit_code),
            (NameOID.COMMON_NAME, unit_name),
        )
        return self._end_entity(subject, public_key_der, days=days)

    def renew(
        self, certificate: x509.Certificate, *, valid_from: datetime | None = None
    ) -> x509.Certificate:
        """A new certificate for the same subject and key, as long-lived as the old one,
        valid from ``valid_from`` (default: now). The old one stays valid until it expires
        or is revoked."""
        lifetime = certificate.not_valid_after_utc - certificate.not_valid_before_utc
        public_key_der = certificate.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return self._end_entity(
            certificate.subject, public_key_der, days=lifetime.days, valid_from=valid_from
        )

    # --- revocation and time-stamping -----------------------------------------------------

    def _revoked(self) -> list[dict[str, object]]:
        entries: list[dict[str, object]] = json.loads(
            (self.directory / "revoked.json").read_text(encoding="utf-8")
        )
        return entries

    def revoke(self, certificate: x509.Certificate, *, reason: str = "key_compromise") -> None:
        """Put a certificate on the intermediate's revocation list."""
        entries = self._revoked()
        entries.append(
            {
                "serial": certificate.serial_number,
                "at": datetime.now(UTC).isoformat(),
                "reason": reason,
            }
        )
        (self.directory / "revoked.json").write_text(json.dumps(entries), encoding="utf-8")

    def is_revoked(self, serial: int) -> bool:
        """Whether the intermediate has revoked this serial number."""
        return self._revocation(serial) is not None

    def _revocation(self, serial: int) -> datetime | None:
        for entry in self._revoked():
            if int(str(entry["serial"])) == serial:
                return datetime.fromisoformat(str(entry["at"]))
        return None

    def ocsp_response(self, request_der: bytes) -> bytes:
        """Answer an OCSP request (RFC 6960) about certificates of the intermediate.

        Serials this CA never issued are answered ``unknown``; a request that cannot be
        parsed gets a ``malformedRequest`` response.
        """
        try:
            request = ocsp.load_der_ocsp_request(request_der)
        except ValueError:
            return ocsp.OCSPResponseBuilder.build_unsuccessful(
                ocsp.OCSPResponseStatus.MALFORMED_REQUEST
            ).public_bytes(serialization.Encoding.DER)
        now = datetime.now(UTC)
        serial = request.serial_number
        revoked_at = self._revocation(serial)
        if revoked_at is not None:
            status = ocsp.OCSPCertStatus.REVOKED
        elif self.has_issued(serial):
            status = ocsp.OCSPCertStatus.GOOD
        else:
            status = ocsp.OCSPCertStatus.UNKNOWN
        builder = (
            ocsp.OCSPResponseBuilder()
            .add_response_by_hash(
                issuer_name_hash=request.issuer_name_hash,
                issuer_key_hash=request.issuer_key_hash,
                serial_number=serial,
                algorithm=request.hash_algorithm,
                cert_status=status,
                this_update=now - timedelta(minutes=1),
                next_update=now + timedelta(hours=1),
                revocation_time=revoked_at,
                revocation_reason=x509.ReasonFlags.key_compromise if revoked_at else None,
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, self._certs["ocsp"])
            .certificates([self._certs["ocsp"]])
        )
        for extension in request.extensions:
            if isinstance(extension.value, x509.OCSPNonce):
                builder = builder.add_extension(extension.value, critical=False)
        return builder.sign(self._keys["ocsp"], hashes.SHA256()).public_bytes(
            serialization.Encoding.DER
        )

    def tsa_response(self, request_der: bytes) -> bytes:
        """Answer an RFC 3161 time-stamp request with the demo TSA.

        :raises ValueError: the request cannot be parsed.
        """
        request = tsp.TimeStampReq.load(request_der)
        _ = request["message_imprint"]["hashed_message"].native  # parse now, fail early
        response = self.timestamper().request_tsa_response(request)
        data: bytes = response.dump()
        return data

    def crl(self) -> x509.CertificateRevocationList:
        """The intermediate's CRL (valid for one day).

        Signed once and reused until the revocation list changes (in this or another
        process) or it is half a day old: every time-stamped signature embeds it. A list
        dated after now (the clock was set back) is never handed out.
        """
        stat = (self.directory / "revoked.json").stat()
        key = (stat.st_mtime_ns, stat.st_size)
        cached = self._crl
        now = datetime.now(UTC)
        if (
            cached is not None
            and cached[0] == key
            and now - timedelta(hours=12) < cached[1].last_update_utc <= now
        ):
            return cached[1]
        crl = self._build_crl()
        self._crl = (key, crl)
        return crl

    def _build_crl(self) -> x509.CertificateRevocationList:
        now = datetime.now(UTC)
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.intermediate.subject)
            .last_update(now - timedelta(minutes=1))
            .next_update(now + timedelta(days=1))
            .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    self._keys["intermediate"].public_key()
                ),
                critical=False,
            )
        )
        for entry in self._revoked():
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(int(str(entry["serial"])))
                .revocation_date(datetime.fromisoformat(str(entry["at"])))
                .build()
            )
        return builder.sign(self._keys["intermediate"], hashes.SHA256())

    def timestamper(self) -> DummyTimeStamper:
        """An RFC 3161 time-stamp authority backed by the demo TSA key (in-process, cached)."""
        if self._timestamper is None:
            self._timestamper = self._make_timestamper()
        return self._timestamper

    def _make_timestamper(self) -> DummyTimeStamper:
        tsa_cert = asn1_x509.Certificate.load(
            self._certs["tsa"].public_bytes(serialization.Encoding.DER)
        )
        tsa_key = asn1_keys.PrivateKeyInfo.load(
            self._keys["tsa"].private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        chain = SimpleCertificateStore.from_certs(  # type: ignore[no-untyped-call]
            [asn1_x509.Certificate.load(self.intermediate.public_bytes(serialization.Encoding.DER))]
        )
        return _DemoTimeStamper(
            tsa_cert=tsa_cert, tsa_key=tsa_key, certs_to_embed=chain, signing_key=self._keys["tsa"]
        )


class _DemoTimeStamper(DummyTimeStamper):
    """pyHanko's in-process TSA, with the RSA key parsed once instead of per time stamp.

    (Parsing an RSA key checks it, which costs about 35 ms: more than the rest of a time
    stamp.)
    """

    def __init__(self, *, signing_key: rsa.RSAPrivateKey, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._signing_key = signing_key

    def _sign_tst_info(
        self, tst_info_data: bytes, md_algorithm: str, dt: datetime
    ) -> tuple[bytes, cms.CMSAttributes]:
        digest = hashes.Hash(get_pyca_cryptography_hash(md_algorithm))
        digest.update(tst_info_data)
        attribute: Any = simple_cms_attribute  # pyHanko's helper carries no annotations
        signed_attrs = cms.CMSAttributes(
            [
                attribute("content_type", "tst_info"),
                attribute("signing_time", cms.Time({"utc_time": core.UTCTime(dt)})),
                attribute("signing_certificate", general.as_signing_certificate(self.tsa_cert)),
                attribute("message_digest", digest.finalize()),
            ]
        )
        signature = self._signing_key.sign(
            signed_attrs.dump(), PKCS1v15(), get_pyca_cryptography_hash(md_algorithm.upper())
        )
        return signature, signed_attrs


def new_citizen_id() -> str:
    """A random 12-digit citizen number for demo certificates (not a real CCCD)."""
    return "0" + "".join(secrets.choice("0123456789") for _ in range(11))
