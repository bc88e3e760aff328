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
    """200 when the database answers and is at the current schema revision and the blob
    store can be written with room to spare, else 503."""
    svc = services()
    status = health.database_status(svc.engine)
    store = svc.blobs.status(min_free_mib=svc.settings.min_free_mib)
    ready = status.ready and store.ready
    body = {
        "status": "ok" if ready else "unavailable",
        "database": status.as_dict(),
        "blobs": store.as_dict(),
    }
    return jsonify(body), 200 if ready else 503
