"""The restore drill: back up while documents are being sent, restore into another folder
and another database, and find everything there — every row of every table, every file
with its hash, the audit chain whole — and the restored tokens sign. A backup holds no PIN,
SO PIN or session key, verifies against its manifest, and ``--keep`` prunes old ones."""

from __future__ import annotations

import hashlib
import secrets
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.engine import make_url

from docexchange.services import exchange
from docexchange.services.container import Services
from docexchange.settings import Settings
from docexchange.storage.base import Base, make_engine
from docexchange.storage.models import AuditEvent, Document, InboxEntry
from tests.conftest import Database, subprocess_env
from tests.web.test_documents import signed_and_issued

pytestmark = pytest.mark.usefixtures("signing_tokens", "registered_certificates")

BIN = Path(sys.executable).parent
COMMUNE = "000.21.12.H45"
BEFORE, DURING = 10, 40


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "docexchange"), *args],
        env=subprocess_env(env),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture
def other_database(database: Database, tmp_path: Path) -> Iterator[Any]:
    """Makes empty databases of the run's kind (a new PostgreSQL database with the run's
    schema name, or a new SQLite file) and drops them afterwards."""
    made: list[str] = []

    def make(name: str) -> Database:
        if not database.is_postgres:
            return Database(url=f"sqlite:///{tmp_path / name / 'restored.sqlite3'}", schema="")
        dbname = f"dx_restore_{secrets.token_hex(4)}"
        admin = create_engine(database.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{dbname}"'))
        admin.dispose()
        made.append(dbname)
        url = make_url(database.url).set(database=dbname).render_as_string(hide_password=False)
        return Database(url=url, schema=database.schema)

    yield make
    if made:
        admin = create_engine(database.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for dbname in made:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
        admin.dispose()


def _send(client: FlaskClient, as_user: Any, numbers: range) -> None:
    clerk = as_user("pt.vanthu")
    for n in numbers:
        body = signed_and_issued(client, as_user, recipients=[COMMUNE], subject=f"Công văn số {n}")
        assert client.post(f"/api/v1/documents/{body['id']}/send", headers=clerk).status_code == 202


def _rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order."""
    found = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            found[table.name] = [tuple(r) for r in conn.execute(select(table).order_by(*order))]
    return found


def _engine(instance: Path, db: Database) -> Engine:
    return make_engine(
        Settings(instance_dir=instance, database_url=db.url, database_schema=db.schema)
    )


def _restore(backup: Path, instance: Path, db: Database) -> None:
    env = {"DOCEXCHANGE_INSTANCE": str(instance), **db.env()}
    done = _cli(env, "restore", "--from", str(backup))
    assert done.returncode == 0, done.stdout + done.stderr
    verified = _cli(env, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr


#: In a process of its own (one token store per process): the restored instance signs.
_SIGN = textwrap.dedent(
    """
    import io, json
    from docexchange.services.container import build_services
    from docexchange.settings import load_settings
    from docexchange.web.app import create_app
    from tests.data.samples import make_pdf

    client = create_app(services=build_services(load_settings())).test_client()
    def login(name):
        answer = client.post(
            "/api/v1/auth/login", json={"username": name, "password": "demo-Password-1"}
        )
        return {"Authorization": "Bearer " + answer.get_json()["token"]}
    clerk, leader = login("pt.vanthu"), login("pt.lanhdao")
    made = client.post("/api/v1/documents", headers=clerk, content_type="multipart/form-data",
        data={"file": (io.BytesIO(make_pdf(text="Sau khoi phuc")), "a.pdf"),
              "metadata": json.dumps({"subject": "Sau khôi phục", "doc_type": "QĐ"})})
    assert made.status_code == 201, made.get_json()
    doc = made.get_json()["id"]
    signed = client.post(f"/api/v1/documents/{doc}/sign", json={"pin": "123456"}, headers=leader)
    assert signed.status_code == 200, signed.get_json()
    issued = client.post(f"/api/v1/documents/{doc}/issue", json={"pin": "123456"}, headers=clerk)
    assert issued.status_code == 200, issued.get_json()
    print("signed", issued.get_json()["number"])
    """
)


def test_the_restore_drill(
    client: FlaskClient,
    as_user: Any,
    services: Services,
    database: Database,
    other_database: Any,
    tmp_path: Path,
) -> None:
    source_env = {"DOCEXCHANGE_INSTANCE": str(services.settings.instance_dir), **database.env()}
    backups = tmp_path / "backups"
    _send(client, as_user, range(BEFORE))
    exchange.deliver_pending(services)

    # Backup A while 40 more documents are being signed, issued and sent.
    errors: list[BaseException] = []

    def sending() -> None:
        try:
            _send(client, as_user, range(BEFORE, BEFORE + DURING))
        except BaseException as exc:  # the assertion is re-raised below, in the test
            errors.append(exc)

    sender = threading.Thread(target=sending)
    sender.start()
    during = _cli({**source_env}, "backup", "--to", str(backups))
    sender.join(timeout=300)
    assert not sender.is_alive() and not errors, errors
    assert during.returncode == 0, during.stdout + during.stderr

    # Everything arrives; the commune accepts five (incoming numbers 1-5 in its register).
    exchange.deliver_pending(services)
    commune = as_user("cm.vanthu")
    arrived = client.get("/api/v1/inbox?per_page=200", headers=commune).get_json()["items"]
    assert len(arrived) == BEFORE + DURING
    for item in arrived[:5]:
        accepted = client.post(
            f"/api/v1/deliveries/{item['delivery_id']}/status", json={"code": "03"}, headers=commune
        )
        assert accepted.status_code == 200
    after = _cli({**source_env}, "backup", "--to", str(backups), "--keep", "5")
    assert after.returncode == 0, after.stdout + after.stderr
    first, second = sorted(p for p in backups.iterdir() if p.name.startswith("docexchange-"))
    assert not list(backups.glob(".partial-*"))
    for folder in (first, second):
        checked = _cli({}, "backup", "verify", str(folder))
        assert checked.returncode == 0 and "backup verified" in checked.stdout, checked.stdout

    # No secret in a backup: not the session key, the operator's SO PIN, the demo SO PIN.
    hsm = services.settings.instance_dir / "hsm"
    secret_values = [
        services.settings.secret_key.encode(),
        Path(services.settings.token_so_pin_file).read_bytes().strip(),
    ]
    if (hsm / "so_pin").exists():
        secret_values.append((hsm / "so_pin").read_bytes().strip())
    for folder in (first, second):
        names = {p.name for p in folder.rglob("*")}
        assert not names & {"so_pin", "secret_key", "softhsm2.conf"}
        for path in (p for p in folder.rglob("*") if p.is_file()):
            content = path.read_bytes()
            assert not [s for s in secret_values if s in content], path

    # Restore the last backup: every row of every table and every file, as in the source.
    instance_b, db_b = tmp_path / "restored-b", other_database("b")
    _restore(second, instance_b, db_b)
    restored_engine = _engine(instance_b, db_b)
    try:
        restored = _rows(restored_engine)
        assert restored == _rows(services.engine)
        with restored_engine.connect() as conn:
            pairs = conn.execute(select(Document.original_sha256, Document.current_sha256))
            hashes = [digest for pair in pairs for digest in pair]
            numbers = conn.execute(
                select(InboxEntry.incoming_number).where(InboxEntry.incoming_number.is_not(None))
            ).scalars()
            assert sorted(numbers) == [1, 2, 3, 4, 5]
    finally:
        restored_engine.dispose()
    assert len(hashes) == 2 * (BEFORE + DURING)
    for digest in hashes:
        stored = instance_b / "blobs" / digest[:2] / digest[2:4] / digest
        assert stored.read_bytes() == services.blobs.get(digest)
    # The SoftHSM2 configuration names the restored folder, and the restored tokens sign.
    signed = subprocess.run(
        [sys.executable, "-c", _SIGN],
        env=subprocess_env({"DOCEXCHANGE_INSTANCE": str(instance_b), **db_b.env()}),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert signed.returncode == 0 and "signed" in signed.stdout, signed.stdout + signed.stderr
    conf = (instance_b / "hsm" / "softhsm2.conf").read_text(encoding="utf-8")
    assert str(instance_b.resolve() / "hsm" / "tokens") in conf
    assert str(services.settings.instance_dir) not in conf

    # The backup taken mid-flight is consistent: its documents are the source's (some
    # caught half-way, signed but not yet issued), every file its rows name is in it with
    # that hash, and its audit log is the source's up to its moment.
    instance_a, db_a = tmp_path / "restored-a", other_database("a")
    _restore(first, instance_a, db_a)
    engine_a = _engine(instance_a, db_a)
    try:
        rows_a = _rows(engine_a)
        with engine_a.connect() as conn:
            files_a = conn.execute(
                select(Document.id, Document.original_sha256, Document.current_sha256)
            ).all()
    finally:
        engine_a.dispose()
    source = _rows(services.engine)
    source_ids = {row[0] for row in source["documents"]}
    assert BEFORE <= len(files_a) <= BEFORE + DURING
    for doc_id, *digests in files_a:
        assert doc_id in source_ids
        for digest in digests:
            stored = instance_a / "blobs" / digest[:2] / digest[2:4] / digest
            assert hashlib.sha256(stored.read_bytes()).hexdigest() == digest
    audit_a = rows_a[AuditEvent.__tablename__]
    assert audit_a == source[AuditEvent.__tablename__][: len(audit_a)]

    # A restore refuses a target that is not empty, and a damaged backup.
    again = _cli(
        {"DOCEXCHANGE_INSTANCE": str(instance_b), **db_b.env()}, "restore", "--from", str(second)
    )
    assert again.returncode == 1 and "restore_target_not_empty" in again.stderr
    blob = next((second / "instance" / "blobs").rglob("*"))
    while blob.is_dir():
        blob = next(blob.iterdir())
    blob.write_bytes(blob.read_bytes() + b"x")
    damaged = _cli({}, "backup", "verify", str(second))
    assert damaged.returncode == 1 and f"{blob.relative_to(second)}: changed" in damaged.stdout

    # --keep: a third backup keeps the two newest.
    third = _cli({**source_env}, "backup", "--to", str(backups), "--keep", "2")
    assert third.returncode == 0, third.stderr
    left = sorted(p.name for p in backups.iterdir())
    assert len(left) == 2 and first.name not in left and second.name in left
    assert f"pruned {first}" in third.stdout


def test_settings_snapshot_in_the_manifest_holds_no_secret(services: Services) -> None:
    from docexchange.services.backup import _settings_record

    settings = replace(
        services.settings,
        database_url="postgresql+psycopg://dx:hunter2-password@127.0.0.1/db",
    )
    record = _settings_record(settings)
    assert "secret_key" not in record and "hunter2-password" not in str(record)
    assert record["database"] == "postgresql+psycopg://dx:***@127.0.0.1/db"
