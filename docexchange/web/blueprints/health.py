"""``GET /healthz``: is the process up and is its database ready?"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify

from docexchange.domain.accounts import Role
from docexchange.metrics import exposition
from docexchange.services import health
from docexchange.services.authz import require_role
from docexchange.web.context import current_actor, db, services
from docexchange.web.observe import reads_only

bp = Blueprint("health", __name__)
logger = logging.getLogger(__name__)


@bp.get("/healthz")
@reads_only
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


@bp.get("/metrics")
def metrics() -> Response:
    """Admin (bearer token): the Prometheus text exposition — requests, signatures,
    verifications, queues, failed deliveries, locked tokens, free space."""
    require_role(current_actor(), Role.ADMIN)
    svc = services()
    body, content_type = exposition(
        lambda: health.operational_state(db(), svc.blobs, min_free_mib=svc.settings.min_free_mib)
    )
    return Response(body, content_type=content_type)
