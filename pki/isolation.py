"""Parse untrusted PDFs in worker processes: each under a memory limit, every job a time limit.

A hostile PDF can make a parser loop or allocate without end (the corpus's
``pades_infinite_loop`` files, decompression bombs, page trees thousands of levels deep). The
server never parses an untrusted PDF in its own process: a small pool of workers does — the
inspection of an upload (:func:`pki.pdf.inspect_pdf`), every verification, and drawing a
page for the preview (:func:`pki.render.render_page`), reading where a page's text asks for
the stamps (:func:`pki.layout.page_text`) — each worker
with ``RLIMIT_AS`` set, and a worker that overruns its time is killed and replaced. Either way
the caller gets a verdict ("could not be checked within the limits"), never an exception or a
hang. Signing parses only files that passed the inspection, with the same reader.

Workers are forked from a clean *forkserver* process that has imported pyHanko once, so a
replacement starts in milliseconds, and they are never forked from the threaded server (with
its open PKCS#11 sessions). Each worker keeps its parsed trust roots and the revocation data it
fetched online between jobs; fetched data is dropped after ``revocation_cache_seconds`` (and
pyHanko refuses a CRL or OCSP response past its ``nextUpdate`` anyway).
"""

from __future__ import annotations

import gc
import hashlib
import logging
import multiprocessing
import queue
import resource
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from typing import Any

from asn1crypto import x509 as asn1_x509
from pyhanko_certvalidator.fetchers import Fetchers
from pyhanko_certvalidator.fetchers.api import FetchLimits
from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend

from pki import speedups
from pki.layout import PageText, page_text
from pki.pdf import PdfInfo, PdfRefused, inspect_pdf
from pki.render import MAX_WIDTH, render_page
from pki.report import ValidationReport
from pki.validation import verify_pdf

__all__ = ["IsolatedVerifier", "Limits"]

logger = logging.getLogger(__name__)

_MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """How much one verification may take, and how revocation is looked up."""

    #: Wall-clock seconds for one document before its worker is killed.
    seconds: float = 30.0
    #: Address-space limit of a worker process.
    memory_bytes: int = 1536 * _MiB
    #: Worker processes (documents verified at the same time).
    workers: int = 2
    #: Fetch CRLs and OCSP responses from the addresses in the certificates.
    fetch_online: bool = True
    #: Seconds for one revocation request.
    fetch_timeout: float = 5.0
    #: Seconds that revocation data fetched online is reused for later documents.
    revocation_cache_seconds: float = 300.0


@dataclass(frozen=True)
class _Job:
    data: bytes
    roots: tuple[bytes, ...]
    other_certs: tuple[bytes, ...]
    at: datetime | None = None
    #: The caller's clock when it asked: the worker judges "now" as this moment.
    now: datetime | None = None


@dataclass(frozen=True)
class _Inspection:
    """Inspect an upload: the answer is a :class:`PdfInfo` or the refusal's reason."""

    data: bytes


@dataclass(frozen=True)
class _Rendering:
    """Draw one page: the answer is the PNG (bytes) or the refusal's reason (str)."""

    data: bytes
    page: int
    width: int


@dataclass(frozen=True)
class _Reading:
    """Read the text of some pages: the answer is a tuple of :class:`PageText` or a reason."""

    data: bytes
    pages: tuple[int, ...]


_Work = _Job | _Inspection | _Rendering | _Reading
_Answer = ValidationReport | PdfInfo | str | bytes | tuple[PageText, ...]


def _refused(code: str) -> ValidationReport:
    return ValidationReport(valid=False, signatures=[], status="unreadable", messages=[code])


class _FetchCache:
    """One set of fetchers, renewed when older than the cache lifetime.

    With online fetching off, the fetchers refuse every request: a responder that may not be
    asked is treated exactly like one that cannot be reached (soft-fail), so the verdict on
    a file does not depend on the switch, only on what the network answers.
    """

    def __init__(self, limits: Limits) -> None:
        self._limits = limits
        self._fetchers: Fetchers | None = None
        self._born = 0.0

    def current(self) -> Fetchers:
        now = time.monotonic()
        if self._fetchers is None or now - self._born > self._limits.revocation_cache_seconds:
            backend = RequestsFetcherBackend(
                per_request_timeout=self._limits.fetch_timeout,
                limits=FetchLimits(max_requests=500 if self._limits.fetch_online else 0),
            )
            self._fetchers, self._born = backend.get_fetchers(), now
        return self._fetchers


def _serve(conn: Connection, limits: Limits) -> None:  # pragma: no cover - runs in a worker
    """Worker loop: receive a job, send back a report, until the pipe closes."""
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    speedups.install()  # the faster hex-string reader, in the process that parses PDFs
    # The imported modules live as long as the worker: keep them out of every GC pass
    # (measured: about a quarter off a typical verification).
    gc.freeze()
    fetch = _FetchCache(limits)
    parsed: dict[bytes, tuple[list[asn1_x509.Certificate], list[asn1_x509.Certificate]]] = {}
    while True:
        try:
            job: _Work = conn.recv()
        except (EOFError, OSError):
            return
        answer: _Answer
        if isinstance(job, _Inspection | _Rendering | _Reading):
            try:
                if isinstance(job, _Inspection):
                    answer = inspect_pdf(job.data)
                elif isinstance(job, _Reading):
                    answer = page_text(job.data, job.pages)
                else:
                    answer = render_page(job.data, job.page, width=job.width)
            except PdfRefused as exc:
                answer = exc.reason
            except MemoryError:
                answer = "limits_exceeded"
        else:
            answer = _verify(job, fetch, parsed)
        del job
        try:
            conn.send(answer)
        except OSError:  # the server went away (killed): nobody waits for this answer
            return


