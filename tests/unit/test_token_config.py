"""Token configuration: per-token module paths, and never a PIN."""

from __future__ import annotations

from pathlib import Path

import pytest

from pki.config import TokenDirectory

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_examples_load() -> None:
    demo = TokenDirectory.load(ROOT / "hsm_config" / "softhsm-demo.yaml", default_module="/x.so")
    assert demo.ref("u:pt.lanhdao").module_path == "/usr/lib/softhsm/libsofthsm2.so"
    example = TokenDirectory.load(ROOT / "hsm_config" / "example-hsm.yaml", default_module="/x.so")
    seal = example.ref("o:000.00.00.H45")
    assert (seal.module_path, seal.key_label) == ("/opt/vendor-hsm/lib/libpkcs11.so", "seal-2026")
    assert example.ref("u:pt.lanhdao").module_path == "/usr/lib/softhsm/libsofthsm2.so"
    assert example.ref("u:pt.lanhdao").key_label == "signing"


@pytest.mark.parametrize(
    "text",
    [
        "tokens:\n  - label: u:a\n    user_pin: '123456'\n",
        "default_module: /a.so\nso-pin: '87654321'\n",
        "colour: blue\n",
        "tokens:\n  - label: u:a\n    slot: 3\n",
        "- just a list\n",
    ],
)
def test_bad_files_are_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "tokens.yaml"
    path.write_text(text)
    with pytest.raises(ValueError) as info:
        TokenDirectory.load(path, default_module="/x.so")
    assert "123456" not in str(info.value) and "87654321" not in str(info.value)
