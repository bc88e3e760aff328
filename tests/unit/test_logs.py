"""Log lines cannot be forged with what a client sends."""

from __future__ import annotations

import logging

from docexchange.logs import SafeFormatter, configure_logging, escape_controls


def _line(message: str, *args: object) -> str:
    record = logging.LogRecord("docexchange.t", logging.INFO, __file__, 1, message, args, None)
    return SafeFormatter("%(levelname)s %(message)s").format(record)


def test_a_username_with_crlf_stays_on_its_line() -> None:
    line = _line("login failed for %s", "x\r\nSet-Cookie: a=1\x1b[2J\u2028y\\")
    assert "\n" not in line and "\r" not in line and "\x1b" not in line
    assert line == "INFO login failed for x\\r\\nSet-Cookie: a=1\\x1b[2J\\u2028y\\\\"


def test_vietnamese_text_is_kept_as_it_is() -> None:
    assert escape_controls("Đỗ Thị Chân — văn thư") == "Đỗ Thị Chân — văn thư"


def test_a_traceback_keeps_its_lines() -> None:
    try:
        raise ValueError("bad\nvalue")
    except ValueError:
        import sys

        record = logging.LogRecord(
            "docexchange.t", logging.ERROR, __file__, 1, "boom %s", ("a\nb",), sys.exc_info()
        )
    text = SafeFormatter("%(message)s").format(record)
    first, *rest = text.split("\n")
    assert first == "boom a\\nb" and rest[0] == "Traceback (most recent call last):"


def test_every_handler_we_install_escapes() -> None:
    names = ("", "docexchange", "pki", "waitress")
    saved = {
        n: (
            logging.getLogger(n).handlers[:],
            logging.getLogger(n).propagate,
            logging.getLogger(n).level,
        )
        for n in names
    }
    try:
        configure_logging("INFO")
        for name in names:
            handlers = logging.getLogger(name).handlers
            assert handlers and all(isinstance(h.formatter, SafeFormatter) for h in handlers)
    finally:
        for name, (handlers, propagate, level) in saved.items():
            logger = logging.getLogger(name)
            logger.handlers[:], logger.propagate = handlers, propagate
            logger.setLevel(level)
