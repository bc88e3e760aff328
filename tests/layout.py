"""The production layout on loopback, for the layout test and ``bench/signing.py``: a demo
instance, gunicorn with ``deploy/gunicorn.conf.py`` and N workers, M delivery workers."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import requests

from tests.clock import wait_for
from tests.conftest import free_port, subprocess_env
from tests.data.samples import make_pdf

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PIN = "123456"
PASSWORD = "demo-Password-1"
_T = TypeVar("_T")


def wait_until(
    check: Callable[[], _T | None], what: str, seconds: float = 60, processes: tuple[Any, ...] = ()
) -> _T:
    """``check()`` until it answers something true (:func:`tests.clock.wait_for`); a process
    of the layout that ends meanwhile fails at once, a refused connection counts as "not yet"."""

    def attempt() -> _T | None:
        for process in processes:
            assert process.poll() is None, f"{process.args[:2]} ended while waiting for {what}"
        try:
            return check()
        except (requests.ConnectionError, requests.Timeout):
            return None

    return wait_for(attempt, what=what, timeout=seconds, interval=0.2)  # type: ignore[return-value]


@contextlib.contextmanager
def production_layout(
    folder: Path,
    database_env: Mapping[str, str],
    *,
    web_workers: int = 3,
    delivery_workers: int = 2,
    preload: bool = True,
) -> Iterator[str]:
    """Set up a demo instance in ``folder`` and run the layout; yields the base URL.

    On leaving, every process is stopped and a traceback in any log fails the caller.
    """
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = subprocess_env(
        {
            "DOCEXCHANGE_INSTANCE": str(folder / "instance"),
            **database_env,
            "DOCEXCHANGE_ARGON2_MEMORY_KIB": "8192",
            "DOCEXCHANGE_ARGON2_TIME_COST": "1",
            # The demo CA's certificates name this server for their CRL, OCSP and TSA.
            "DOCEXCHANGE_PKI_BASE_URL": f"{base}/pki",
            "DOCEXCHANGE_WEB_BIND": f"127.0.0.1:{port}",
            "DOCEXCHANGE_WEB_WORKERS": str(web_workers),
            "DOCEXCHANGE_WEB_PRELOAD": "1" if preload else "0",
        }
    )
    demo = subprocess.run(
        [str(BIN / "docexchange"), "demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    logs = folder / "logs"
    logs.mkdir(exist_ok=True)
    commands = [("web", [str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "wsgi:app"])]
    commands += [
        (f"worker-{n}", [str(BIN / "docexchange"), "worker", "--batch", "10"])
        for n in range(1, delivery_workers + 1)
    ]
    started: list[subprocess.Popen[bytes]] = []
    try:
        for name, command in commands:
            with (logs / f"{name}.log").open("wb") as output:
                started.append(
                    subprocess.Popen(
                        command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
                    )
                )
        wait_until(
            lambda: requests.get(f"{base}/healthz", timeout=5).ok,
            "healthy web server",
            processes=tuple(started),
        )
        yield base
    finally:
        for process in started:
            process.terminate()
        for process in started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
    for log in sorted(logs.glob("*.log")):
        text = log.read_text(errors="replace")
        assert "Traceback" not in text, f"{log.name}:\n{text[-4000:]}"


def login(base: str, username: str) -> dict[str, str]:
    """Bearer headers of a demo account."""
    answer = requests.post(
        f"{base}/api/v1/auth/login", json={"username": username, "password": PASSWORD}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def upload(base: str, clerk: dict[str, str], n: int) -> str:
    """A one-page decision uploaded by ``clerk``; its id."""
    metadata = {"subject": f"Về việc vận hành thử số {n}", "doc_type": "QĐ"}
    answer = requests.post(
        f"{base}/api/v1/documents",
        files={"file": ("vanban.pdf", make_pdf(text=f"Van ban {n}"), "application/pdf")},
        data={"metadata": json.dumps(metadata)},
        headers=clerk,
        timeout=60,
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def sign(base: str, leader: dict[str, str], doc_id: str) -> tuple[int, str]:
    """The leader's signature on a draft: the status code and the start of the answer."""
    answer = requests.post(
        f"{base}/api/v1/documents/{doc_id}/sign", json={"pin": PIN}, headers=leader, timeout=300
    )
    return answer.status_code, answer.text[:300]
