"""Signing throughput by app processes, through the production layout on loopback.

Usage: ``.venv/bin/python bench/signing_processes.py [--database-url URL] [--requests N]``
(default: PostgreSQL at 127.0.0.1:5432/test, 200 requests). For 1, 2 and 4 gunicorn worker
processes (``deploy/gunicorn.conf.py``, 4 threads each), all ``N`` signing requests are
sent at once, twice: every one by the same leader (one token, the processes take turns on
it: ``pki/token_locks.py``) and spread over the four demo leaders (four tokens). Prints
Markdown with signatures per second and the errors; the figures go to ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from tests.layout import login, production_layout, sign, upload  # noqa: E402

#: (clerk, leader) of each demo unit.
DESKS = [
    ("pt.vanthu", "pt.lanhdao"),
    ("dh.vanthu", "dh.lanhdao"),
    ("cm.vanthu", "cm.lanhdao"),
    ("ml.vanthu", "ml.lanhdao"),
]


def one_run(url: str, processes: int, count: int, leaders: int) -> tuple[float, int, int]:
    """Signatures per second, errors, and requests made."""
    schema = f"bench_sign_{secrets.token_hex(4)}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        env = {"DOCEXCHANGE_DATABASE_URL": url, "DOCEXCHANGE_DATABASE_SCHEMA": schema}
        with (
            tempfile.TemporaryDirectory() as folder,
            production_layout(Path(folder), env, web_workers=processes, delivery_workers=0) as base,
        ):
            jobs = []
            desks = [(login(base, c), login(base, s)) for c, s in DESKS[:leaders]]
            for n in range(count):
                clerk, leader = desks[n % leaders]
                jobs.append((leader, upload(base, clerk, n)))
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=count) as pool:
                outcomes = list(pool.map(lambda job: sign(base, job[0], job[1]), jobs))
            elapsed = time.perf_counter() - started
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()
    errors = sum(1 for code, _ in outcomes if code != 200)
    return count / elapsed, errors, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    print("| app processes | leaders (tokens) | requests at once | signatures/s | errors |")
    print("|---|---|---|---|---|")
    rates: dict[tuple[int, int], float] = {}
    for leaders in (1, 4):
        for processes in (1, 2, 4):
            rate, errors, count = one_run(args.database_url, processes, args.requests, leaders)
            rates[(processes, leaders)] = rate
            print(f"| {processes} | {leaders} | {count} | {rate:.1f} | {errors} |", flush=True)
    for leaders in (1, 4):
        two, four = (rates[(n, leaders)] / rates[(1, leaders)] for n in (2, 4))
        print(f"\n{leaders} leader(s): 1 → 2 processes x{two:.2f}, 1 → 4 x{four:.2f}")


if __name__ == "__main__":
    main()
