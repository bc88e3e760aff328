"""Backups that restore: ``docexchange backup --to DIR``, ``backup verify``, ``restore``.

A backup is one folder ``docexchange-<UTC time>`` holding:

- ``database/``: a consistent copy of the database (:mod:`.backup_db`), taken first;
- ``instance/blobs/``: every stored file, copied after the database and checked against its
  name on the way (a blob is written before the row that names it, so every file the copy
  of the database names is there);
- ``instance/hsm/tokens/``: the token store, copied while no process uses a token
  (:func:`pki.token_locks.whole_store`); keys in it are encrypted under their PINs;
- ``instance/pki/``, ``instance/trust/``, ``config/``: the CA, the trusted roots, the token
  and peer configuration files;
- ``manifest.json``: each file's SHA-256 and size, the settings (no secret), the database's
  kind, schema and migration; ``manifest.sha256`` its own digest.

Never in it: a PIN or SO PIN, the session key (``secret_key``), the SoftHSM2 configuration
(it names absolute paths and is written afresh where the instance is). The folder is
written as ``.partial-…`` and renamed when complete: a backup that has its name is whole.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from docexchange import __version__
from docexchange.domain.operations import BlobStoreKind, DatabaseKind
from docexchange.errors import DocExchangeError
from docexchange.services import backup_db
from docexchange.services.keys import KeyMaterial
from docexchange.settings import DEMO_MARKER_FILE, Settings
from docexchange.storage.blobs import Blobs
from pki import token_locks

__all__ = ["BackupResult", "make_backup", "prune", "restore_backup", "verify_backup"]

logger = logging.getLogger(__name__)

FORMAT = "docexchange-backup/1"
PREFIX = "docexchange-"
_CHUNK = 1024 * 1024
#: Settings never written into a manifest.
_SECRET_SETTINGS = {"secret_key", "database_url"}


@dataclass(frozen=True)
class BackupResult:
    """A finished backup: where, how much, and which older ones ``--keep`` removed."""

    path: Path
    files: int
    size: int
    pruned: list[Path] = field(default_factory=list)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _files_below(root: Path) -> Iterator[Path]:
    if root.is_dir():
        yield from sorted(p for p in root.rglob("*") if p.is_file())


def _copy_tree(source: Path, target: Path) -> None:
    if source.is_dir():
        # A ``.tmp-`` file is a write under way; its blob is named by no committed row yet.
        shutil.copytree(source, target, ignore=shutil.ignore_patterns(".tmp-*"), dirs_exist_ok=True)


def _copy_blobs(blobs: Blobs, target: Path) -> None:
    for digest in blobs.digests():
        data = blobs.get(digest)  # checked against its name: a damaged file stops the backup
        destination = target / digest[:2] / digest[2:4] / digest
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(data)


def _settings_record(settings: Settings) -> dict[str, Any]:
    record = {
        f.name: getattr(settings, f.name)
        for f in fields(settings)
        if f.name not in _SECRET_SETTINGS
    }
    record["instance_dir"] = str(settings.instance_dir)
    record["database"] = make_url(settings.database_url).render_as_string(hide_password=True)
    return record


def _name(to: Path, now: datetime) -> str:
    base = PREFIX + now.strftime("%Y%m%dT%H%M%SZ")
    name, n = base, 1
    while (to / name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


def make_backup(
    settings: Settings,
    engine: Engine,
    keys: KeyMaterial,
    blobs: Blobs,
    to: Path,
    *,
    now: datetime,
    keep: int | None = None,
) -> BackupResult:
    """Back up the running instance into a new folder below ``to``.

    :param now: the moment the backup is named after (UTC).
    :param keep: afterwards, keep only this many backups in ``to`` (the newest).
    """
    to.mkdir(parents=True, exist_ok=True)
    name = _name(to, now)
    work = to / f".partial-{name}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    try:
        part = backup_db.dump(
            settings.database_url, settings.database_schema, engine, work / "database"
        )
        if blobs.kind is BlobStoreKind.FILESYSTEM:  # the database store's rows are in the dump
            _copy_blobs(blobs, work / "instance" / "blobs")
        hsm = keys.hsm_dir
        with token_locks.whole_store(hsm / "locks"):
            _copy_tree(hsm / "tokens", work / "instance" / "hsm" / "tokens")
        _copy_tree(keys.pki_dir, work / "instance" / "pki")
        if keys.trust_dir is not None:
            _copy_tree(keys.trust_dir, work / "instance" / "trust")
        for option, target in (("tokens_config", "tokens.yaml"), ("peers_config", "peers.yaml")):
            configured = getattr(settings, option)
            if configured and Path(configured).is_file():
                (work / "config").mkdir(exist_ok=True)
                shutil.copy2(configured, work / "config" / target)
        files: dict[str, dict[str, Any]] = {
            str(path.relative_to(work)): {"sha256": _sha256(path), "bytes": path.stat().st_size}
            for path in _files_below(work)
        }
        manifest = {
            "format": FORMAT,
            "created_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "docexchange": __version__,
            "demo_mode": settings.demo_mode,
            "database": part.as_dict(),
            "settings": _settings_record(settings),
            "files": files,
        }
        text = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True, default=str)
        (work / "manifest.json").write_text(text, encoding="utf-8")
        digest = hashlib.sha256(text.encode()).hexdigest()
        (work / "manifest.sha256").write_text(f"{digest}  manifest.json\n", encoding="ascii")
        final = to / name
        work.rename(final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    size = sum(int(entry["bytes"]) for entry in files.values())
    logger.info("backup %s: %d files, %d bytes", final, len(files), size)
    pruned = prune(to, keep) if keep else []
    return BackupResult(final, len(files), size, pruned)


def _backups(to: Path) -> list[Path]:
    return sorted(
        p
        for p in to.iterdir()
        if p.is_dir() and p.name.startswith(PREFIX) and (p / "manifest.json").is_file()
    )


def prune(to: Path, keep: int) -> list[Path]:
    """Remove all but the ``keep`` newest backups in ``to``; the removed ones."""
    old = _backups(to)[:-keep] if keep > 0 else []
    for path in old:
        shutil.rmtree(path)
        logger.info("backup %s pruned", path)
    return old


def _manifest(folder: Path) -> dict[str, Any]:
    try:
        text = (folder / "manifest.json").read_text(encoding="utf-8")
        manifest: dict[str, Any] = json.loads(text)
    except (OSError, ValueError):
        raise DocExchangeError("backup_manifest_missing", path=str(folder)) from None
    if manifest.get("format") != FORMAT:
        raise DocExchangeError("backup_manifest_missing", path=str(folder))
    return manifest


def verify_backup(folder: Path) -> list[str]:
    """What is wrong with a backup (nothing: an empty list): a file missing, changed, or
    not in the manifest, or a manifest that is not the one written."""
    manifest = _manifest(folder)
    problems = []
    text = (folder / "manifest.json").read_text(encoding="utf-8")
    recorded = (
        (folder / "manifest.sha256").read_text(encoding="ascii").split()[:1]
        if (folder / "manifest.sha256").is_file()
        else []
    )
    if recorded != [hashlib.sha256(text.encode()).hexdigest()]:
        problems.append("manifest.json: changed since the backup was made")
    listed: dict[str, dict[str, Any]] = manifest["files"]
    for relative, entry in sorted(listed.items()):
        path = folder / relative
        if not path.is_file():
            problems.append(f"{relative}: missing")
        elif path.stat().st_size != entry["bytes"] or _sha256(path) != entry["sha256"]:
            problems.append(f"{relative}: changed")
    present = {str(p.relative_to(folder)) for p in _files_below(folder)}
    for extra in sorted(present - set(listed) - {"manifest.json", "manifest.sha256"}):
        problems.append(f"{extra}: not in the manifest")
    return problems


@dataclass(frozen=True)
class RestoreResult:
    """A restored instance: its migration, and the parts put back."""

    revision: str | None
    files: int
    demo_mode: bool


def restore_backup(folder: Path, settings: Settings, engine: Engine) -> RestoreResult:
    """Put a verified backup into an empty instance folder and an empty database.

    :raises DocExchangeError: ``backup_damaged`` (the backup does not verify),
        ``restore_target_not_empty`` and the database part's refusals.
    """
    problems = verify_backup(folder)
    if problems:
        raise DocExchangeError("backup_damaged", first=problems[0], count=len(problems))
    manifest = _manifest(folder)
    instance = settings.instance_dir
    if instance.exists() and any(instance.iterdir()):
        raise DocExchangeError("restore_target_not_empty", target=str(instance))
    info = manifest["database"]
    part = backup_db.DatabasePart(
        DatabaseKind(info["kind"]), info["schema"], info["revision"], info["file"]
    )
    backup_db.restore(
        part, folder / part.file, settings.database_url, settings.database_schema, engine
    )
    instance.mkdir(parents=True, exist_ok=True)
    _copy_tree(folder / "instance", instance)
    for path in (instance / "hsm", instance / "hsm" / "tokens"):
        if path.is_dir():
            path.chmod(0o700)
    if manifest.get("demo_mode"):
        (instance / DEMO_MARKER_FILE).write_text(
            "This instance holds demo data.\n", encoding="utf-8"
        )
    return RestoreResult(part.revision, len(manifest["files"]), bool(manifest.get("demo_mode")))
