"""Frozen settings, loaded once from ``DOCEXCHANGE_*`` environment variables.

Everything has an embedded default under the instance folder (``./instance`` unless
``DOCEXCHANGE_INSTANCE`` says otherwise): a SQLite database, the blob store, SoftHSM2 tokens
and the demo PKI. Secrets the server itself needs (the session signing key) come from the
environment or from an untracked file in the instance folder written by ``docexchange init``
or ``docexchange demo``; there is no fallback secret.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from docexchange.domain.operations import BlobStoreKind
from docexchange.errors import ConfigurationError

__all__ = ["ENV_PREFIX", "Settings", "ensure_secret_key", "load_settings"]

logger = logging.getLogger(__name__)

ENV_PREFIX = "DOCEXCHANGE_"
#: The blob stores ``DOCEXCHANGE_BLOB_STORE`` may name.
BLOB_STORES = tuple(kind.value for kind in BlobStoreKind)
SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name, not a secret

#: Present in an instance folder set up by ``docexchange demo``.
DEMO_MARKER_FILE = "demo_mode"

_MiB = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    """Configuration of one docexchange instance.

    Build it with :func:`load_settings` in production; tests build it directly.
    """

    instance_dir: Path
    database_url: str = ""
    #: PostgreSQL schema to work in (``search_path``); empty means the server default.
    database_schema: str = ""
    secret_key: str = field(default="", repr=False)
    #: ``demo`` mode shows the demo credentials on the login page and allows ``docexchange demo``.
    demo_mode: bool = False
    #: Largest request body accepted, in bytes (uploads, imports).
    max_upload_bytes: int = 50 * _MiB
    #: Largest number of rows in one directory import.
    max_import_rows: int = 100_000
    #: Lifetime of an API bearer token, in seconds.
    token_ttl_seconds: int = 8 * 3600
    default_locale: str = "vi"
    log_level: str = "INFO"
    #: Failed logins for one username within the window before further tries are refused.
    login_max_failures: int = 10
    login_window_seconds: int = 900
    #: Failed logins from one client address (over all accounts) within the window.
    login_max_client_failures: int = 50
    #: How many proxies in front of the server set ``X-Forwarded-For``/``-Proto``; 0: the
    #: client address is the socket's peer (never trust a header nobody sets for you).
    trusted_proxies: int = 0
    #: Roles that must sign in with a second factor (TOTP), comma-separated; empty: none.
    #: Not set: ``admin``, except in demo mode (where nobody must).
    require_totp_roles: str | None = None
    #: Argon2id cost for password hashes (OWASP: at least 19 MiB and 2 passes).
    argon2_memory_kib: int = 65536
    argon2_time_cost: int = 3
    #: PKCS#11 module of the tokens (SoftHSM2 by default; a vendor or HSM module drops in).
    pkcs11_module: str = "/usr/lib/softhsm/libsofthsm2.so"
    #: Public address of this server's demo CRL, OCSP and TSA (written into certificates).
    pki_base_url: str = "http://127.0.0.1:5000/pki"
    #: Token configuration file (module path and key label per token; never PINs).
    tokens_config: str = ""
    #: A file the operator keeps outside the instance folder (a systemd credential, a
    #: mounted secret) holding the security officer's PIN new tokens get; empty: the admin
    #: types it for each new token. Demo mode has its own demo SO PIN.
    token_so_pin_file: str = ""
    #: Folder of trusted root certificates (production anchors); default ``<instance>/trust``.
    trust_dir: str = ""
    #: Consecutive wrong PINs before a token is locked until an admin unlocks it.
    max_pin_failures: int = 5
    #: Documents one PIN entry may sign (``POST /signing-batches``, the queue page).
    max_signing_batch: int = 100
    #: Time-stamp signatures (PAdES B-T) with the instance's TSA.
    timestamp_signatures: bool = True
    #: Seconds one PDF verification may take before its worker process is killed.
    verify_timeout_seconds: int = 30
    #: Address-space limit of a verifier worker process, in MiB.
    verify_memory_mib: int = 1536
    #: Verifier worker processes (PDFs checked at the same time).
    verify_workers: int = 2
    #: Fetch CRLs and OCSP responses online from the addresses in the certificates.
    revocation_fetch: bool = True
    #: Seconds for one CRL or OCSP request.
    revocation_fetch_timeout_seconds: int = 5
    #: Seconds revocation data fetched online is reused (never past its nextUpdate).
    revocation_cache_seconds: int = 300
    #: Peer servers file (YAML: name, url, which codes they serve, token hashes).
    peers_config: str = ""
    #: Seconds a peer may take to answer one delivery or status before it is retried later.
    peer_timeout_seconds: int = 15
    #: Where files are kept: ``filesystem`` (``<instance>/blobs``, the embedded default) or
    #: ``database`` (rows of the same database, so that every app server reaches them).
    blob_store: str = "filesystem"
    #: Free space (MiB) the blob store must keep; below it ``/healthz`` answers 503.
    min_free_mib: int = 200
    #: Cookies only over HTTPS; on by default outside demo mode.
    secure_cookies: bool = False
    #: Fully-electronic ratio targets per unit level, e.g. ``district=1,commune=0.9``
    #: (levels not named: 100 %, the target the provincial rubrics set).
    ratio_targets: str = ""

    def __post_init__(self) -> None:
        if not self.database_url:
            object.__setattr__(
                self, "database_url", f"sqlite:///{self.instance_dir / 'docexchange.sqlite3'}"
            )
        if self.blob_store not in BLOB_STORES:
            raise ConfigurationError(
                "config_invalid_value", name=ENV_PREFIX + "BLOB_STORE", value=self.blob_store
            )
        if self.blob_store == BlobStoreKind.DATABASE and self.is_sqlite:
            # One SQLite file serves one machine, whose folder holds the files already; and
            # its single writer would make a file's row wait for the request that names it.
            raise ConfigurationError("config_blob_store_needs_postgresql")

    @property
    def totp_roles(self) -> frozenset[str]:
        """The role names that must have a second factor."""
        if self.require_totp_roles is None:
            return frozenset() if self.demo_mode else frozenset({"admin"})
        return frozenset(r.strip() for r in self.require_totp_roles.split(",") if r.strip())

    @property
    def so_pin_path(self) -> Path | None:
        """The operator's SO PIN file: never inside the instance folder, so that no copy or
        backup of the instance holds it.

        :raises ConfigurationError: ``config_secret_in_instance``.
        """
        if not self.token_so_pin_file:
            return None
        path = Path(self.token_so_pin_file).resolve()
        if path.is_relative_to(self.instance_dir.resolve()):
            raise ConfigurationError(
                "config_secret_in_instance", name=ENV_PREFIX + "TOKEN_SO_PIN_FILE"
            )
        return path

    @property
    def blob_dir(self) -> Path:
        """Content-addressed document store."""
        return self.instance_dir / "blobs"

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is SQLite (one writer; no row locks)."""
        return self.database_url.startswith("sqlite")

    def with_overrides(self, **changes: object) -> Settings:
        """Return a copy with some fields changed (tests, CLI options)."""
        return replace(self, **changes)  # type: ignore[arg-type]


