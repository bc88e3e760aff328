"""A load test that stops by itself: the production layout on loopback under a mix of work.

Usage: ``.venv/bin/python bench/load.py [--clients 200] [--seconds 60] [--workers 1 3]``
(PostgreSQL at 127.0.0.1:5432/test by default, ``--database-url`` otherwise). For each
number of gunicorn workers, a fresh demo instance runs the layout of ``tests/layout.py``
(gunicorn, 2 delivery workers); ``--clients`` threads then work for ``--seconds``: each
client in turn reads its unit's inbox (most requests), uploads a draft, has its leader sign
it, and has its clerk issue and send it to a commune (the mix of an office's day). Every
answer but the expected one is an error. Prints Markdown — throughput and p50/p95/p99 per
kind — for ``bench/RESULTS.md``; exits 1 on any error.
"""

from __future__ import annotations

import argparse
import random
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from tests.layout import PIN, login, production_layout, sign, upload  # noqa: E402

#: (clerk, leader, recipient) per demo unit that sends.
DESKS = [
    ("pt.vanthu", "pt.lanhdao", "000.21.12.H45"),
    ("dh.vanthu", "dh.lanhdao", "000.22.12.H45"),
]
READERS = ["cm.vanthu", "ml.vanthu", "pt.vanthu", "dh.vanthu"]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


def one_run(url: str, workers: int, clients: int, seconds: float) -> int:
    schema = f"bench_load_{secrets.token_hex(4)}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    timings: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, list[str]] = defaultdict(list)
    lock = threading.Lock()
    try:
        env = {"DOCEXCHANGE_DATABASE_URL": url, "DOCEXCHANGE_DATABASE_SCHEMA": schema}
        with (
            tempfile.TemporaryDirectory() as folder,
            production_layout(Path(folder), env, web_workers=workers, delivery_workers=2) as base,
        ):
            tokens = {
                name: login(base, name)
                for name in {*READERS, *(d[0] for d in DESKS), *(d[1] for d in DESKS)}
            }
            stop = time.monotonic() + seconds

            def timed(kind: str, call: Callable[..., Any], *args: Any) -> Any:
                started = time.perf_counter()
                try:
                    result = call(*args)
                except Exception as exc:  # counted, reported, never hidden
                    with lock:
                        errors[kind].append(f"{type(exc).__name__}: {exc}"[:200])
                    return None
                with lock:
                    timings[kind].append(time.perf_counter() - started)
                return result

            def expect(answer: requests.Response, status: int) -> requests.Response:
                if answer.status_code != status:
                    raise RuntimeError(f"{answer.status_code} {answer.text[:120]}")
                return answer

            def read_inbox(reader: str) -> None:
                url = f"{base}/api/v1/inbox"
                expect(requests.get(url, headers=tokens[reader], timeout=120), 200)

            def signed(leader: str, doc: str) -> bool:
                code, body = sign(base, tokens[leader], doc)
                if code != 200:
                    raise RuntimeError(f"{code} {body[:120]}")
                return True

            def issue_and_send(clerk: str, doc: str, recipient: str) -> None:
                headers = tokens[clerk]
                url = f"{base}/api/v1/documents/{doc}"
                issued = requests.post(
                    f"{url}/issue", json={"pin": PIN}, headers=headers, timeout=120
                )
                expect(issued, 200)
                body = {"recipients": [recipient]}
                expect(requests.post(f"{url}/send", json=body, headers=headers, timeout=120), 202)

            def client(n: int) -> None:
                chance = random.Random(n)
                clerk, leader, recipient = DESKS[n % len(DESKS)]
                reader = READERS[n % len(READERS)]
                while time.monotonic() < stop:
                    if chance.random() < 0.8:
                        timed("inbox read", read_inbox, reader)
                        continue
                    doc = timed("upload", upload, base, tokens[clerk], n)
                    if doc is None or not timed("sign", signed, leader, doc):
                        continue
                    timed("issue + send", issue_and_send, clerk, doc, recipient)

            started = time.perf_counter()
            threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - started
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()
    failed = sum(len(v) for v in errors.values())
    print(f"\n**{workers} gunicorn worker(s)**, {clients} clients, {elapsed:.0f} s,", end=" ")
    print(f"errors: {failed}\n")
    print("| kind | done | per second | p50 ms | p95 ms | p99 ms |")
    print("|---|---|---|---|---|---|")
    for kind in ("inbox read", "upload", "sign", "issue + send"):
        values = timings.get(kind, [])
        if values:
            print(
                f"| {kind} | {len(values)} | {len(values) / elapsed:.1f} | "
                f"{statistics.median(values) * 1000:.0f} | {_percentile(values, 0.95):.0f} | "
                f"{_percentile(values, 0.99):.0f} |"
            )
    for kind, found in errors.items():
        print(f"\n{kind}: {len(found)} errors, first: {found[0]}")
    return failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 3])
    args = parser.parse_args()
    failed = sum(one_run(args.database_url, w, args.clients, args.seconds) for w in args.workers)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
