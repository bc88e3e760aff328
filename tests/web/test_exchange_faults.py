"""Faults: a delivery worker killed with SIGKILL at random moments loses and duplicates nothing."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from docexchange.services.container import Services
from docexchange.storage.models import Delivery, InboxEntry
from tests.clock import wait_for
from tests.conftest import Database, subprocess_env
from tests.web.test_documents import signed_and_issued

pytestmark = pytest.mark.usefixtures("signing_tokens", "registered_certificates")

SENDS = 100
#: How long workers are started and killed at most (the test's whole run stays within the
#: suite's per-test timeout).
CHAOS_SECONDS = 120
COMMUNES = ("000.21.12.H45", "000.22.12.H45")


def _worker(services: Services, database: Database, log: Path) -> subprocess.Popen[bytes]:
    env = subprocess_env(
        {"DOCEXCHANGE_INSTANCE": str(services.settings.instance_dir), **database.env()}
    )
    script = Path(sys.executable).parent / "docexchange"
    # Small passes, so kills land inside and between delivery transactions alike.
    with log.open("ab") as output:
        return subprocess.Popen(
            [str(script), "worker", "--batch", "4"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def _counts(services: Services) -> tuple[int, int, int, int]:
    with services.sessions() as s:
        sent = s.scalar(select(func.count()).select_from(Delivery))
        pending = s.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.state != "delivered")
        )
        entries = s.scalar(select(func.count()).select_from(InboxEntry))
        distinct = s.scalar(select(func.count(func.distinct(InboxEntry.consignment_id))))
    return int(sent or 0), int(pending or 0), int(entries or 0), int(distinct or 0)


def test_killing_the_worker_at_random_loses_and_duplicates_nothing(
    client: FlaskClient, as_user: Any, services: Services, database: Database, tmp_path: Path
) -> None:
    """While 100 documents are sent, a worker process is started and SIGKILLed again and
    again at random moments (starting up, verifying, inside a delivery transaction); then
    one last worker finishes. Every delivery must arrive exactly once."""
    log = tmp_path / "worker.log"
    chance = random.Random(20261126)
    sending = threading.Event()
    sending.set()
    kills: list[int] = []
    failures: list[str] = []
    delivered_between_kills: list[int] = []

    def chaos() -> None:
        # Until the sends are done and eight kills happened, and on while deliveries are
        # left (a deadline bounds it): kills then land on workers that have work.
        deadline = time.monotonic() + CHAOS_SECONDS
        while time.monotonic() < deadline and (
            sending.is_set() or len(kills) < 8 or _counts(services)[1]
        ):
            before = _counts(services)[2]
            process = _worker(services, database, log)
            # Start-up (Python, the verifier pool) takes 1-2 s of this.
            time.sleep(chance.uniform(1.5, 5.0))
            if process.poll() is not None:
                failures.append(log.read_text(errors="replace")[-3000:])
                return
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            kills.append(process.returncode)
            delivered_between_kills.append(_counts(services)[2] - before)

    killer = threading.Thread(target=chaos)
    killer.start()
    try:
        clerk = as_user("pt.vanthu")
        for n in range(SENDS):
            body = signed_and_issued(client, as_user, recipients=list(COMMUNES), subject=f"Số {n}")
            sent = client.post(f"/api/v1/documents/{body['id']}/send", headers=clerk)
            assert sent.status_code == 202
    finally:
        sending.clear()
        killer.join(timeout=CHAOS_SECONDS + 60)
    assert not killer.is_alive(), "the killing did not stop by its deadline"
    assert not failures, failures[0]  # a worker ended on its own
    assert kills and all(code == -signal.SIGKILL for code in kills)
    # At least one kill landed on a worker in the middle of delivering.
    assert any(delivered_between_kills), "no kill ever hit a working worker"

    last = _worker(services, database, log)
    try:
        wait_for(
            lambda: _counts(services)[1] == 0,
            what="every delivery done by the last worker",
            timeout=120,
            interval=0.2,
        )
    finally:
        last.send_signal(signal.SIGTERM)
        last.wait(timeout=30)
    sent, pending, entries, distinct = _counts(services)
    assert (sent, pending, entries, distinct) == (2 * SENDS, 0, 2 * SENDS, 2 * SENDS)
    with services.sessions() as s:
        for code in COMMUNES:
            count = s.scalar(
                select(func.count())
                .select_from(InboxEntry)
                .where(InboxEntry.recipient_code == code)
            )
            assert count == SENDS
