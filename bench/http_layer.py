"""The HTTP layer's cost, as ratios to a minimal Flask app on the same server.

Usage: ``.venv/bin/python bench/http_layer.py [--seconds S] [--connections C]``. Builds a demo
instance (SQLite) in a temporary folder with 50 arrivals in Chân Mộng's inbox, serves it
with ``docexchange serve`` (waitress, 8 threads) and, beside it, a Flask app of one route
on waitress with the same threads; then each path is hit by C keep-alive connections for S
seconds (a Python client, threads, ``http.client``) and the requests per second and the
median latency are compared. Prints Markdown; figures go to ``bench/RESULTS.md``.
The goals (issue 15 §10): ``/healthz`` at least 0.5 of it, inbox and documents 0.25.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent

MINIMAL = """
import sys
from flask import Flask, jsonify
from waitress import serve
app = Flask("minimal")
@app.get("/")
def index():
    return jsonify({"status": "ok"})
serve(app, host="127.0.0.1", port=int(sys.argv[1]), threads=8, ident="minimal")
"""


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing answers on port {port}")


def _load(
    port: int, path: str, token: str | None, seconds: float, connections: int
) -> tuple[float, float]:
    """Requests per second and the median latency (ms) of ``GET path``."""
    latencies: list[float] = []
    errors: list[int] = []
    stop = time.monotonic() + seconds
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        while time.monotonic() < stop:
            started = time.perf_counter()
            conn.request("GET", path, headers=headers)
            answer = conn.getresponse()
            answer.read()
            mine.append(time.perf_counter() - started)
            if answer.status != 200:
                errors.append(answer.status)
        latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(connections)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    if errors:
        raise SystemExit(f"{path}: {len(errors)} errors, e.g. {errors[0]}")
    return len(latencies) / elapsed, statistics.median(latencies) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        env = {
            **os.environ,
            "DOCEXCHANGE_INSTANCE": str(Path(folder) / "instance"),
            "DOCEXCHANGE_LOG_LEVEL": "WARNING",
        }
        env.pop("DOCEXCHANGE_DATABASE_URL", None)
        subprocess.run([str(BIN / "docexchange"), "demo"], env=env, check=True, capture_output=True)
        filler = (
            "from docexchange.services.container import build_services;"
            "from docexchange.settings import load_settings;"
            "from tests.web.test_search import add_arrivals;"
            "add_arrivals(build_services(load_settings()), 50)"
        )
        subprocess.run([sys.executable, "-c", filler], env=env, check=True, cwd=ROOT)
        app_port, minimal_port = _free_port(), _free_port()
        servers = [
            subprocess.Popen(
                [str(BIN / "docexchange"), "serve", "--port", str(app_port), "--threads", "8"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            ),
            subprocess.Popen(
                [sys.executable, "-c", MINIMAL, str(minimal_port)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            ),
        ]
        try:
            _wait(app_port)
            conn = http.client.HTTPConnection("127.0.0.1", app_port, timeout=10)
            conn.request(
                "POST",
                "/api/v1/auth/login",
                body=json.dumps({"username": "cm.vanthu", "password": "demo-Password-1"}),
                headers={"Content-Type": "application/json"},
            )
            token = json.loads(conn.getresponse().read())["token"]
            base, base_p50 = _load(minimal_port, "/", None, args.seconds, args.connections)
            print(f"{args.connections} connections, {args.seconds:.0f} s each, SQLite\n")
            print("| path | requests/s | p50 ms | ratio to the minimal app |")
            print("|---|---|---|---|")
            print(f"| minimal Flask app `/` | {base:.0f} | {base_p50:.1f} | 1 |")
            for path, auth in (
                ("/healthz", None),
                ("/api/v1/inbox", token),
                ("/api/v1/documents", token),
            ):
                rate, p50 = _load(app_port, path, auth, args.seconds, args.connections)
                print(f"| `{path}` | {rate:.0f} | {p50:.1f} | {rate / base:.3f} |", flush=True)
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=20)


if __name__ == "__main__":
    main()
