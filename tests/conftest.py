"""Fixtures: settings -> engine (SQLite or PostgreSQL) -> services -> app -> client.

The database comes from ``DOCEXCHANGE_TEST_DATABASE_URL``; without it the suite runs on a
SQLite file in a temporary folder. On PostgreSQL each run works in a schema of its own, so
runs never see each other's rows. A missing or unreachable database fails the run; nothing
is skipped.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, delete, select, text, update
from sqlalchemy.orm import Session

from docexchange.domain.audit import GENESIS_HASH
from docexchange.services.container import Services, build_services
from docexchange.services.demo import DEMO_PASSWORD, apply_demo
from docexchange.services.schema import migrate
from docexchange.settings import Settings
from docexchange.storage.base import Base
from docexchange.storage.models import AuditHead

TEST_DB_ENV = "DOCEXCHANGE_TEST_DATABASE_URL"


@dataclass(frozen=True)
class Database:
    """Where this run's tables live."""

    url: str
    schema: str  # empty on SQLite

    @property
    def is_postgres(self) -> bool:
        return self.url.startswith("postgresql")

    def env(self) -> dict[str, str]:
        """Environment for a CLI run against this database."""
        env = {"DOCEXCHANGE_DATABASE_URL": self.url}
        if self.schema:
            env["DOCEXCHANGE_DATABASE_SCHEMA"] = self.schema
        return env


def _make_schema(url: str, schema: str) -> None:
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()


def _drop_schema(url: str, schema: str) -> None:
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(scope="session")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    url = os.environ.get(TEST_DB_ENV, "")
    if not url:
        path = tmp_path_factory.mktemp("db") / "test.sqlite3"
        yield Database(url=f"sqlite:///{path}", schema="")
        return
    schema = f"dx_test_{secrets.token_hex(4)}"
    _make_schema(url, schema)
    try:
        yield Database(url=url, schema=schema)
    finally:
        _drop_schema(url, schema)


@pytest.fixture
def fresh_database(database: Database, tmp_path: Path) -> Iterator[Database]:
    """An empty database of the same kind, for migration and CLI tests."""
    if not database.is_postgres:
        yield Database(url=f"sqlite:///{tmp_path / 'fresh.sqlite3'}", schema="")
        return
    schema = f"dx_fresh_{secrets.token_hex(4)}"
    _make_schema(database.url, schema)
    try:
        yield Database(url=database.url, schema=schema)
    finally:
        _drop_schema(database.url, schema)


def _operator_so_pin(instance: Path) -> Path:
    """A secret file beside (never inside) the instance folder, as an operator keeps it."""
    path = instance.parent / f"{instance.name}-operator-secrets" / "so_pin"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.write_text(secrets.token_hex(12) + "\n", encoding="ascii")
    return path


def make_settings(instance: Path, db: Database, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "instance_dir": instance,
        "database_url": db.url,
        "database_schema": db.schema,
        "secret_key": secrets.token_urlsafe(32),
        # Real Argon2id, at a lower cost so that the suite stays fast.
        "argon2_memory_kib": 8192,
        "argon2_time_cost": 1,
        # No role must have a second factor unless a test says so (tests/web/test_signin.py).
        "require_totp_roles": "",
        # New tokens' SO PIN from the operator's file, outside the instance, as in production.
        "token_so_pin_file": str(_operator_so_pin(instance)),
    }
    values.update(overrides)
    return Settings(**values)


def subprocess_env(extra: dict[str, str]) -> dict[str, str]:
    """The environment for a ``docexchange`` command in a process of its own: this one's,
    plus ``extra``, minus what would point it at the test run's database or token store."""
    env = {**os.environ, **extra}
    for name in ("DOCEXCHANGE_TEST_DATABASE_URL", "SOFTHSM2_CONF"):
        env.pop(name, None)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def pki_port() -> int:
    """The loopback port the demo CA's CRL/OCSP/TSA are served on (written into certificates)."""
    return free_port()


