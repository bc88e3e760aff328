"""Verification throughput: our verifier (warm worker pool) against the pyHanko CLI per file.

Usage: ``.venv/bin/python bench/verify.py [--documents N] [--cli-runs M]``. Builds a throw-away
instance (SQLite, SoftHSM2 demo tokens, demo CA), issues N documents through the API as the
system makes them (personal + organisation signature, time-stamped, B-LT), then verifies
the same files with the same root:

- ours: ``pki.isolation.IsolatedVerifier``, as ``POST /api/v1/verify`` uses it (worker
  processes under limits, trust roots parsed once per worker, revocation from the DSS and
  online; nothing listens at the demo CA's address here, so online checks fail fast and the
  DSS answers), one worker, then two workers fed by two threads;
- ``pyhanko sign validate --trust root.pem --trust-replace --soft-revocation-check`` once per
  file, the way a script or another server without a resident verifier would check a file.

Prints Markdown; figures go to ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from asn1crypto import pem  # noqa: E402

from bench.sign import _login, _settings, _upload  # noqa: E402
from docexchange.services import demo  # noqa: E402
from docexchange.services.container import build_services  # noqa: E402
from docexchange.services.schema import migrate  # noqa: E402
from docexchange.web.app import create_app  # noqa: E402
from pki.isolation import IsolatedVerifier, Limits  # noqa: E402
from tests.data.samples import make_pdf  # noqa: E402

PIN = demo.DEMO_PIN


def issue_documents(instance: Path, count: int) -> list[bytes]:
    svc = build_services(_settings(instance, timestamp=True))
    migrate(svc.engine)
    with svc.sessions() as session:
        demo.apply_demo(session, hasher=svc.hasher, keys=svc.keys)
    client = create_app(services=svc).test_client()
    clerk, leader = _login(client, "pt.vanthu"), _login(client, "pt.lanhdao")
    files = []
    for n in range(count):
        doc_id = _upload(client, clerk, make_pdf(pages=2, text=f"Van ban so {n}"))
        for path, headers in (("sign", leader), ("issue", clerk)):
            done = client.post(
                f"/api/v1/documents/{doc_id}/{path}", json={"pin": PIN}, headers=headers
            )
            assert done.status_code == 200, done.get_json()
        files.append(client.get(f"/api/v1/documents/{doc_id}/file", headers=clerk).data)
    svc.engine.dispose()
    return files


def ours(files: list[bytes], roots: list, *, workers: int) -> tuple[float, int]:
    pool = IsolatedVerifier(Limits(workers=workers, fetch_timeout=2))
    try:
        for _ in range(workers):  # warm: start the workers, parse the roots
            pool.verify(files[0], roots=roots)
        valid = 0
        lock = threading.Lock()
        queue = list(files)

        def run() -> None:
            nonlocal valid
            while True:
                with lock:
                    if not queue:
                        return
                    data = queue.pop()
                report = pool.verify(data, roots=roots)
                with lock:
                    valid += report.valid

        threads = [threading.Thread(target=run) for _ in range(workers)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - start
    finally:
        pool.close()
    return len(files) / elapsed, valid


def cli(paths: list[Path], root_pem: Path) -> tuple[float, int]:
    pyhanko = Path(sys.executable).parent / "pyhanko"
    valid = 0
    start = time.perf_counter()
    for path in paths:
        done = subprocess.run(
            [
                str(pyhanko),
                "sign",
                "validate",
                "--trust",
                str(root_pem),
                "--trust-replace",
                "--soft-revocation-check",
                "--executive-summary",
                str(path),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        lines = [line for line in done.stdout.splitlines() if line.strip()]
        valid += bool(lines) and all(line.rstrip().endswith(":VALID") for line in lines)
    return len(paths) / (time.perf_counter() - start), valid


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=int, default=40)
    parser.add_argument("--cli-runs", type=int, default=10, help="files the CLI checks")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp) / "instance"
        files = issue_documents(instance, args.documents)
        svc = build_services(_settings(instance, timestamp=True))
        roots = svc.keys.trust_roots()
        root_pem = Path(tmp) / "root.pem"
        root_pem.write_bytes(b"".join(pem.armor("CERTIFICATE", c.dump()) for c in roots))
        paths = []
        for n, data in enumerate(files[: args.cli_runs]):
            path = Path(tmp) / f"doc{n}.pdf"
            path.write_bytes(data)
            paths.append(path)
        one, one_valid = ours(files, roots, workers=1)
        two, two_valid = ours(files, roots, workers=2)
        base, base_valid = cli(paths, root_pem)
    print(f"{args.documents} documents (2 pages, personal + organisation signature, B-LT)")
    print()
    print("| verifier | docs/s | valid | ratio to the CLI |")
    print("|---|---|---|---|")
    rows = [
        (f"pyHanko CLI, once per file ({len(paths)} files)", base, base_valid, len(paths)),
        ("ours, warm pool, 1 worker", one, one_valid, len(files)),
        ("ours, warm pool, 2 workers", two, two_valid, len(files)),
    ]
    for label, rate, valid, total in rows:
        print(f"| {label} | {rate:.2f} | {valid}/{total} | {rate / base:.0f} x |")


if __name__ == "__main__":
    main()