_BOOL_TRUE = {"1", "true", "yes", "on"}
_BOOL_FALSE = {"0", "false", "no", "off", ""}

# name (after the prefix) -> (field, converter)
_INT_FIELDS = {
    "MAX_UPLOAD_BYTES": "max_upload_bytes",
    "MAX_IMPORT_ROWS": "max_import_rows",
    "TOKEN_TTL_SECONDS": "token_ttl_seconds",
    "ARGON2_MEMORY_KIB": "argon2_memory_kib",
    "ARGON2_TIME_COST": "argon2_time_cost",
    "LOGIN_MAX_FAILURES": "login_max_failures",
    "LOGIN_WINDOW_SECONDS": "login_window_seconds",
    "LOGIN_MAX_CLIENT_FAILURES": "login_max_client_failures",
    "TRUSTED_PROXIES": "trusted_proxies",
    "MAX_PIN_FAILURES": "max_pin_failures",
    "MAX_SIGNING_BATCH": "max_signing_batch",
    "VERIFY_TIMEOUT_SECONDS": "verify_timeout_seconds",
    "VERIFY_MEMORY_MIB": "verify_memory_mib",
    "VERIFY_WORKERS": "verify_workers",
    "REVOCATION_FETCH_TIMEOUT_SECONDS": "revocation_fetch_timeout_seconds",
    "REVOCATION_CACHE_SECONDS": "revocation_cache_seconds",
    "PEER_TIMEOUT_SECONDS": "peer_timeout_seconds",
    "MIN_FREE_MIB": "min_free_mib",
}
_STR_FIELDS = {
    "RATIO_TARGETS": "ratio_targets",
    "BLOB_STORE": "blob_store",
    "DATABASE_URL": "database_url",
    "DATABASE_SCHEMA": "database_schema",
    "SECRET_KEY": "secret_key",
    "DEFAULT_LOCALE": "default_locale",
    "LOG_LEVEL": "log_level",
    "PKCS11_MODULE": "pkcs11_module",
    "PKI_BASE_URL": "pki_base_url",
    "TOKENS_CONFIG": "tokens_config",
    "TOKEN_SO_PIN_FILE": "token_so_pin_file",
    "TRUST_DIR": "trust_dir",
    "PEERS_CONFIG": "peers_config",
    "REQUIRE_TOTP_ROLES": "require_totp_roles",
}
_BOOL_FIELDS = {
    "DEMO": "demo_mode",
    "SECURE_COOKIES": "secure_cookies",
    "TIMESTAMP_SIGNATURES": "timestamp_signatures",
    "REVOCATION_FETCH": "revocation_fetch",
}
_KNOWN = {"INSTANCE", *_INT_FIELDS, *_STR_FIELDS, *_BOOL_FIELDS}
# Variables read by other parts of the project (tests, tools), not by the server settings.
_FOREIGN = {
    "TEST_DATABASE_URL",
    "TEST_POSTGRES_URL",
    "CORPUS",
    "REQUIRE_CORPUS",
    "CORPUS_REPORT",
    "BROWSER",
    "CHROMEDRIVER",
    "ADMIN_USERNAME",
    "ADMIN_PASSWORD",
    "SIGN_USERNAME",
    "SIGN_PASSWORD",
    "SIGN_PIN",
    # Read by deploy/gunicorn.conf.py, not by the application.
    "WEB_BIND",
    "WEB_WORKERS",
    "WEB_THREADS",
    "WEB_PRELOAD",
}


