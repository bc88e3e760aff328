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


def test_no_state_or_kind_is_compared_as_a_bare_string_outside_the_domain() -> None:
    """States and kinds are StrEnums of ``docexchange/domain``; code and pages use members."""
    import re

    bare = re.compile(r"""\.(state|kind)\s*(==|!=|=)\s*["']|(state|kind)=["'][a-z]""")
    offenders = []
    for path in (ROOT / "docexchange").rglob("*"):
        if path.suffix not in (".py", ".html") or "domain" in path.parts:
            continue
        if "migrations" in path.parts:  # a migration is written against the data of its day
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if bare.search(line) and "url_for(" not in line:  # a report's query, not a state
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:80]}")
    assert offenders == []
