"""``GET /healthz``: is the process up and is its database ready?"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify

from docexchange.services import health
from docexchange.web.context import services

bp = Blueprint("health", __name__)
logger = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """200 when the database answers and is at the current schema revision, else 503."""
    status = health.database_status(services().engine)
    body = {"status": "ok" if status.ready else "unavailable", "database": status.as_dict()}
    return jsonify(body), 200 if status.ready else 503
