"""Where the external attack corpus is, and which of its files a run has read.

The corpus (``../shared/corpus`` beside a checkout, or ``DOCEXCHANGE_CORPUS``) is not part of
the repository: some of its files carry no licence. Its tests form the conformance suite
(marker ``conformance``), which ``scripts/test.sh`` runs when the corpus is found.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Every corpus file a test of this run has read (relative paths).
CHECKED: set[str] = set()


def corpus_dir() -> Path:
    """The corpus folder; fails the test with where it looked when it is not there."""
    value = os.environ.get("DOCEXCHANGE_CORPUS")
    default = Path(__file__).resolve().parents[3] / "shared" / "corpus"
    path = Path(value) if value else default
    assert path.is_dir(), f"the attack corpus is missing at {path}: set DOCEXCHANGE_CORPUS"
    return path


def read_corpus(relative: str) -> bytes:
    """The bytes of a corpus file, counted as checked."""
    data = (corpus_dir() / relative).read_bytes()
    CHECKED.add(relative)
    return data
