"""The ``/api/v1`` blueprint every route module registers on."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, jsonify

logger = logging.getLogger(__name__)


bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")


OPENAPI_PATH = Path(__file__).resolve().parents[4] / "schemas" / "openapi.yaml"


def _items(items: list[dict[str, Any]]) -> Response:
    return jsonify({"items": items})
