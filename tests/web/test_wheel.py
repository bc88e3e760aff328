"""An installable package: a wheel built from the sources (without compiled catalogues)
installs in a fresh virtual environment and serves the demo in Vietnamese, with its OpenAPI
contract and edXML schema read from the installed package — not from a checkout."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from tests.clock import wait_for
from tests.conftest import free_port, subprocess_env

ROOT = Path(__file__).resolve().parents[2]
_SKIP = shutil.ignore_patterns(
    ".git",
    ".venv",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    "instance",
    ".*_cache",
    "*.mo",
    ".hypothesis",
    ".benchmarks",
    "shared",
)


def _run(command: list[str], **options: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        **options,  # type: ignore[arg-type]
    )
    assert done.returncode == 0, f"{command[:3]}: {done.stdout[-2000:]}{done.stderr[-3000:]}"
    return done


def _get(url: str, data: dict[str, str] | None = None) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url)
    if data is not None:
        request.data = json.dumps(data).encode()
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_built_wheel_installs_and_serves_the_demo(tmp_path: Path) -> None:
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=_SKIP)
    assert not list(source.rglob("*.mo"))  # what a fresh clone has
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(source)])
    [wheel] = list(dist.glob("docexchange-*.whl"))
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    _run([str(venv / "bin" / "pip"), "install", "-q", str(wheel)])

    work = tmp_path / "elsewhere"  # no checkout on the path
    work.mkdir()
    env = subprocess_env(
        {
            "DOCEXCHANGE_INSTANCE": str(work / "instance"),
            "DOCEXCHANGE_ARGON2_MEMORY_KIB": "8192",
            "DOCEXCHANGE_ARGON2_TIME_COST": "1",
        }
    )
    env.pop("PYTHONPATH", None)
    for name in ("DOCEXCHANGE_DATABASE_URL", "DOCEXCHANGE_DATABASE_SCHEMA"):
        env.pop(name, None)
    where = _run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import docexchange.resources as r, docexchange.i18n as i;"
            "print(r.schema_file('openapi.yaml')); print(r.schema_file('edxml', 'qcvn102.xsd'));"
            "print(i.TRANSLATIONS_DIR)",
        ],
        cwd=work,
        env=env,
    ).stdout.split()
    assert all(str(venv) in path and Path(path).exists() for path in where), where
    _run([str(venv / "bin" / "docexchange"), "demo"], cwd=work, env=env)
    port = free_port()
    server = subprocess.Popen(
        [str(venv / "bin" / "docexchange"), "serve", "--port", str(port)],
        cwd=work,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:

        def started() -> tuple[int, dict[str, object]] | None:
            assert server.poll() is None, "the installed server ended"
            try:
                return _get(f"{base}/healthz")
            except (urllib.error.URLError, ConnectionError):
                return None

        status, health = wait_for(started, what="the installed server", timeout=60)
        assert (status, health["status"]) == (200, "ok")
        status, contract = _get(f"{base}/api/v1/openapi.json")
        assert status == 200 and contract["openapi"].startswith("3.")
        status, refused = _get(f"{base}/api/v1/auth/login", {"username": "x", "password": "y"})
        error = refused["error"]
        assert status == 401 and error["message_vi"] != error["message"]  # Vietnamese, compiled
    finally:
        server.terminate()
        server.wait(timeout=20)
