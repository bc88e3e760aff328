"""Token configuration: which PKCS#11 module and which token, key and certificate. No PINs.

A SoftHSM2 token, a network HSM and a vendor USB-token module are all described the same
way; only ``module_path`` differs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DEFAULT_SOFTHSM_MODULE", "SoftHsmSetup", "TokenRef"]

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
        """Write the config and token folder (mode 0700) if missing; return the config path."""
        self.token_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.token_dir, 0o700)
        if not self.conf_path.exists():
            self.conf_path.write_text(
                f"directories.tokendir = {self.token_dir}\n"
                "objectstore.backend = file\n"
                "log.level = ERROR\n"
                "slots.removable = false\n",
                encoding="utf-8",
            )
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


_ACTIVE: dict[str, str] = {}