def _verify(
    job: _Job,
    fetch: _FetchCache,
    parsed: dict[bytes, tuple[list[asn1_x509.Certificate], list[asn1_x509.Certificate]]],
) -> ValidationReport:  # pragma: no cover - runs in a worker
    key = hashlib.sha256(b"".join(job.roots) + b"|" + b"".join(job.other_certs)).digest()
    if key not in parsed:
        parsed.clear()
        parsed[key] = (
            [asn1_x509.Certificate.load(der) for der in job.roots],
            [asn1_x509.Certificate.load(der) for der in job.other_certs],
        )
    roots, others = parsed[key]
    try:
        report = verify_pdf(
            job.data,
            roots=roots,
            other_certs=others,
            fetchers=fetch.current(),
            at=job.at,
            now=job.now,
        )
    except MemoryError:
        report = _refused("verification_limits_exceeded")
    return report


class _Worker:
    def __init__(self, context: Any, limits: Limits) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=_serve, args=(child, limits), daemon=True, name="docexchange-verifier"
        )
        self.process.start()
        child.close()

    def run(self, job: _Work, seconds: float) -> _Answer | None:
        """The answer, or ``None`` when the worker overran or died (it is then gone)."""
        try:
            self.conn.send(job)
            if self.conn.poll(seconds):
                answer: _Answer = self.conn.recv()
                return answer
        except (EOFError, OSError):
            pass
        self.stop()
        return None

    def stop(self) -> None:
        self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()


class IsolatedVerifier:
    """A pool of PDF worker processes, started on first use; safe to share between threads."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(["pki.isolation"])
        self._idle: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._started = 0
        self._all: list[_Worker] = []

    def verify(
        self,
        data: bytes,
        *,
        roots: Sequence[asn1_x509.Certificate],
        other_certs: Sequence[asn1_x509.Certificate] = (),
        at: datetime | None = None,
    ) -> ValidationReport:
        """Judge ``data`` as :func:`pki.validation.verify_pdf` does, within the limits.

        "Now" is this process's clock when asked, not the worker's: one process keeps the
        time for every verdict it asks for.
        """
        job = _Job(
            data=data,
            roots=tuple(c.dump() for c in roots),
            other_certs=tuple(c.dump() for c in other_certs),
            at=at,
            now=datetime.now(UTC),
        )
        answer, timed_out = self._run(job)
        if isinstance(answer, ValidationReport):
            return answer
        if timed_out:
            return _refused("verification_timed_out")
        return _refused("verification_limits_exceeded")

    def inspect(self, data: bytes) -> PdfInfo:
        """:func:`pki.pdf.inspect_pdf` of an upload, within the limits.

        :raises PdfRefused: as ``inspect_pdf`` does, or ``limits_exceeded`` when parsing the
            file overran the time or memory limit.
        """
        answer, _ = self._run(_Inspection(data))
        if isinstance(answer, PdfInfo):
            return answer
        raise PdfRefused(answer if isinstance(answer, str) else "limits_exceeded")

    def render(self, data: bytes, page: int, *, width: int = MAX_WIDTH) -> bytes:
        """:func:`pki.render.render_page` of ``data``, within the limits: a PNG.

        :raises PdfRefused: ``broken``, ``malformed`` (no such page) or ``limits_exceeded``.
        """
        answer, _ = self._run(_Rendering(data, page, width))
        if isinstance(answer, bytes):
            return answer
        raise PdfRefused(answer if isinstance(answer, str) else "limits_exceeded")

    def page_text(self, data: bytes, pages: Sequence[int]) -> tuple[PageText, ...]:
        """:func:`pki.layout.page_text` of ``data``, within the limits.

        :raises PdfRefused: ``broken``, ``malformed`` (no such page) or ``limits_exceeded``.
        """
        answer, _ = self._run(_Reading(data, tuple(pages)))
        if isinstance(answer, tuple):
            return answer
        raise PdfRefused(answer if isinstance(answer, str) else "limits_exceeded")

    def _run(self, job: _Work) -> tuple[_Answer | None, bool]:
        """A worker's answer (``None`` if it overran or died), and whether it overran."""
        worker = self._take()
        started = time.monotonic()
        answer = worker.run(job, self.limits.seconds)
        if answer is not None:
            self._idle.put(worker)
            return answer, False
        elapsed = time.monotonic() - started
        with self._lock:
            if worker in self._all:  # not already stopped by close()
                self._started -= 1
                self._all.remove(worker)
        if elapsed >= self.limits.seconds:
            logger.warning("PDF worker stopped after %.1f s (time limit)", elapsed)
            return None, True
        logger.warning("PDF worker died after %.1f s (memory limit?)", elapsed)
        return None, False

    def _take(self) -> _Worker:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            if self._started < self.limits.workers:
                self._started += 1
                try:
                    worker = _Worker(self._context, self.limits)
                except BaseException:
                    self._started -= 1
                    raise
                self._all.append(worker)
                return worker
        return self._idle.get()

    def close(self) -> None:
        """Stop every worker (idle or not); the pool starts new ones if used again."""
        with self._lock:
            workers, self._all, self._started = self._all, [], 0
            while True:
                try:
                    self._idle.get_nowait()
                except queue.Empty:
                    break
        for worker in workers:
            worker.stop()
