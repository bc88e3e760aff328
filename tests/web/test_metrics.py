"""``GET /metrics`` (Prometheus text, admins' bearer token) and request ids: every answer
carries ``X-Request-Id``, every error body names it, every log line of the request too."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from docexchange.logs import RequestIdFilter, SafeFormatter
from tests.conftest import error_code
from tests.web.test_documents import upload


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@pytest.mark.usefixtures("signing_tokens", "registered_certificates")
def test_metrics_count_requests_signatures_and_read_the_queues(
    client: FlaskClient, as_user: Any
) -> None:
    assert error_code(client.get("/metrics")) == "authentication_required"
    refused = client.get("/metrics", headers=as_user("pt.vanthu"))
    assert (refused.status_code, error_code(refused)) == (403, "role_required")
    admin = as_user("admin")
    before = _samples(client.get("/metrics", headers=admin).get_data(as_text=True))
    doc_id = upload(client, as_user("pt.vanthu")).get_json()["id"]
    signed = client.post(
        f"/api/v1/documents/{doc_id}/sign", json={"pin": "123456"}, headers=as_user("pt.lanhdao")
    )
    assert signed.status_code == 200
    answer = client.get("/metrics", headers=admin)
    assert answer.status_code == 200 and answer.mimetype == "text/plain"
    after = _samples(answer.get_data(as_text=True))

    def delta(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert delta("docexchange_signatures_total", kind="personal", outcome="ok") == 1
    assert delta("docexchange_signature_seconds_count", kind="personal") == 1
    assert (
        delta(
            "docexchange_http_requests_total",
            endpoint="api_v1.sign_document",
            method="POST",
            status="200",
        )
        == 1
    )
    for gauge in (
        "docexchange_deliveries_pending",
        "docexchange_deliveries_failed",
        "docexchange_status_messages_pending",
        "docexchange_tokens_locked",
    ):
        assert after[(gauge, ())] == 0
    assert after[("docexchange_blob_store_free_bytes", ())] > 0


def test_every_answer_and_error_names_its_request(
    client: FlaskClient, demo: None, caplog: pytest.LogCaptureFixture
) -> None:
    answer = client.get("/healthz")
    assert len(answer.headers["X-Request-Id"]) == 16
    passed = client.get("/healthz", headers={"X-Request-Id": "from-nginx-12345"})
    assert passed.headers["X-Request-Id"] == "from-nginx-12345"
    forged = client.get("/healthz", headers={"X-Request-Id": "bad id\\r\\nInjected: x"})
    assert forged.headers["X-Request-Id"] != "bad id\\r\\nInjected: x"
    refused = client.post("/api/v1/auth/login", json={"username": "x", "password": "y"})
    body = refused.get_json()["error"]
    assert body["code"] == "invalid_credentials"
    assert body["request_id"] == refused.headers["X-Request-Id"]
    # The log lines of that request carry its id (the filter configure_logging installs).
    caplog.set_level(logging.INFO)
    caplog.handler.addFilter(RequestIdFilter())
    caplog.handler.setFormatter(SafeFormatter("%(request_id)s %(message)s"))
    again = client.post("/api/v1/auth/login", json={"username": "x", "password": "y"})
    lines = [line for line in caplog.text.splitlines() if "login.failure" in line]
    assert lines and all(line.startswith(again.headers["X-Request-Id"]) for line in lines[-1:])
