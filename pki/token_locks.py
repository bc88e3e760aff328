"""One token at a time across processes: an exclusive file lock per token label.

SoftHSM2 keeps each token in files that every process re-reads and rewrites around a login;
two processes logging in to the same token at once make one of them fail
(``GeneralError``, ``UserPinNotInitialized``: 24 of 75 concurrent signatures under
``gunicorn -w 2``, and 37 of 50 in a two-process loop of ``signing_session``). Within a
process :data:`pki.tokens.P11_LOCK` already serialises every PKCS#11 call; this lock adds
the same promise between processes, per token, so that different tokens still sign in
parallel (4 processes on 4 tokens: no slower than on one).

Why a file lock and not a database advisory lock: the token store is a folder on this
machine, and so is the lock (``<store>/locks``); it needs no database connection inside
the PKCS#11 code, is released by the kernel when a process dies, and ``pki`` never imports
the application. A real HSM serialises in its own firmware, where the lock only costs a
``flock`` call (microseconds).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

__all__ = ["held", "token_lock", "use_directory", "whole_store"]

#: The lock every use of a token holds shared, and a copy of the whole store exclusive;
#: the gate every use passes through on its way in, which a copy closes behind it.
_STORE, _GATE = "store.lock", "gate.lock"


_STATE: dict[str, Path] = {}
#: Labels this process holds, with how deep: a nested use of one token must not wait for
#: itself (``flock`` on a second descriptor of the same file would).
_HELD: dict[str, tuple[int, int]] = {}
_GUARD = threading.RLock()


def use_directory(path: Path) -> None:
    """Keep the lock files in ``path`` (made 0700 if missing)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    _STATE["dir"] = path


def held(label: str) -> bool:
    """Whether this process holds the lock of ``label`` now."""
    return label in _HELD


@contextlib.contextmanager
def token_lock(label: str) -> Iterator[None]:
    """Hold the token's lock for the block: other processes using ``label`` wait.

    Without a lock folder (no token store activated) the block runs unlocked across
    processes, as before. Callers hold :data:`pki.tokens.P11_LOCK`, which also keeps the
    threads of one process from sharing a descriptor.
    """
    folder = _STATE.get("dir")
    if folder is None:
        yield
        return
    with _GUARD:
        if label in _HELD:
            fd, depth = _HELD[label]
            _HELD[label] = (fd, depth + 1)
        else:
            gate = _locked(folder / _GATE, fcntl.LOCK_EX)
            try:
                store = _locked(folder / _STORE, fcntl.LOCK_SH)
            finally:
                _unlock(gate)
            try:
                name = hashlib.sha256(label.encode()).hexdigest()[:32] + ".lock"
                fd = _locked(folder / name, fcntl.LOCK_EX)
            except BaseException:
                _unlock(store)
                raise
            _HELD[label] = (fd, 1)
            _STORES[label] = store
        try:
            yield
        finally:
            fd, depth = _HELD[label]
            if depth > 1:
                _HELD[label] = (fd, depth - 1)
            else:
                del _HELD[label]
                _unlock(fd)
                _unlock(_STORES.pop(label))


_STORES: dict[str, int] = {}


def _locked(path: Path, how: int) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, how)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _unlock(fd: int) -> None:
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


@contextlib.contextmanager
def whole_store(folder: Path) -> Iterator[None]:
    """No token of the store in use by any process for the block (a consistent copy of
    its files): new uses wait at the gate, the block waits for the uses under way to end.

    Without the gate a copy could wait for ever: ``flock`` lets new shared holders in while
    an exclusive one waits.
    """
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    gate = _locked(folder / _GATE, fcntl.LOCK_EX)
    try:
        store = _locked(folder / _STORE, fcntl.LOCK_EX)
        try:
            yield
        finally:
            _unlock(store)
    finally:
        _unlock(gate)
