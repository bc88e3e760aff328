"""The import contracts name every pki module, so a new one cannot slip past them."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_pki_module_but_tokens_is_forbidden_pkcs11() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    pkcs11 = next(c for c in contracts if c["name"] == "Only pki.tokens talks PKCS#11")
    modules = {f"pki.{p.stem}" for p in (ROOT / "pki").glob("*.py") if p.stem != "__init__"}
    assert set(pkcs11["source_modules"]) - {"docexchange"} == modules - {"pki.tokens"}
    envelopes = [c for c in contracts if "docexchange.envelopes" in c.get("source_modules", [])]
    assert len(envelopes) >= 2  # the web stack, and its own contract
