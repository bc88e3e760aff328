"""Per-request database session and the process-wide service container."""

from __future__ import annotations

from flask import Response, current_app, g, request
from sqlalchemy.orm import Session

from docexchange.services.authz import Actor
from docexchange.services.container import Services
from docexchange.services.reports import Export, parse_targets

__all__ = [
    "EXTENSION_KEY",
    "WORKER_KEY",
    "close_session",
    "current_actor",
    "db",
    "download",
    "notify_worker",
    "ratio_targets",
    "services",
]

EXTENSION_KEY = "docexchange"
WORKER_KEY = "docexchange.worker"


def notify_worker() -> None:
    """Wake this process's delivery worker, if it runs one (``docexchange serve``)."""
    worker = current_app.extensions.get(WORKER_KEY)
    if worker is not None:
        worker.notify()


def services() -> Services:
    """The collaborators built by ``create_app``."""
    found: Services = current_app.extensions[EXTENSION_KEY]
    return found


def db() -> Session:
    """The request's session, opened on first use and closed at teardown."""
    if "db_session" not in g:
        g.db_session = services().sessions()
    session: Session = g.db_session
    return session


def close_session(_exc: BaseException | None = None) -> None:
    """Teardown: roll back anything a failed request left open, then close."""
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.close()


def current_actor() -> Actor:
    """The authenticated actor; the default-deny hook guarantees one on protected routes."""
    actor: Actor = g.actor
    return actor


def ratio_targets() -> dict[str, float]:
    """The ratio targets per unit level this instance is configured with."""
    return parse_targets(services().settings.ratio_targets)


def client_address() -> str:
    """The client's address: the socket's peer, or what the trusted proxies in front of
    the server say (``DOCEXCHANGE_TRUSTED_PROXIES``, applied by ProxyFix)."""
    return (request.remote_addr or "unknown")[:64]


def download(export: Export) -> Response:
    """A generated file, as an attachment under its own name."""
    response = Response(export.data, mimetype=export.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    return response
