"""The database part of a backup: SQLite's online backup API, or ``pg_dump`` (one
transaction, so one snapshot) of the instance's schema; and their restore into an empty
database of the same kind.

PostgreSQL's tools read the password from ``PGPASSWORD``, never from their command line,
where every user of the machine could read it.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import make_url

from docexchange.domain.operations import DatabaseKind
from docexchange.errors import DocExchangeError

__all__ = ["DatabasePart", "dump", "restore", "revision_of"]

SQLITE_FILE = "docexchange.sqlite3"
PG_FILE = "docexchange.pgdump"


@dataclass(frozen=True)
class DatabasePart:
    """What the manifest says of the database: its kind, schema and migration."""

    kind: DatabaseKind
    schema: str
    revision: str | None
    file: str

    def as_dict(self) -> dict[str, str | None]:
        return {
            "kind": self.kind.value,
            "schema": self.schema,
            "revision": self.revision,
            "file": self.file,
        }


def schema_of(url: str, schema: str) -> str:
    """The schema a backup holds (PostgreSQL's default one when none is named)."""
    return "" if DatabaseKind.of(url) is DatabaseKind.SQLITE else (schema or "public")


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database:
        raise DocExchangeError("backup_unsupported_database")
    return Path(database)


def _pg_command(tool: str, url: str) -> tuple[list[str], dict[str, str]]:
    found = shutil.which(tool)
    if found is None:
        raise DocExchangeError("backup_tool_missing", tool=tool)
    parsed = make_url(url)
    command = [found]
    for flag, value in (
        ("--host", parsed.host),
        ("--port", str(parsed.port) if parsed.port else None),
        ("--username", parsed.username),
    ):
        if value:
            command += [flag, value]
    env = {**os.environ}
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    return command, env


def _run(command: list[str], env: dict[str, str], tool: str) -> str:
    done = subprocess.run(  # noqa: S603 - our own command line, no shell
        command, env=env, capture_output=True, text=True, check=False, timeout=3600
    )
    if done.returncode != 0:
        # The tool's own words, for the operator (they never hold the password).
        raise DocExchangeError("backup_tool_failed", tool=tool, detail=done.stderr.strip()[-300:])
    return done.stdout


def revision_of(engine: Engine) -> str | None:
    """The migration the database is at (``alembic_version``), or None when it has none."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def dump(url: str, schema: str, engine: Engine, folder: Path) -> DatabasePart:
    """Write a consistent copy of the live database into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    revision = revision_of(engine)
    if DatabaseKind.of(url) is DatabaseKind.SQLITE:
        target = folder / SQLITE_FILE
        source = sqlite3.connect(f"file:{_sqlite_path(url)}?mode=ro", uri=True)
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)  # page by page, consistent even while others write
        finally:
            copy.close()
            source.close()
        return DatabasePart(DatabaseKind.SQLITE, "", revision, f"database/{SQLITE_FILE}")
    name = schema_of(url, schema)
    command, env = _pg_command("pg_dump", url)
    database = str(make_url(url).database or "")
    command += [
        "--format=custom",
        "--no-owner",
        "--no-privileges",
        f"--schema={name}",
        f"--file={folder / PG_FILE}",
        database,
    ]
    _run(command, env, "pg_dump")
    return DatabasePart(DatabaseKind.POSTGRESQL, name, revision, f"database/{PG_FILE}")


def restore(part: DatabasePart, file: Path, url: str, schema: str, engine: Engine) -> None:
    """Load ``file`` into the empty database ``url`` names.

    :raises DocExchangeError: ``restore_kind_differs``, ``restore_schema_differs``,
        ``restore_target_not_empty``, or a tool's failure.
    """
    target_kind = DatabaseKind.of(url)
    if target_kind is not part.kind:
        raise DocExchangeError("restore_kind_differs", backup=part.kind, target=target_kind)
    if part.kind is DatabaseKind.SQLITE:
        target = _sqlite_path(url)
        if target.exists() and target.stat().st_size > 0:
            raise DocExchangeError("restore_target_not_empty", target=str(target))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file, target)
        return
    name = schema_of(url, schema)
    if name != part.schema:
        raise DocExchangeError("restore_schema_differs", backup=part.schema, target=name)
    with engine.connect() as conn:
        exists = name in inspect(conn).get_schema_names()
        if exists and inspect(conn).get_table_names(schema=name):
            raise DocExchangeError("restore_target_not_empty", target=name)
    with engine.begin() as conn:
        # The search indexes use pg_trgm, an extension of the whole database, which a dump
        # of one schema does not carry (migration 0017 puts it in ``public`` too).
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public"))
    command, env = _pg_command("pg_restore", url)
    database = str(make_url(url).database or "")
    listing = _run([*command, "--list", str(file)], env, "pg_restore")
    if exists:  # the schema is there (empty): everything but its creation
        listing = "\n".join(
            line for line in listing.splitlines() if f" SCHEMA - {name} " not in line
        )
    with tempfile.TemporaryDirectory(prefix="docexchange-restore-") as work:
        chosen = Path(work) / "restore.list"
        chosen.write_text(listing, encoding="utf-8")
        _run(
            [
                *command,
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                f"--use-list={chosen}",
                f"--dbname={database}",
                str(file),
            ],
            env,
            "pg_restore",
        )
