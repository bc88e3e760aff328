"""Every request gets an id (``X-Request-Id``, on its log lines and in its error body) and
is counted and timed for ``/metrics``."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, g, request

from docexchange.logs import REQUEST_ID
from docexchange.metrics import HTTP_REQUESTS, HTTP_SECONDS
from docexchange.storage.base import READ_ONLY

__all__ = ["install_observe", "reads_only"]

_V = TypeVar("_V", bound=Callable[..., Any])


def reads_only(view: _V) -> _V:
    """Mark a GET view that never writes: its transactions take no write lock (SQLite)."""
    view._docexchange_reads_only = True  # type: ignore[attr-defined]
    return view


#: An id a proxy in front may pass on; anything else gets a fresh one.
_GIVEN_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def install_observe(app: Flask) -> None:
    """Register the hooks on ``app`` (before every other request hook)."""

    @app.before_request
    def _start() -> None:
        given = request.headers.get("X-Request-Id", "")
        g.request_id = given if _GIVEN_ID.match(given) else secrets.token_hex(8)
        g.request_token = REQUEST_ID.set(g.request_id)
        g.request_started = time.perf_counter()
        view = app.view_functions.get(request.endpoint or "")
        if request.method in ("GET", "HEAD") and getattr(view, "_docexchange_reads_only", False):
            g.read_only_token = READ_ONLY.set(True)

    @app.after_request
    def _finish(response: Response) -> Response:
        request_id = g.get("request_id")
        if request_id:
            response.headers["X-Request-Id"] = request_id
        started = g.get("request_started")
        endpoint = request.endpoint or "unknown"
        if started is not None:
            HTTP_SECONDS.labels(endpoint).observe(time.perf_counter() - started)
        HTTP_REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
        return response

    @app.teardown_request
    def _forget(_error: BaseException | None) -> None:
        token = g.pop("request_token", None)
        if token is not None:
            REQUEST_ID.reset(token)
        read_only = g.pop("read_only_token", None)
        if read_only is not None:
            READ_ONLY.reset(read_only)
