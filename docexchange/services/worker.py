"""The delivery worker: a loop around :func:`exchange.deliver_pending`.

``docexchange serve`` runs one in a thread beside the web server (woken at once when a
document is sent); ``docexchange worker`` runs one alone, and several may run against one
PostgreSQL database (rows are claimed with ``FOR UPDATE SKIP LOCKED``).
"""

from __future__ import annotations

import logging
import threading

from docexchange.services import exchange
from docexchange.services.container import Services

__all__ = ["DeliveryWorker"]

logger = logging.getLogger(__name__)


class DeliveryWorker:
    """Deliver pending documents until stopped; idle waits are cut short by :meth:`notify`."""

    def __init__(self, services: Services, *, idle_seconds: float = 2.0, batch: int = 250) -> None:
        self._services = services
        self._idle = idle_seconds
        self._batch = batch
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: Passes over the queue finished so far (whatever they found).
        self.passes = 0

    def notify(self) -> None:
        """Something was queued: look now."""
        self._wake.set()

    def run(self) -> None:
        """Work in the calling thread until :meth:`stop`."""
        while not self._stop.is_set():
            try:
                result = exchange.deliver_pending(self._services, batch=self._batch)
            except Exception:  # a broken database must not end the worker: log and wait
                logger.exception("delivery worker pass failed")
                result = exchange.WorkResult(0, 0, 0)
            self.passes += 1
            if result.delivered or result.retried:
                logger.info(
                    "delivered %d, retrying %d, failed %d",
                    result.delivered,
                    result.retried,
                    result.failed,
                )
                continue
            self._wake.wait(self._idle)
            self._wake.clear()

    def start(self) -> None:
        """Run in a daemon thread."""
        self._thread = threading.Thread(target=self.run, name="delivery-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Finish the current pass and stop."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