def _parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in _BOOL_TRUE:
        return True
    if value in _BOOL_FALSE:
        return False
    raise ConfigurationError("config_invalid_value", name=ENV_PREFIX + name, value=raw)


def _parse_int(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(
            "config_invalid_value", name=ENV_PREFIX + name, value=raw
        ) from None
    if value <= 0:
        raise ConfigurationError("config_invalid_value", name=ENV_PREFIX + name, value=raw)
    return value


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build :class:`Settings` from ``DOCEXCHANGE_*`` variables.

    :param environ: the environment to read; ``os.environ`` by default.
    :raises ConfigurationError: on an unknown ``DOCEXCHANGE_*`` variable or a bad value.
    """
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for key, raw in env.items():
        if not key.startswith(ENV_PREFIX):
            continue
        name = key[len(ENV_PREFIX) :]
        if name in _FOREIGN:
            continue
        if name not in _KNOWN:
            raise ConfigurationError("config_unknown_variable", name=key)
        if name in _INT_FIELDS:
            values[_INT_FIELDS[name]] = _parse_int(name, raw)
        elif name in _STR_FIELDS:
            values[_STR_FIELDS[name]] = raw
        elif name in _BOOL_FIELDS:
            values[_BOOL_FIELDS[name]] = _parse_bool(name, raw)
    instance = Path(env.get(ENV_PREFIX + "INSTANCE", "instance")).resolve()
    settings = Settings(instance_dir=instance, **values)  # type: ignore[arg-type]
    if "demo_mode" not in values and (instance / DEMO_MARKER_FILE).is_file():
        settings = replace(settings, demo_mode=True)
    if not settings.secret_key:
        key_file = instance / SECRET_KEY_FILE
        if key_file.is_file():
            settings = replace(settings, secret_key=key_file.read_text(encoding="ascii").strip())
    return settings


def ensure_secret_key(instance_dir: Path) -> str:
    """Create the instance's session key file (mode 0600) if missing and return the key.

    Used by ``docexchange init`` and ``docexchange demo``; the file is never committed.
    """
    instance_dir.mkdir(parents=True, exist_ok=True)
    key_file = instance_dir / SECRET_KEY_FILE
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_urlsafe(48))
        logger.info("created session key file in %s", instance_dir)
    return key_file.read_text(encoding="ascii").strip()
