"""The ``/api/v1`` blueprint every route module registers on."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Response, jsonify

from docexchange.domain.search import Paged
from docexchange.resources import schema_file

T = TypeVar("T")

logger = logging.getLogger(__name__)


bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")


OPENAPI_PATH = schema_file("openapi.yaml")


def _items(items: list[dict[str, Any]]) -> Response:
    return jsonify({"items": items})


def _page(found: Paged[T], shown: Callable[[T], dict[str, Any]], **more: Any) -> Response:
    """One page of a list: ``{items, total, page, per_page}`` (and ``more``)."""
    return jsonify(
        {
            **more,
            "items": [shown(item) for item in found.items],
            "total": found.total,
            "page": found.page.number,
            "per_page": found.page.size,
        }
    )
