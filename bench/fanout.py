"""Fan-out: one document to the 3,321 communes of the national tree, until every inbox has it.

Usage: ``.venv/bin/python bench/fanout.py [--workers 1 4] [--postgres URL]``. For SQLite and
PostgreSQL, and each worker count: a fresh database with the demo units, people and tokens and
the synthetic 2-level national tree (bench/national_tree.py); the province issues a document
(personal + organisation signature, time-stamped) addressed to ``communes:<province>`` of all
34 provinces; worker processes (each what ``docexchange worker`` runs) are started and warm;
the clock starts when the send commits (3,321 deliveries written in that transaction) and
stops when no delivery is pending. Each inbox entry carries the verification report (computed
once, shared). Prints Markdown; figures go to ``bench/RESULTS.md``. Target (issue 5): under
10 s on PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from national_tree import COMMUNES, national_tree  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402

from bench.sign import _login, _upload  # noqa: E402
from docexchange.services import demo, directory, exchange  # noqa: E402
from docexchange.services.container import build_services  # noqa: E402
from docexchange.services.schema import migrate  # noqa: E402
from docexchange.settings import Settings  # noqa: E402
from docexchange.storage.models import Delivery, InboxEntry  # noqa: E402
from docexchange.web.app import create_app  # noqa: E402
from tests.data.samples import make_pdf  # noqa: E402

PIN = demo.DEMO_PIN


def _settings(instance: Path, url: str, schema: str) -> Settings:
    return Settings(
        instance_dir=instance,
        database_url=url,
        database_schema=schema,
        secret_key="bench-secret-key-not-for-production",
        argon2_memory_kib=8192,
        argon2_time_cost=1,
    )


def _worker(settings: Settings, ready: Any, go: Any, done: Any) -> None:
    svc = build_services(settings)
    with svc.sessions() as session:  # connect and load the ORM before the clock starts
        session.execute(select(func.count()).select_from(Delivery))
    svc.verifier.verify(make_pdf(), roots=svc.keys.trust_roots())  # start the verifier pool
    ready.release()
    go.wait()
    while True:
        result = exchange.deliver_pending(svc, batch=250)
        if not result.delivered and not result.retried:
            with svc.sessions() as session:
                pending = session.scalar(
                    select(func.count()).select_from(Delivery).where(Delivery.state == "pending")
                )
            if not pending:
                break
            time.sleep(0.01)  # rows locked by another worker
    done.release()


def one_run(url: str, schema: str, instance: Path, workers: int) -> dict[str, Any]:
    settings = _settings(instance, url, schema)
    svc = build_services(settings)
    migrate(svc.engine)
    with svc.sessions() as session:
        demo.apply_demo(session, hasher=svc.hasher, keys=svc.keys)
        rows = [directory.UnitInput.from_mapping(r) for r in national_tree()]
        directory.import_tree(session, rows, actor=None, source="bench")
    client = create_app(services=svc).test_client()
    clerk, leader = _login(client, "pt.vanthu"), _login(client, "pt.lanhdao")
    doc_id = _upload(client, clerk, make_pdf(pages=2, text="Cong van gui toan quoc"))
    for path, headers in (("sign", leader), ("issue", clerk)):
        done = client.post(f"/api/v1/documents/{doc_id}/{path}", json={"pin": PIN}, headers=headers)
        assert done.status_code == 200, done.get_json()
    provinces = sorted({r["parent_code"] for r in national_tree() if r["parent_code"]})

    context = multiprocessing.get_context("spawn")
    ready, go, finished = context.Semaphore(0), context.Event(), context.Semaphore(0)
    processes = [
        context.Process(target=_worker, args=(settings, ready, go, finished))
        for _ in range(workers)
    ]
    for process in processes:
        process.start()
    for _ in processes:
        ready.acquire()
    start = time.perf_counter()
    sent = client.post(
        f"/api/v1/documents/{doc_id}/send",
        json={"recipients": [f"communes:{p}" for p in provinces]},
        headers=clerk,
    )
    assert sent.status_code == 202, sent.get_json()
    queued = time.perf_counter() - start
    go.set()
    for _ in processes:
        finished.acquire()
    elapsed = time.perf_counter() - start
    for process in processes:
        process.join()
    with svc.sessions() as session:
        entries = session.scalar(select(func.count()).select_from(InboxEntry))
        valid = session.scalar(
            select(func.count()).select_from(InboxEntry).where(InboxEntry.verified_valid)
        )
        if valid != entries:
            sample = session.scalars(select(InboxEntry.verification).limit(1)).first()
            print("not valid:", json.dumps(sample)[:2000], file=sys.stderr)
    svc.engine.dispose()
    assert entries == COMMUNES, entries
    return {"send_s": queued, "total_s": elapsed, "entries": entries, "valid": valid}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp) / "instance"
        for name in ("sqlite", "postgresql"):
            if args.only and name != args.only:
                continue
            for workers in args.workers:
                schema = f"bench_{secrets.token_hex(4)}"
                url = f"sqlite:///{tmp}/{schema}.sqlite3" if name == "sqlite" else args.postgres
                if name == "postgresql":
                    engine = create_engine(args.postgres)
                    with engine.begin() as connection:
                        connection.execute(text(f"CREATE SCHEMA {schema}"))
                try:
                    outcome = one_run(
                        url, schema if name == "postgresql" else "", instance, workers
                    )
                finally:
                    if name == "postgresql":
                        with engine.begin() as connection:
                            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
                        engine.dispose()
                results.append((name, workers, outcome))
                print(json.dumps({"db": name, "workers": workers, **outcome}), file=sys.stderr)
    print(
        "| database | workers | send (deliveries written) s | until every inbox has it s | valid |"
    )
    print("|---|---|---|---|---|")
    for name, workers, o in results:
        cells = [name, workers, f"{o['send_s']:.2f}", f"{o['total_s']:.2f}"]
        cells.append(f"{o['valid']}/{o['entries']}")
        print("| " + " | ".join(str(c) for c in cells) + " |")


if __name__ == "__main__":
    main()
