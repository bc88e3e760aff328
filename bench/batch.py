"""Batch signing against single signs: N one-page documents, one PIN entry or N.

Usage: ``.venv/bin/python bench/batch.py [--documents 50] [--rounds 7]``. Builds a throw-away
instance (SQLite, SoftHSM2 demo tokens, demo CA) and, through the Flask app as a client would
call it, signs N fresh drafts with ``POST /api/v1/signing-batches`` (one PIN login) and N
other fresh drafts with N ``POST /api/v1/documents/<id>/sign`` (a PIN login each), with the
server's defaults (visible NĐ 30 appearance, time stamp, B-LT). Each round uses new drafts;
the medians are printed as Markdown (figures go to ``bench/RESULTS.md``). The batch must be
faster per document than single signs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.sign import PIN, _login, _settings, _upload  # noqa: E402
from docexchange.services import demo  # noqa: E402
from docexchange.services.container import build_services  # noqa: E402
from docexchange.services.schema import migrate  # noqa: E402
from docexchange.web.app import create_app  # noqa: E402
from tests.data.samples import make_pdf  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    count = args.documents
    with tempfile.TemporaryDirectory() as tmp:
        settings = _settings(Path(tmp), timestamp=True)
        svc = build_services(settings.with_overrides(max_signing_batch=max(100, count)))
        migrate(svc.engine)
        with svc.sessions() as session:
            demo.apply_demo(session, hasher=svc.hasher, keys=svc.keys)
        client = create_app(services=svc).test_client()
        clerk, leader = _login(client, "pt.vanthu"), _login(client, "pt.lanhdao")
        pdf = make_pdf()
        batch_times, single_times = [], []
        for _ in range(args.rounds):
            ids = [_upload(client, clerk, pdf) for _ in range(count)]
            start = time.perf_counter()
            answer = client.post(
                "/api/v1/signing-batches", json={"document_ids": ids, "pin": PIN}, headers=leader
            )
            batch_times.append(time.perf_counter() - start)
            assert answer.status_code == 200 and answer.get_json()["signed"] == count
            ids = [_upload(client, clerk, pdf) for _ in range(count)]
            start = time.perf_counter()
            for doc_id in ids:
                signed = client.post(
                    f"/api/v1/documents/{doc_id}/sign", json={"pin": PIN}, headers=leader
                )
                assert signed.status_code == 200, signed.get_json()
            single_times.append(time.perf_counter() - start)
        svc.verifier.close()
    batch = statistics.median(batch_times) / count * 1000
    single = statistics.median(single_times) / count * 1000
    print(f"{count} one-page documents, time stamp and B-LT, median of {args.rounds} rounds\n")
    print("| how | ms per document | documents/s |")
    print("|---|---|---|")
    print(f"| one batch, one PIN login | {batch:.0f} | {1000 / batch:.1f} |")
    print(f"| {count} single signs, a PIN login each | {single:.0f} | {1000 / single:.1f} |")
    print(f"\nbatch / single: {batch / single:.2f} (faster per document: {batch < single})")


if __name__ == "__main__":
    main()
