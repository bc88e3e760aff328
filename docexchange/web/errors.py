"""Every error becomes a response here: JSON for the API, a page for the UI."""

from __future__ import annotations

import logging
import secrets

from flask import Flask, Response, flash, jsonify, render_template, request
from flask_babel import get_locale
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from docexchange.errors import DocExchangeError
from docexchange.i18n import message_for
from docexchange.logs import REQUEST_ID
from docexchange.web.context import db

__all__ = [
    "error_object",
    "error_payload",
    "flash_refusal",
    "localized",
    "register_error_handlers",
    "wants_json",
]

logger = logging.getLogger(__name__)

_HTTP_CODES = {
    404: "route_not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
}


def wants_json() -> bool:
    """API and machine endpoints answer JSON; everything else is a page."""
    return request.path.startswith("/api/") or request.path in ("/healthz", "/metrics")


def error_payload(error: DocExchangeError) -> dict[str, object]:
    """The API contract's error object; ``field`` names the request field at fault."""
    return {"error": error_object(error)}


def error_object(error: DocExchangeError) -> dict[str, object]:
    """``{code, message, message_vi[, field]}`` of one error."""
    body: dict[str, object] = {
        "code": error.code,
        "message": message_for(error, "en"),
        "message_vi": message_for(error, "vi"),
    }
    field = error.params.get("field")
    if isinstance(field, str):
        body["field"] = field
    request_id = REQUEST_ID.get()
    if request_id != "-":
        body["request_id"] = request_id  # what the operator finds in the log lines
    return body


def localized(error: DocExchangeError) -> str:
    """The error's message in the reader's language (pages; the API gives both)."""
    return message_for(error, str(get_locale() or "vi"))


def _reference() -> str:
    """The reference a 500 names: the request's id, which its log lines carry too."""
    request_id = REQUEST_ID.get()
    return request_id if request_id != "-" else secrets.token_hex(6)


def flash_refusal(error: DocExchangeError) -> None:
    """A page's action was refused: undo what the request began and say why atop the page."""
    db().rollback()
    flash(localized(error), "error")


def _respond(error: DocExchangeError, status: int) -> tuple[Response | str, int]:
    if wants_json():
        response = jsonify(error_payload(error))
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="docexchange"'
        _retry_after(response, error)
        return response, status
    page = Response(render_template("error.html", message=localized(error), status=status))
    _retry_after(page, error)
    return page, status


def _retry_after(response: Response, error: DocExchangeError) -> None:
    """A refusal that ends by itself says when (seconds): ``Retry-After``."""
    wait = error.params.get("retry_after")
    if isinstance(wait, int):
        response.headers["Retry-After"] = str(wait)


def register_error_handlers(app: Flask) -> None:
    """Install the handlers on ``app``."""

    @app.errorhandler(DocExchangeError)
    def _coded(error: DocExchangeError) -> tuple[Response | str, int]:
        if error.http_status >= 500:
            logger.error("server error %s", error.code)
        return _respond(error, error.http_status)

    @app.errorhandler(CSRFError)
    def _csrf(_error: CSRFError) -> tuple[Response | str, int]:
        return _respond(DocExchangeError("csrf_failed"), 400)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> tuple[Response | str, int]:
        status = error.code or 500
        code = _HTTP_CODES.get(status, "route_not_found" if status < 500 else "internal_error")
        params: dict[str, object] = {}
        if status == 413:
            params["limit"] = app.config.get("MAX_CONTENT_LENGTH")
        if status >= 500:
            params["reference"] = _reference()
        return _respond(DocExchangeError(code, **params), status)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[Response | str, int]:
        reference = _reference()
        logger.exception("unhandled error, reference %s", reference, exc_info=error)
        return _respond(DocExchangeError("internal_error", reference=reference), 500)
