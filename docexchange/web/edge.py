"""The first check on every request: text no database can store never reaches a view.

A NUL in a path, a query, a header or a form field is stored by SQLite and refused by
PostgreSQL (``DataError``), so the same request would succeed on one database and fail
with a 500 on the other; a lone surrogate cannot be encoded at all. Both are refused here,
before authentication, with 422 ``invalid_character`` / ``invalid_unicode``. JSON bodies are
checked where they are parsed (:func:`docexchange.domain.json_input.parse_json`).
"""

from __future__ import annotations

from flask import Flask, request

from docexchange.domain.json_input import check_text

__all__ = ["FORGIVING_UPLOADS", "install_edge"]

_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
#: Pages whose uploads are read up to twice the limit, so that an oversized file comes back
#: to its form (values kept, the message by the field) instead of a bare 413 page.
FORGIVING_UPLOADS = frozenset({"documents_ui.new"})


def install_edge(app: Flask) -> None:
    """Register the check on ``app`` (before every other request hook)."""

    @app.before_request
    def _refuse_unstorable_text() -> None:
        limit = app.config.get("MAX_CONTENT_LENGTH")
        if request.endpoint in FORGIVING_UPLOADS and limit:
            request.max_content_length = 2 * limit
        check_text(request.path)
        for key, value in request.args.items(multi=True):
            check_text(key)
            check_text(value)
        for _name, value in request.headers.items():
            check_text(value)
        if request.mimetype in _FORMS:
            for key, value in request.form.items(multi=True):
                check_text(key)
                check_text(value)
            for upload in request.files.values():
                check_text(upload.filename or "")
