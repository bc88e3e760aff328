"""The verifier's worker pool: time and memory limits give verdicts, and the pool recovers."""

from __future__ import annotations

import threading

import pytest

from pki.isolation import IsolatedVerifier, Limits
from tests.data.samples import MINIMAL_PDF


def test_a_job_over_its_time_is_stopped_and_the_pool_recovers() -> None:
    pool = IsolatedVerifier(Limits(seconds=0.001, workers=1, fetch_online=False))
    try:
        report = pool.verify(MINIMAL_PDF, roots=[])
        assert (report.valid, report.status, report.messages) == (
            False,
            "unreadable",
            ["verification_timed_out"],
        )
        pool.limits = Limits(seconds=30, workers=1, fetch_online=False)
        again = pool.verify(MINIMAL_PDF, roots=[])
        assert again.status == "not_signed"  # a fresh worker answered
    finally:
        pool.close()


def test_a_worker_out_of_memory_gives_a_verdict_not_a_crash() -> None:
    # The worker may not map more than 64 MiB in all; a 200 MB file cannot even be received.
    pool = IsolatedVerifier(Limits(memory_bytes=64 * 1024 * 1024, workers=1, fetch_online=False))
    huge = MINIMAL_PDF + b"%" + b"x" * (200 * 1024 * 1024)
    try:
        report = pool.verify(huge, roots=[])
        assert report.valid is False and report.status == "unreadable"
        assert report.messages == ["verification_limits_exceeded"]
        pool.limits = Limits(workers=1, fetch_online=False)
        assert pool.verify(MINIMAL_PDF, roots=[]).status == "not_signed"
    finally:
        pool.close()


def test_threads_share_the_pool_and_each_gets_its_own_answer() -> None:
    pool = IsolatedVerifier(Limits(seconds=30, workers=2, fetch_online=False))
    answers: list[str] = []
    lock = threading.Lock()

    def check(data: bytes) -> None:
        status = pool.verify(data, roots=[]).status
        with lock:
            answers.append(status)

    inputs = [MINIMAL_PDF, b"not a pdf"] * 4
    threads = [threading.Thread(target=check, args=(data,)) for data in inputs]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert sorted(answers) == sorted(["not_signed", "unreadable"] * 4)
    finally:
        pool.close()


def test_an_upload_is_inspected_in_a_worker_under_the_same_limits() -> None:
    from pki.pdf import PdfRefused
    from tests.unit.test_hostile_input import _tree

    pool = IsolatedVerifier(Limits(seconds=30, workers=1, fetch_online=False))
    try:
        assert pool.inspect(MINIMAL_PDF).pages == 1
        for data, reason in ((_tree(5000), "malformed"), (b"hello", "not_pdf")):
            with pytest.raises(PdfRefused) as caught:
                pool.inspect(data)
            assert caught.value.reason == reason
        pool.close()
        pool.limits = Limits(seconds=0.001, workers=1, fetch_online=False)
        with pytest.raises(PdfRefused) as caught:
            pool.inspect(MINIMAL_PDF)
        assert caught.value.reason == "limits_exceeded"
        pool.limits = Limits(memory_bytes=64 * 1024 * 1024, workers=1, fetch_online=False)
        with pytest.raises(PdfRefused) as caught:
            pool.inspect(MINIMAL_PDF + b"%" + b"x" * (200 * 1024 * 1024))
        assert caught.value.reason == "limits_exceeded"
    finally:
        pool.close()


def test_a_page_is_drawn_in_a_worker_and_a_missing_page_is_refused() -> None:
    from pki.pdf import PdfRefused
    from tests.data.samples import make_pdf

    pool = IsolatedVerifier(Limits(seconds=30, workers=1, fetch_online=False))
    try:
        picture = pool.render(make_pdf(2), 2, width=400)
        assert picture.startswith(b"\x89PNG\r\n\x1a\n")
        width = int.from_bytes(picture[16:20], "big")  # the IHDR chunk
        assert abs(width - 400) <= 1  # PDFium rounds the scaled page
        for data, page, reason in ((make_pdf(2), 3, "malformed"), (b"%PDF-1.7 x", 1, "broken")):
            with pytest.raises(PdfRefused) as caught:
                pool.render(data, page)
            assert caught.value.reason == reason
    finally:
        pool.close()
