"""What an operator watches: counters and timings kept by every process, and the state of
the queues and tokens read from the database when Prometheus asks (``GET /metrics``).

Under gunicorn the workers are separate processes: ``deploy/gunicorn.conf.py`` names a
``PROMETHEUS_MULTIPROC_DIR`` before anything imports prometheus_client, each process writes
its samples there, and a scrape adds them up (prometheus_client's multi-process mode).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = [
    "HTTP_REQUESTS",
    "HTTP_SECONDS",
    "SIGNATURES",
    "SIGNATURE_SECONDS",
    "VERIFICATIONS",
    "VERIFICATION_SECONDS",
    "exposition",
]

HTTP_REQUESTS = Counter(
    "docexchange_http_requests",
    "HTTP requests answered, by endpoint, method and status.",
    ["endpoint", "method", "status"],
)
HTTP_SECONDS = Histogram(
    "docexchange_http_request_seconds",
    "Time to answer an HTTP request, by endpoint.",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
SIGNATURES = Counter(
    "docexchange_signatures",
    "Signatures made on tokens, by kind (personal, organization) and outcome.",
    ["kind", "outcome"],
)
SIGNATURE_SECONDS = Histogram(
    "docexchange_signature_seconds",
    "Time a token was logged in for one signature (PDF, CMS, time stamp).",
    ["kind"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)
VERIFICATIONS = Counter(
    "docexchange_verifications",
    "PDF verifications in the isolated workers, by verdict (valid, invalid, error).",
    ["outcome"],
)
VERIFICATION_SECONDS = Histogram(
    "docexchange_verification_seconds",
    "Time of one PDF verification.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)


class _StateCollector(Collector):
    """Gauges read at scrape time from whoever knows them (the database, the blob store)."""

    def __init__(self, read: Callable[[], dict[str, tuple[str, float]]]) -> None:
        self.read = read

    def collect(self) -> Iterator[Metric]:
        for name, (help_text, value) in self.read().items():
            yield GaugeMetricFamily(name, help_text, value=value)


def exposition(read_state: Callable[[], dict[str, tuple[str, float]]]) -> tuple[bytes, str]:
    """The whole text exposition: this process's (or every worker's) samples, and the
    gauges ``read_state`` answers ``{name: (help, value)}``."""
    samples: Any = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        samples = CollectorRegistry()
        multiprocess.MultiProcessCollector(samples)  # type: ignore[no-untyped-call]
    state = CollectorRegistry()
    state.register(_StateCollector(read_state))
    # The text format is a sequence of metric families: two expositions joined are one.
    return generate_latest(samples) + generate_latest(state), CONTENT_TYPE_LATEST