@pytest.fixture(scope="session")
def settings(
    database: Database, tmp_path_factory: pytest.TempPathFactory, pki_port: int
) -> Settings:
    return make_settings(
        tmp_path_factory.mktemp("instance"),
        database,
        pki_base_url=f"http://127.0.0.1:{pki_port}/pki",
    )


@pytest.fixture(scope="session")
def migrated_services(settings: Settings) -> Iterator[Services]:
    svc = build_services(settings)
    migrate(svc.engine)
    yield svc
    svc.engine.dispose()


@pytest.fixture
def services(migrated_services: Services) -> Iterator[Services]:
    """The services on a migrated database, emptied after each test."""
    yield migrated_services
    _wipe(migrated_services.engine)


@pytest.fixture
def engine(services: Services) -> Engine:
    return services.engine


def _wipe(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name == "audit_head":
                continue
            if table.name == "units":
                # Self-references: unlink before deleting.
                conn.execute(update(table).values(parent_code=None, successor_code=None))
            conn.execute(delete(table))
        conn.execute(update(AuditHead).values(seq=0, hash=GENESIS_HASH))


@pytest.fixture
def session(services: Services) -> Iterator[Session]:
    with services.sessions() as s:
        yield s


@contextlib.contextmanager
def serve_in_thread(app: Flask, port: int = 0) -> Iterator[int]:
    """Serve ``app`` on a loopback port in a thread; yield the port; stop it after."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def pki_server(migrated_services: Services, pki_port: int) -> Iterator[str]:
    """The app served on the PKI port, so OCSP, CRL and TSA answer as they do in production."""
    from docexchange.web.app import create_app

    with serve_in_thread(create_app(services=migrated_services), pki_port):
        yield f"http://127.0.0.1:{pki_port}/pki"


@pytest.fixture(scope="session")
def signing_tokens(migrated_services: Services) -> list[dict[str, Any]]:
    """Tokens for every demo account and unit (PIN 123456), made once per run.

    They live in the run's instance folder; the database rows made on the way are wiped,
    and each test that needs people creates them again with the ``demo`` fixture. Returns
    the certificate registrations, which ``registered_certificates`` puts back.
    """
    from docexchange.storage.models import CertificateRecord

    with migrated_services.sessions() as s:
        apply_demo(s, hasher=migrated_services.hasher, keys=migrated_services.keys)
        records = [
            {
                c.name: getattr(row, c.name)
                for c in CertificateRecord.__table__.columns
                if c.name != "id"
            }
            for row in s.scalars(select(CertificateRecord))
        ]
    _wipe(migrated_services.engine)
    return records


@pytest.fixture
def registered_certificates(signing_tokens: list[dict[str, Any]], services: Services) -> None:
    """The demo tokens' certificates, registered to their owners again for this test."""
    from docexchange.storage.models import CertificateRecord

    with services.sessions() as s:
        s.add_all(CertificateRecord(**record) for record in signing_tokens)
        s.commit()


@pytest.fixture
def demo(services: Services) -> None:
    with services.sessions() as s:
        apply_demo(s, hasher=services.hasher)


@pytest.fixture
def app(services: Services) -> Flask:
    from docexchange.web.app import create_app

    flask_app = create_app(services=services)
    flask_app.config["TESTING"] = True
    return flask_app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def login_token(client: FlaskClient, username: str, password: str = DEMO_PASSWORD) -> str:
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.get_json()
    token: str = response.get_json()["token"]
    return token


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def as_user(client: FlaskClient, demo: None) -> Any:
    """``as_user("pt.vanthu")`` -> headers with a fresh bearer token."""

    def _headers(username: str) -> dict[str, str]:
        return auth(login_token(client, username))

    return _headers


def error_code(response: Any) -> str:
    body = response.get_json()
    assert body is not None, response.data[:200]
    assert set(body["error"]) - {"field", "request_id"} == {"code", "message", "message_vi"}
    code: str = body["error"]["code"]
    return code


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A skipped test hides missing work: fail the run if anything was skipped."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and reporter.stats.get("skipped") and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
