"""The collaborators every service call needs, built once per process."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from argon2 import PasswordHasher
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from docexchange.domain.operations import BlobStoreKind
from docexchange.services.accounts import LoginPolicy
from docexchange.services.keys import KeyMaterial
from docexchange.services.peers import PeerDirectory, load_peers
from docexchange.settings import Settings
from docexchange.storage.base import make_engine, make_sessionmaker
from docexchange.storage.blob_rows import DatabaseBlobStore
from docexchange.storage.blobs import Blobs, BlobStore
from pki.isolation import IsolatedVerifier, Limits

__all__ = ["Services", "build_services"]


@dataclass(frozen=True)
class Services:
    """Long-lived collaborators: settings, database, hashing, blobs, keys."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    hasher: PasswordHasher
    login_policy: LoginPolicy
    blobs: Blobs
    keys: KeyMaterial
    #: Worker processes that parse untrusted PDFs under time and memory limits.
    verifier: IsolatedVerifier
    #: Peer servers and the units they serve (none: everything is served here).
    peers: PeerDirectory = field(default_factory=PeerDirectory)


def build_services(settings: Settings) -> Services:
    """Build the collaborators for ``settings`` (one engine per process)."""
    engine = make_engine(settings)
    blobs: Blobs
    if settings.blob_store == BlobStoreKind.DATABASE:
        blobs = DatabaseBlobStore(engine, spool=settings.instance_dir)
    else:
        blobs = BlobStore(settings.blob_dir)
    blobs.clean_temporary()  # what writes killed mid-way left behind
    hasher = PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_kib,
        parallelism=1,
    )
    return Services(
        settings=settings,
        engine=engine,
        sessions=make_sessionmaker(engine),
        hasher=hasher,
        login_policy=LoginPolicy(
            max_failures=settings.login_max_failures,
            window_seconds=settings.login_window_seconds,
            max_client_failures=settings.login_max_client_failures,
        ),
        blobs=blobs,
        keys=KeyMaterial(
            hsm_dir=settings.instance_dir / "hsm",
            pki_dir=settings.instance_dir / "pki",
            module_path=settings.pkcs11_module,
            pki_base_url=settings.pki_base_url,
            tokens_config=Path(settings.tokens_config) if settings.tokens_config else None,
            trust_dir=Path(settings.trust_dir)
            if settings.trust_dir
            else settings.instance_dir / "trust",
            so_pin_file=settings.so_pin_path,
        ),
        verifier=IsolatedVerifier(
            Limits(
                seconds=settings.verify_timeout_seconds,
                memory_bytes=settings.verify_memory_mib * 1024 * 1024,
                workers=settings.verify_workers,
                fetch_online=settings.revocation_fetch,
                fetch_timeout=settings.revocation_fetch_timeout_seconds,
                revocation_cache_seconds=settings.revocation_cache_seconds,
            )
        ),
        peers=load_peers(settings.peers_config),
    )
