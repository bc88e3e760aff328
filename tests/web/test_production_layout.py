"""The production layout on loopback, as the README and ``deploy/`` describe it: gunicorn
with 3 worker processes (``deploy/gunicorn.conf.py``, the app preloaded in the master), 2
``docexchange worker`` processes, one database (PostgreSQL in CI; SQLite in the SQLite run).
Over HTTP: one leader signs 40 documents at once (the requests spread over the three
processes, all on one token), then a document goes to a commune and its acceptance comes
back to the sender.

On PostgreSQL this test failed without the per-token lock (``pki/token_locks.py``) and
without ``wsgi.py`` letting go of the master's database connection before the fork.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Database
from tests.layout import PIN, login, production_layout, sign, upload, wait_until

COMMUNE = "000.21.12.H45"
PARALLEL_SIGNS = 40


@pytest.fixture
def layout(fresh_database: Database, tmp_path: Path) -> Iterator[str]:
    with production_layout(tmp_path, fresh_database.env()) as base:
        yield base


def test_gunicorn_and_two_workers_sign_send_receive_and_report_back(layout: str) -> None:
    base = layout
    clerk, leader = login(base, "pt.vanthu"), login(base, "pt.lanhdao")
    drafts = [upload(base, clerk, n) for n in range(PARALLEL_SIGNS)]
    with ThreadPoolExecutor(max_workers=PARALLEL_SIGNS) as pool:
        outcomes = list(pool.map(lambda doc_id: sign(base, leader, doc_id), drafts))
    assert [code for code, _text in outcomes] == [200] * PARALLEL_SIGNS, outcomes
    # /metrics adds up what the three worker processes counted (multi-process mode).
    exposition = requests.get(f"{base}/metrics", headers=login(base, "admin"), timeout=30)
    assert exposition.status_code == 200, exposition.text
    signed = [
        s.value
        for family in text_string_to_metric_families(exposition.text)
        for s in family.samples
        if s.name == "docexchange_signatures_total"
        and s.labels == {"kind": "personal", "outcome": "ok"}
    ]
    assert signed == [PARALLEL_SIGNS]

    first = drafts[0]
    issued = requests.post(
        f"{base}/api/v1/documents/{first}/issue", json={"pin": PIN}, headers=clerk, timeout=120
    )
    assert issued.status_code == 200, issued.text
    sent = requests.post(
        f"{base}/api/v1/documents/{first}/send",
        json={"recipients": [COMMUNE]},
        headers=clerk,
        timeout=60,
    )
    assert sent.status_code == 202, sent.text

    commune = login(base, "cm.vanthu")

    def arrived() -> dict[str, Any] | None:
        items = requests.get(f"{base}/api/v1/inbox", headers=commune, timeout=30).json()["items"]
        return items[0] if items else None

    entry = wait_until(arrived, "arrival in the commune's inbox")  # a delivery worker's work
    assert entry["status_code"] == "01"
    assert entry["verification"] == {"valid": True, "indication": "TOTAL_PASSED"}
    accepted = requests.post(
        f"{base}/api/v1/deliveries/{entry['delivery_id']}/status",
        json={"code": "03"},
        headers=commune,
        timeout=30,
    )
    assert accepted.status_code == 200, accepted.text

    def reported() -> bool:
        items = requests.get(f"{base}/api/v1/outbox", headers=clerk, timeout=30).json()["items"]
        return {o["recipient_code"]: o["status_code"] for o in items} == {COMMUNE: "03"}

    assert wait_until(reported, "status 03 back at the sender")
