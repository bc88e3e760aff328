"""Token configuration: which PKCS#11 module and which token, key and certificate. No PINs.

A SoftHSM2 token, a network HSM and a vendor USB-token module are all described the same
way; only ``module_path`` differs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from pki import token_locks

__all__ = ["DEFAULT_SOFTHSM_MODULE", "SoftHsmSetup", "TokenDirectory", "TokenRef"]

DEFAULT_SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"


@dataclass(frozen=True)
class TokenRef:
    """Where a signing key lives: module, token label, key/certificate label."""

    module_path: str
    token_label: str
    key_label: str = "signing"

    def __post_init__(self) -> None:
        if not self.token_label or len(self.token_label.encode()) > 32:
            raise ValueError("a PKCS#11 token label is 1 to 32 bytes")


@dataclass(frozen=True)
class SoftHsmSetup:
    """The embedded SoftHSM2 store of one instance (its own config file and token folder)."""

    base_dir: Path
    module_path: str = DEFAULT_SOFTHSM_MODULE

    @property
    def conf_path(self) -> Path:
        """The ``softhsm2.conf`` this instance uses."""
        return self.base_dir / "softhsm2.conf"

    @property
    def token_dir(self) -> Path:
        """Where SoftHSM2 keeps the token files (keys encrypted under each token's PIN)."""
        return self.base_dir / "tokens"

    def write_config(self) -> Path:
        """Write the config (and the token folder, mode 0700) for where the store is now;
        return the config path.

        Written afresh whenever it differs: the file names the token folder by its absolute
        path, so an instance moved or restored elsewhere must never keep the old one (it
        would sign with the original's tokens, or find none).
        """
        self.token_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.token_dir, 0o700)
        wanted = (
            f"directories.tokendir = {self.token_dir.resolve()}\n"
            "objectstore.backend = file\n"
            "log.level = ERROR\n"
            "slots.removable = false\n"
        )
        current = self.conf_path.read_text(encoding="utf-8") if self.conf_path.exists() else None
        if current != wanted:
            self.conf_path.write_text(wanted, encoding="utf-8")
        return self.conf_path

    def activate(self) -> None:
        """Point this process at the instance's SoftHSM2 store.

        Must run before the PKCS#11 module is first loaded in the process (SoftHSM2 reads
        ``SOFTHSM2_CONF`` when it initialises). A process serves one store: activating a
        second one would silently show one instance the tokens of another.

        :raises RuntimeError: a different store was activated in this process before.
        """
        conf = str(self.write_config())
        active = _ACTIVE.setdefault("conf", conf)
        if active != conf:
            raise RuntimeError(f"this process already uses the SoftHSM2 store {active}")
        os.environ["SOFTHSM2_CONF"] = conf
        token_locks.use_directory(self.base_dir / "locks")


_ACTIVE: dict[str, str] = {}


_FORBIDDEN_KEYS = {"pin", "user_pin", "user-pin", "so_pin", "so-pin", "password"}


@dataclass(frozen=True)
class TokenDirectory:
    """Which PKCS#11 module and key label serve each token label (``hsm_config/*.yaml``).

    Tokens not listed use ``default_module`` and the key label ``signing``. A network HSM
    or a vendor USB-token module is one line per token; nothing else changes.
    """

    default_module: str
    overrides: tuple[TokenRef, ...] = ()

    def ref(self, label: str) -> TokenRef:
        """The reference for ``label``."""
        for ref in self.overrides:
            if ref.token_label == label:
                return ref
        return TokenRef(module_path=self.default_module, token_label=label)

    @classmethod
    def load(cls, path: Path, *, default_module: str) -> TokenDirectory:
        """Read a token configuration file.

        :raises ValueError: unknown keys, a PIN in the file, or a malformed entry.
        """
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a mapping")
        _refuse_secrets(data, path)
        unknown = set(data) - {"default_module", "tokens"}
        if unknown:
            raise ValueError(f"{path}: unknown keys {sorted(unknown)}")
        module = str(data.get("default_module") or default_module)
        overrides = []
        for entry in data.get("tokens") or []:
            if not isinstance(entry, dict) or set(entry) - {"label", "module", "key_label"}:
                raise ValueError(f"{path}: a token entry has label, module and key_label only")
            overrides.append(
                TokenRef(
                    module_path=str(entry.get("module") or module),
                    token_label=str(entry["label"]),
                    key_label=str(entry.get("key_label") or "signing"),
                )
            )
        return cls(default_module=module, overrides=tuple(overrides))


def _refuse_secrets(node: object, path: Path) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if str(key).lower() in _FORBIDDEN_KEYS:
                raise ValueError(f"{path}: PINs and passwords never go in token configuration")
            _refuse_secrets(value, path)
    elif isinstance(node, list):
        for item in node:
            _refuse_secrets(item, path)
