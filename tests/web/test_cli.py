"""The ``docexchange`` command: init, demo, audit verify, serve."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import update

from docexchange.cli import main
from docexchange.settings import load_settings
from docexchange.storage.base import make_engine
from docexchange.storage.models import AuditEvent
from tests.conftest import Database, subprocess_env

FAST_HASH = {"DOCEXCHANGE_ARGON2_MEMORY_KIB": "8192", "DOCEXCHANGE_ARGON2_TIME_COST": "1"}


@pytest.fixture
def cli_env(fresh_database: Database, tmp_path: Path) -> dict[str, str]:
    return {"DOCEXCHANGE_INSTANCE": str(tmp_path / "instance"), **fresh_database.env(), **FAST_HASH}


def _run(env: dict[str, str], *args: str, input: str | None = None) -> Result:
    """In this process: only for commands that never load a PKCS#11 module."""
    return CliRunner().invoke(main, list(args), env=env, input=input, catch_exceptions=False)


def _run_process(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """In a process of its own: commands that open tokens (one SoftHSM2 store per process)."""
    full = subprocess_env(env)
    script = Path(sys.executable).parent / "docexchange"
    return subprocess.run(
        [str(script), *args], env=full, capture_output=True, text=True, check=False, timeout=300
    )


def test_init_migrates_and_creates_the_first_admin(cli_env: dict[str, str]) -> None:
    env = {
        **cli_env,
        "DOCEXCHANGE_ADMIN_USERNAME": "quantri",
        "DOCEXCHANGE_ADMIN_PASSWORD": "a-long-admin-password",
    }
    result = _run(env, "init", "--unit-code", "000.00.00.H45", "--unit-name", "UBND tỉnh Phú Thọ")
    assert result.exit_code == 0, result.output
    assert "admin account quantri created" in result.output
    assert (Path(cli_env["DOCEXCHANGE_INSTANCE"]) / "secret_key").is_file()
    again = _run(env, "init")
    assert again.exit_code == 0 and "accounts exist already" in again.output
    refused = _run(cli_env, "demo")
    assert refused.exit_code == 1
    assert "demo_refused" in refused.output


def test_init_rejects_a_weak_admin_password(cli_env: dict[str, str]) -> None:
    env = {
        **cli_env,
        "DOCEXCHANGE_ADMIN_USERNAME": "quantri",
        "DOCEXCHANGE_ADMIN_PASSWORD": "short",
    }
    result = _run(env, "init", "--unit-code", "000.00.00.H45", "--unit-name", "UBND tỉnh")
    assert result.exit_code == 1
    assert "weak_password" in result.output
    assert "short" not in result.output.replace("weak_password", "")


def test_demo_is_idempotent_and_audit_verify_finds_tampering(cli_env: dict[str, str]) -> None:
    first = _run_process(cli_env, "demo")
    assert first.returncode == 0, first.stderr
    assert "4 units created, 10 accounts created, 0 refreshed, 14 tokens created" in first.stdout
    second = _run_process(cli_env, "demo")
    assert "0 units created, 0 accounts created, 0 refreshed, 0 tokens created" in second.stdout
    doctor = _run_process(cli_env, "tokens", "doctor")
    assert doctor.returncode == 0
    assert len([line for line in doctor.stdout.splitlines() if line.startswith(("u:", "o:"))]) == 14
    assert "Nguyễn Văn Tỉnh" in doctor.stdout and "NO KEY" not in doctor.stdout
    verified = _run(cli_env, "audit", "verify")
    assert verified.exit_code == 0 and "audit log intact" in verified.output

    engine = make_engine(load_settings(cli_env))
    with engine.begin() as conn:
        conn.execute(update(AuditEvent).where(AuditEvent.seq == 2).values(target="someone-else"))
    engine.dispose()
    broken = _run(cli_env, "audit", "verify")
    assert broken.exit_code == 1
    assert "audit_event_changed" in broken.output
    assert "sự kiện 2 đã bị sửa" in broken.output


def test_serve_refuses_an_unmigrated_database(cli_env: dict[str, str]) -> None:
    result = _run(cli_env, "serve", "--port", "1")
    assert result.exit_code == 1
    assert "database_not_ready" in result.output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _get(url: str, data: dict[str, Any] | None = None, token: str | None = None) -> Any:
    request = urllib.request.Request(url)
    if data is not None:
        request.data = json.dumps(data).encode()
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=5) as response:  # loopback only
        return json.loads(response.read())


def test_the_run_command_serves_the_demo(cli_env: dict[str, str]) -> None:
    """demo + serve as separate processes, then the acceptance calls over HTTP."""
    assert _run_process(cli_env, "demo").returncode == 0
    port = _free_port()
    script = Path(sys.executable).parent / "docexchange"
    env = {**os.environ, **cli_env}
    env.pop("DOCEXCHANGE_TEST_DATABASE_URL", None)
    server = subprocess.Popen(
        [str(script), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = _get(f"{base}/healthz")
                break
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None, server.stdout.read().decode() if server.stdout else ""
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        assert health["status"] == "ok"
        login = _get(
            f"{base}/api/v1/auth/login", {"username": "pt.vanthu", "password": "demo-Password-1"}
        )
        units = _get(f"{base}/api/v1/units?parent=000.00.12.H45", token=login["token"])
        assert [u["code"] for u in units["items"]] == ["000.21.12.H45", "000.22.12.H45"]
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stdout:
            server.stdout.close()


def test_wsgi_entry_point_refuses_an_unmigrated_database(cli_env: dict[str, str]) -> None:
    env = {**os.environ, **cli_env, "DOCEXCHANGE_SECRET_KEY": "k" * 40}
    env.pop("DOCEXCHANGE_TEST_DATABASE_URL", None)
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        check=False,
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "Cơ sở dữ liệu chưa ở phiên bản lược đồ hiện hành" in done.stderr


def test_demo_on_a_new_database_registers_the_existing_tokens(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    """Tokens outlive a database: a demo run on a new one registers their certificates, or no
    signature would pass the mandate check there."""
    from sqlalchemy import func, select

    from docexchange.storage.models import CertificateRecord

    assert _run_process(cli_env, "demo").returncode == 0
    other = {**cli_env, "DOCEXCHANGE_DATABASE_URL": f"sqlite:///{tmp_path / 'other.sqlite3'}"}
    other.pop("DOCEXCHANGE_DATABASE_SCHEMA", None)
    second = _run_process(other, "demo")  # migrates the new database itself
    assert second.returncode == 0, second.stderr
    assert "4 units created, 10 accounts created, 0 refreshed, 0 tokens created" in second.stdout
    engine = make_engine(load_settings(other))
    with engine.connect() as conn:
        registered = conn.execute(select(func.count()).select_from(CertificateRecord)).scalar()
    engine.dispose()
    assert registered == 14
