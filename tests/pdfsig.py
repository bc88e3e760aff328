"""poppler's ``pdfsig`` (poppler + NSS, not pyHanko) with the demo root trusted."""

from __future__ import annotations

import subprocess
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from docexchange.services.container import Services


def _run(*args: str) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True, timeout=60).stdout


def pdfsig(pdf: bytes, services: Services, tmp_path: Path) -> str:
    """``pdfsig``'s report on ``pdf``, in an NSS database that trusts the demo root only."""
    nss = tmp_path / "nss"
    if not nss.exists():
        nss.mkdir()
        root_pem = tmp_path / "root.pem"
        root_pem.write_bytes(services.keys.ca.root.public_bytes(serialization.Encoding.PEM))
        _run("certutil", "-N", "-d", f"sql:{nss}", "--empty-password")
        _run(
            "certutil", "-A", "-d", f"sql:{nss}", "-n", "docexchange-demo-root",
            "-t", "CT,C,C", "-i", str(root_pem),
        )  # fmt: skip
    path = tmp_path / "checked.pdf"
    path.write_bytes(pdf)
    return _run("pdfsig", "-nssdir", f"sql:{nss}", str(path))
