"""The conformance suite: every test here reads the external corpus (see ``files.py``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.corpus.files import CHECKED

REPORT_ENV = "DOCEXCHANGE_CORPUS_REPORT"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.conformance)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not CHECKED:
        return
    line = f"conformance corpus: {len(CHECKED)} files checked"
    terminalreporter.write_line(line)
    report = os.environ.get(REPORT_ENV)
    if report:
        Path(report).write_text(f"{len(CHECKED)}\n", encoding="ascii")
