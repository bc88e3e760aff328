"""Several processes sign with one SoftHSM2 token at once (several gunicorn workers serving
one leader): the per-token file lock makes them take turns, and none fails.

Without the lock this very test failed 37 of 50 signatures in the second process
(``GeneralError``) and gunicorn with two workers answered 24 of 75 signs with a 500.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

PIN = "246813"
ROUNDS = 25


def _provision(base: str, labels: list[str]) -> None:
    from pki import tokens as p11
    from pki.config import SoftHsmSetup, TokenRef
    from pki.demo_ca import DemoCA, PersonSubject, new_citizen_id

    setup = SoftHsmSetup(Path(base))
    setup.activate()
    ca = DemoCA.ensure(Path(base) / "ca", base_url="http://127.0.0.1:9/pki")
    for label in labels:
        public = p11.provision_softhsm_token(setup, label=label, user_pin=PIN, so_pin="97531086")
        person = PersonSubject("Nguyễn Văn Thử", "Chủ tịch", "UBND", "Phú Thọ", new_citizen_id())
        der = ca.issue_personal(public, person).public_bytes(serialization.Encoding.DER)
        p11.store_certificates(TokenRef(setup.module_path, label), PIN, der, [])


def _sign_many(base: str, label: str, start: Any, results: Any) -> None:
    from pki import tokens as p11
    from pki.config import SoftHsmSetup, TokenRef

    setup = SoftHsmSetup(Path(base))
    setup.activate()
    ref = TokenRef(module_path=setup.module_path, token_label=label)
    start.wait(60)  # every process begins together
    failures: list[str] = []
    signatures = 0
    for _ in range(ROUNDS):
        try:
            with p11.signing_session(ref, PIN) as signer:
                signature = asyncio.run(signer.async_sign_raw(b"van ban", "sha256"))
                signatures += bool(signature)
        except Exception as exc:  # every failure is counted, none hidden
            failures.append(f"{type(exc).__name__}: {exc}")
    results.put((signatures, failures))


def _run(base: Path, labels: list[str], processes: int) -> list[tuple[int, list[str]]]:
    spawn = multiprocessing.get_context("spawn")  # fresh interpreters, as gunicorn workers
    maker = spawn.Process(target=_provision, args=(str(base), labels))
    maker.start()
    maker.join(120)
    assert maker.exitcode == 0
    start, results = spawn.Event(), spawn.Queue()
    workers = [
        spawn.Process(target=_sign_many, args=(str(base), labels[i % len(labels)], start, results))
        for i in range(processes)
    ]
    for worker in workers:
        worker.start()
    start.set()
    outcome = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    return outcome


def test_three_processes_sign_with_one_token_without_a_failure(tmp_path: Path) -> None:
    outcome = _run(tmp_path, ["u:one.leader"], processes=3)
    assert [failures for _count, failures in outcome] == [[], [], []]
    assert [count for count, _failures in outcome] == [ROUNDS] * 3


def test_processes_on_different_tokens_do_not_wait_for_each_other(tmp_path: Path) -> None:
    outcome = _run(tmp_path, ["u:leader.a", "u:leader.b"], processes=2)
    assert outcome == [(ROUNDS, []), (ROUNDS, [])]
    # One lock file per token, in the store's own folder.
    labels = {p.name for p in (tmp_path / "locks").glob("*.lock")} - {"store.lock", "gate.lock"}
    assert len(labels) == 2
