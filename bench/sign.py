"""Signing speed: raw token C_Sign, pyHanko in-process, and our API end to end.

Usage: ``.venv/bin/python bench/sign.py [--runs N]``. Builds a throw-away instance (SQLite,
SoftHSM2 tokens of the demo accounts, demo CA) in a temporary folder, then measures:

- raw ``C_Sign`` (RSA-2048, CKM_SHA256_RSA_PKCS) on a warm, logged-in token session;
- pyHanko signing in-process with default settings (invisible field, container sized by a
  dry run, no time stamp) on a warm PKCS#11 session;
- ``POST /api/v1/documents/<id>/sign`` through the Flask app (PIN login, visible NĐ 30
  appearance, blob store, audit event, commit), with and without the time stamp;
- throughput of the API with 1 and 2 worker processes.

For a 1-page PDF and a 5 MB PDF. Prints Markdown; figures go to ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pyhanko.config.pkcs11 import TokenCriteria  # noqa: E402
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter  # noqa: E402
from pyhanko.sign import signers  # noqa: E402
from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session  # noqa: E402

from docexchange.services import demo  # noqa: E402
from docexchange.services.container import Services, build_services  # noqa: E402
from docexchange.services.schema import migrate  # noqa: E402
from docexchange.settings import Settings  # noqa: E402
from docexchange.web.app import create_app  # noqa: E402
from pki import tokens  # noqa: E402
from tests.data.samples import make_pdf  # noqa: E402

PIN = demo.DEMO_PIN
FIVE_MB = 5 * 1024 * 1024


def _settings(instance: Path, *, timestamp: bool) -> Settings:
    return Settings(
        instance_dir=instance,
        secret_key="bench-secret-key-not-for-production",
        argon2_memory_kib=8192,
        argon2_time_cost=1,
        timestamp_signatures=timestamp,
    )


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def raw_c_sign(svc: Services, runs: int) -> float:
    ref = svc.keys.ref("u:pt.lanhdao")
    from pkcs11 import Mechanism  # the bench may use PKCS#11 directly

    samples = []
    with tokens.signing_session(ref, PIN) as signer:
        key = signer._key_handle  # warm handle, as pyHanko holds it
        for _ in range(runs):
            start = time.perf_counter()
            key.sign(b"x" * 32, mechanism=Mechanism.SHA256_RSA_PKCS)
            samples.append(time.perf_counter() - start)
    return _median_ms(samples)


def _pyhanko_once(svc: Services, pdf: bytes, *, timestamped: bool = False) -> float:
    """pyHanko with its default settings on a logged-in PKCS#11 session (login excluded).

    A stock ``PKCS11Signer`` (pyHanko defaults: roots embedded, container sized by a dry
    run, invisible field), fed the same CA chain as the server's signer.
    """
    ref = svc.keys.ref("u:pt.lanhdao")
    with tokens.signing_session(ref, PIN, chain=svc.keys.chain()) as ours:
        signer = PKCS11Signer(
            ours.pkcs11_session, key_label=ref.key_label, ca_chain=svc.keys.chain()
        )
        start = time.perf_counter()
        signers.sign_pdf(
            IncrementalPdfFileWriter(io.BytesIO(pdf)),
            signers.PdfSignatureMetadata(field_name="Sig1"),
            signer=signer,
            timestamper=svc.keys.timestamper() if timestamped else None,
        )
        return time.perf_counter() - start


def _pyhanko_with_login(svc: Services, pdf: bytes) -> float:
    """pyHanko as its own documentation shows it: open the token with the PIN, sign, close."""
    ref = svc.keys.ref("u:pt.lanhdao")
    start = time.perf_counter()
    session = open_pkcs11_session(
        ref.module_path, token_criteria=TokenCriteria(label=ref.token_label), user_pin=PIN
    )
    try:
        signer = PKCS11Signer(session, key_label=ref.key_label, ca_chain=svc.keys.chain())
        signers.sign_pdf(
            IncrementalPdfFileWriter(io.BytesIO(pdf)),
            signers.PdfSignatureMetadata(field_name="Sig1"),
            signer=signer,
        )
    finally:
        session.close()
    return time.perf_counter() - start


def _upload(client: Any, headers: dict[str, str], pdf: bytes) -> str:
    response = client.post(
        "/api/v1/documents",
        data={
            "file": (io.BytesIO(pdf), "vb.pdf"),
            "metadata": json.dumps(
                {"subject": "Đo tốc độ ký", "doc_type": "CV", "drafting_unit": "VP"}
            ),
        },
        headers=headers,
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_json()
    doc_id: str = response.get_json()["id"]
    return doc_id


def _login(client: Any, username: str) -> dict[str, str]:
    body = client.post(
        "/api/v1/auth/login", json={"username": username, "password": demo.DEMO_PASSWORD}
    )
    return {"Authorization": f"Bearer {body.get_json()['token']}"}


def compare(
    plain: Services, stamped: Services, pdf: bytes, runs: int
) -> tuple[float, float, float]:
    """Median ms of pyHanko in-process, our API without and with time stamp.

    The three are interleaved run by run, so that load on a shared machine hits all alike.
    """
    clients = []
    for svc in (plain, stamped):
        client = create_app(services=svc).test_client()
        clients.append((client, _login(client, "pt.vanthu"), _login(client, "pt.lanhdao")))
    base: list[float] = []
    base_login: list[float] = []
    base_ts: list[float] = []
    ours: list[list[float]] = [[], []]
    for n in range(runs + 1):
        base_time = _pyhanko_once(plain, pdf)
        base_ts_time = _pyhanko_once(plain, pdf, timestamped=True)
        base_login_time = _pyhanko_with_login(plain, pdf)
        api_times = []
        for client, clerk, leader in clients:
            doc_id = _upload(client, clerk, pdf)
            start = time.perf_counter()
            response = client.post(
                f"/api/v1/documents/{doc_id}/sign", json={"pin": PIN}, headers=leader
            )
            api_times.append(time.perf_counter() - start)
            assert response.status_code == 200, response.get_json()
        if n:  # the first round warms caches
            base.append(base_time)
            base_ts.append(base_ts_time)
            base_login.append(base_login_time)
            ours[0].append(api_times[0])
            ours[1].append(api_times[1])
    return (
        _median_ms(base),
        _median_ms(base_ts),
        _median_ms(base_login),
        _median_ms(ours[0]),
        _median_ms(ours[1]),
    )


def _worker(instance: str, prefix: str, count: int, queue: Any) -> None:
    svc = build_services(_settings(Path(instance), timestamp=False))
    client = create_app(services=svc).test_client()
    clerk, leader = _login(client, f"{prefix}.vanthu"), _login(client, f"{prefix}.lanhdao")
    pdf = make_pdf()
    ids = [_upload(client, clerk, pdf) for _ in range(count)]
    queue.put(("ready", prefix))
    while os.path.exists(Path(instance) / "hold"):
        time.sleep(0.01)
    start = time.perf_counter()
    for doc_id in ids:
        response = client.post(
            f"/api/v1/documents/{doc_id}/sign", json={"pin": PIN}, headers=leader
        )
        assert response.status_code == 200, response.get_json()
    queue.put(("done", time.perf_counter() - start, time.time()))


def throughput(instance: Path, processes: int, per_process: int) -> float:
    context = multiprocessing.get_context("spawn")  # PKCS#11 must not be inherited over fork
    queue = context.Queue()
    hold = instance / "hold"
    hold.write_text("wait")
    prefixes = ["pt", "dh", "cm", "ml"][:processes]
    workers = [
        context.Process(target=_worker, args=(str(instance), p, per_process, queue))
        for p in prefixes
    ]
    for worker in workers:
        worker.start()
    for _ in workers:
        assert queue.get(timeout=600)[0] == "ready"
    begin = time.time()
    hold.unlink()
    finished = [queue.get(timeout=600) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    wall = max(end for _tag, _dur, end in finished) - begin
    return processes * per_process / wall


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--per-process", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp)
        svc = build_services(_settings(instance, timestamp=False))
        migrate(svc.engine)
        with svc.sessions() as session:
            demo.apply_demo(session, hasher=svc.hasher, keys=svc.keys)
        stamped = replace(svc, settings=replace(svc.settings, timestamp_signatures=True))
        one_page, big = make_pdf(), make_pdf(padding=FIVE_MB)
        rows = [("raw C_Sign (RSA-2048)", raw_c_sign(svc, args.runs * 10), None)]
        for label, pdf, runs in (
            ("1-page", one_page, args.runs),
            ("5 MB", big, max(5, args.runs // 3)),
        ):
            base, base_ts, base_login, ours, ours_ts = compare(svc, stamped, pdf, runs)
            rows.append((f"pyHanko in-process, defaults, {label}", base, None))
            rows.append(
                (f"pyHanko in-process, defaults, PIN login per document, {label}", base_login, None)
            )
            rows.append((f"pyHanko in-process, with time stamp, {label}", base_ts, None))
            rows.append((f"API sign, no time stamp, {label}", ours, ours / base))
            rows.append((f"API sign, with time stamp (B-LT), {label}", ours_ts, ours_ts / base_ts))
        svc.engine.dispose()
        one = throughput(instance, 1, args.per_process)
        two = throughput(instance, 2, args.per_process)
    print("| what | median ms | docs/s | ratio to pyHanko in-process, same time-stamping |")
    print("|---|---|---|---|")
    for label, ms, ratio in rows:
        print(
            f"| {label} | {ms:.1f} | {1000 / ms:.0f} | {'' if ratio is None else f'{ratio:.2f}'} |"
        )
    print()
    print("| API workers (processes), 1-page, no time stamp | docs/s |")
    print("|---|---|")
    print(f"| 1 | {one:.1f} |")
    print(f"| 2 | {two:.1f} |")


if __name__ == "__main__":
    main()
