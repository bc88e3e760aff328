"""The ``docexchange`` command: init, demo, serve, audit verify.

Commands parse their options, call a service and print. Secrets come from the environment
or a hidden prompt, never from the command line.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy import select

from docexchange import __version__
from docexchange.domain.accounts import Role
from docexchange.errors import DocExchangeError
from docexchange.i18n import message_for
from docexchange.logs import configure_logging
from docexchange.services import accounts, audit, demo, directory
from docexchange.services.container import Services, build_services
from docexchange.services.schema import migrate
from docexchange.settings import DEMO_MARKER_FILE, ensure_secret_key, load_settings
from docexchange.storage.base import utcnow
from docexchange.storage.models import User

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


def _coded_errors(func: F) -> F:
    """Print a coded error in both languages and exit 1 (one place for every command)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except DocExchangeError as exc:
            click.echo(f"error [{exc.code}]: {message_for(exc, 'vi')}", err=True)
            click.echo(f"                {message_for(exc, 'en')}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


@contextmanager
def _services() -> Iterator[Services]:
    settings = load_settings()
    configure_logging(settings.log_level)
    svc = build_services(settings)
    try:
        yield svc
    finally:
        svc.engine.dispose()


@click.group()
@click.version_option(__version__, prog_name="docexchange")
def main() -> None:
    """docexchange: paperless exchange of signed official documents.

    The instance folder is DOCEXCHANGE_INSTANCE (default ./instance).
    """


@main.command()
@click.option("--unit-code", help="Identifier code of the first unit (empty directory only).")
@click.option("--unit-name", help="Name of the first unit.")
@click.option("--unit-abbreviation", default="UBND", show_default=True)
@click.option(
    "--unit-level",
    default="province",
    show_default=True,
    type=click.Choice(["central", "province"]),
)
@_coded_errors
def init(
    unit_code: str | None, unit_name: str | None, unit_abbreviation: str, unit_level: str
) -> None:
    """Migrate the database and create the first admin account.

    The admin's username and password come from DOCEXCHANGE_ADMIN_USERNAME and
    DOCEXCHANGE_ADMIN_PASSWORD, or from prompts.
    """
    with _services() as svc:
        ensure_secret_key(svc.settings.instance_dir)
        migrate(svc.engine)
        click.echo(f"database ready: {svc.settings.database_url.split('@')[-1]}")
        _init_admin(svc, unit_code, unit_name, unit_abbreviation, unit_level)


def _init_admin(
    svc: Services,
    unit_code: str | None,
    unit_name: str | None,
    unit_abbreviation: str,
    unit_level: str,
) -> None:
    with svc.sessions() as session:
        if session.scalar(select(User.id).limit(1)) is not None:
            click.echo("accounts exist already; no admin created")
            return
        if not directory.list_units(session):
            code = unit_code or click.prompt("Identifier code of your unit (e.g. 000.00.00.H45)")
            name = unit_name or click.prompt("Name of your unit")
            directory.create_unit(
                session,
                directory.UnitInput.from_mapping(
                    {
                        "code": code,
                        "name": name,
                        "abbreviation": unit_abbreviation,
                        "level": unit_level,
                    }
                ),
                actor=None,
            )
        root = directory.list_units(session)[0].code
        username = os.environ.get("DOCEXCHANGE_ADMIN_USERNAME") or click.prompt(
            "Admin username", default="admin"
        )
        password = os.environ.get("DOCEXCHANGE_ADMIN_PASSWORD") or click.prompt(
            "Admin password", hide_input=True, confirmation_prompt=True
        )
        accounts.create_user(
            session,
            accounts.NewUser.from_mapping(
                {
                    "username": username,
                    "password": password,
                    "full_name": "Quản trị hệ thống",
                    "unit_code": unit_code or root,
                    "roles": [Role.ADMIN.value],
                }
            ),
            hasher=svc.hasher,
            actor=None,
        )
        click.echo(f"admin account {username} created")


@main.command(name="demo")
@_coded_errors
def demo_command() -> None:
    """Create or refresh the demo directory and accounts (idempotent)."""
    settings = load_settings()
    marker = settings.instance_dir / DEMO_MARKER_FILE
    with _services() as svc:
        ensure_secret_key(settings.instance_dir)
        migrate(svc.engine)
        with svc.sessions() as session:
            has_users = session.scalar(select(User.id).limit(1)) is not None
            if has_users and not settings.demo_mode:
                raise DocExchangeError("demo_refused")
            marker.write_text("This instance holds demo data.\n", encoding="utf-8")
            counts = demo.apply_demo(session, hasher=svc.hasher, keys=svc.keys)
    click.echo(
        "demo ready: {units_created} units created, {users_created} accounts created, "
        "{users_refreshed} refreshed, {tokens_created} tokens created".format(**counts)
    )
    click.echo(f"accounts: {', '.join(u.username for u in demo.DEMO_USERS)}")
    click.echo(f"password: {demo.DEMO_PASSWORD}, token PIN: {demo.DEMO_PIN}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@_coded_errors
def serve(host: str, port: int, threads: int) -> None:
    """Serve the API and the web UI."""
    from waitress import serve as waitress_serve  # noqa: PLC0415 - only this command needs it

    from docexchange.services.health import database_status  # noqa: PLC0415
    from docexchange.services.worker import DeliveryWorker  # noqa: PLC0415
    from docexchange.web.app import create_app  # noqa: PLC0415
    from docexchange.web.context import WORKER_KEY  # noqa: PLC0415

    with _services() as svc:
        if not database_status(svc.engine).ready:
            raise DocExchangeError("database_not_ready")
        app = create_app(services=svc)
        worker = DeliveryWorker(svc)
        app.extensions[WORKER_KEY] = worker
        worker.start()
        click.echo(f"docexchange {__version__} serving on http://{host}:{port}")
        try:
            waitress_serve(app, host=host, port=port, threads=threads, ident="docexchange")
        finally:
            worker.stop()


@main.command()
@click.option("--batch", default=250, show_default=True, type=int, help="deliveries per pass")
@_coded_errors
def worker(batch: int) -> None:
    """Run a delivery worker alone (several may share one PostgreSQL database)."""
    from docexchange.services.health import database_status  # noqa: PLC0415
    from docexchange.services.worker import DeliveryWorker  # noqa: PLC0415

    with _services() as svc:
        if not database_status(svc.engine).ready:
            raise DocExchangeError("database_not_ready")
        click.echo(f"docexchange {__version__} delivery worker")
        try:
            DeliveryWorker(svc, batch=batch).run()
        except KeyboardInterrupt:
            click.echo("stopped")


@main.group(name="tokens")
def tokens_group() -> None:
    """Signing tokens."""


@tokens_group.command(name="doctor")
@_coded_errors
def tokens_doctor() -> None:
    """List the tokens of the configured PKCS#11 module: labels, keys, certificates, expiry."""
    from pki.tokens import list_tokens  # noqa: PLC0415 - loads the PKCS#11 module

    with _services() as svc:
        svc.keys.activate_store()
        found = list_tokens(svc.settings.pkcs11_module)
    if not found:
        click.echo("no initialised tokens")
    for info in found:
        key = "key" if info.has_key else "NO KEY"
        cert = (
            f"{info.certificate_subject} (until {info.certificate_not_after})"
            if info.certificate_subject
            else "NO CERTIFICATE"
        )
        click.echo(f"{info.label:<32} {key:<6} {cert}")


@main.group(name="backup", invoke_without_command=True)
@click.option(
    "--to", "to", type=click.Path(file_okay=False, path_type=Path), help="Folder of backups."
)
@click.option("--keep", type=click.IntRange(min=1), help="Keep only the N newest backups there.")
@click.pass_context
@_coded_errors
def backup_group(ctx: click.Context, to: Path | None, keep: int | None) -> None:
    """Back up the running instance: database, files, tokens, CA, trust, configuration.

    Never a PIN, an SO PIN or the session key. Safe while the server works; one folder per
    backup with a manifest of SHA-256 digests (`docexchange backup verify DIR`).
    """
    if ctx.invoked_subcommand is not None:
        return
    if to is None:
        raise click.UsageError("--to DIR is required")
    from docexchange.services.backup import make_backup  # noqa: PLC0415

    with _services() as svc:
        done = make_backup(
            svc.settings, svc.engine, svc.keys, svc.blobs, to, now=utcnow(), keep=keep
        )
    click.echo(f"backup {done.path}: {done.files} files, {done.size} bytes")
    for old in done.pruned:
        click.echo(f"pruned {old}")


@backup_group.command(name="verify")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@_coded_errors
def backup_verify(folder: Path) -> None:
    """Check every file of a backup against its manifest (exit 1 on any difference)."""
    from docexchange.services.backup import verify_backup  # noqa: PLC0415

    problems = verify_backup(folder)
    for problem in problems:
        click.echo(problem)
    if problems:
        click.echo(f"backup damaged: {len(problems)} problems", err=True)
        sys.exit(1)
    click.echo("backup verified")


@main.command(name="restore")
@click.option(
    "--from",
    "source",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A backup folder (docexchange-<time>).",
)
@_coded_errors
def restore_command(source: Path) -> None:
    """Restore a backup into the empty instance folder and the empty database named by
    DOCEXCHANGE_INSTANCE and DOCEXCHANGE_DATABASE_URL, then migrate it to this version."""
    from docexchange.services.backup import restore_backup  # noqa: PLC0415

    settings = load_settings()
    configure_logging(settings.log_level)
    svc = build_services(settings)
    try:
        done = restore_backup(source, settings, svc.engine)
        if not settings.secret_key:
            ensure_secret_key(settings.instance_dir)
        migrate(svc.engine)
    finally:
        svc.engine.dispose()
    click.echo(f"restored {done.files} files; database at {done.revision}, migrated to head")


@main.group(name="audit")
def audit_group() -> None:
    """The append-only audit log."""


@audit_group.command(name="verify")
@_coded_errors
def audit_verify() -> None:
    """Check the hash chain; exit 1 naming the first changed, inserted or removed event."""
    with _services() as svc, svc.sessions() as session:
        count, broken = audit.verify_chain(session)
    if broken is not None:
        raise DocExchangeError(f"audit_event_{broken.problem}", seq=broken.seq)
    click.echo(f"audit log intact: {count} events")


if __name__ == "__main__":  # pragma: no cover
    main()
