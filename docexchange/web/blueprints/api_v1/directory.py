"""The unit directory and recipient groups."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Response, jsonify, request

from docexchange.domain.inputs import GroupBody, RecipientsBody, UnitBody, UnitChanges, UnitsQuery
from docexchange.domain.timeutil import today_vn
from docexchange.errors import InvalidInput
from docexchange.services import (
    directory,
)
from docexchange.web.blueprints.api_v1.blueprint import _items, bp
from docexchange.web.context import (
    current_actor,
    db,
    services,
)
from docexchange.web.observe import reads_only
from docexchange.web.schemas import (
    group_to_dict,
    parse_body,
    parse_query,
    unit_to_dict,
)

logger = logging.getLogger(__name__)


@bp.get("/units")
@reads_only
def list_units() -> Response:
    """Units, filtered by ``parent`` and ``level``; ``active=true`` keeps today's units."""
    query = parse_query(UnitsQuery)
    units = directory.list_units(
        db(),
        parent=query.parent,
        level=query.level,
        active_on=today_vn() if query.active else None,
    )
    return _items([unit_to_dict(u) for u in units])


@bp.post("/units")
def create_unit() -> tuple[Response, int]:
    """Admin: add a unit."""
    unit = directory.create_unit(
        db(), directory.UnitInput.from_body(parse_body(UnitBody)), actor=current_actor()
    )
    return jsonify(unit_to_dict(unit, detail=True)), 201


@bp.get("/units/<code>")
@reads_only
def get_unit(code: str) -> Response:
    """One unit, with its identifier code decomposed."""
    return jsonify(unit_to_dict(directory.get_unit(db(), code), detail=True))


@bp.patch("/units/<code>")
def update_unit(code: str) -> Response:
    """Admin: rename, move, close or link a successor."""
    unit = directory.update_unit(db(), code, parse_body(UnitChanges), actor=current_actor())
    return jsonify(unit_to_dict(unit, detail=True))


_FORMATS = {"csv", "json"}


@bp.get("/units/export")
def export_units() -> Response:
    """The whole tree as ``?format=json`` (default) or ``csv``, parents first."""
    fmt = request.args.get("format", "json").lower()
    if fmt not in _FORMATS:
        raise InvalidInput("import_unsupported_format", format=fmt[:20])
    data = directory.render_export(directory.export_tree(db()), fmt)
    mimetype = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="units.{fmt}"'
    return response


def _import_payload() -> tuple[bytes, str]:
    upload = request.files.get("file")
    if upload is not None:
        data = upload.read()
        fmt = request.form.get("format") or Path(upload.filename or "").suffix.lstrip(".")
        return data, fmt.lower()
    mimetype = request.mimetype
    fmt = request.args.get("format") or {
        "application/json": "json",
        "text/csv": "csv",
    }.get(mimetype, mimetype or "none")
    return request.get_data(cache=False), fmt.lower()


@bp.post("/units/import")
def import_units() -> Response:
    """Admin: create or update a whole tree from CSV or JSON, all rows or none.

    Send a multipart ``file`` (format from ``format`` or the file name), or the file itself as
    the body with ``Content-Type: text/csv`` or ``application/json``.
    """
    data, fmt = _import_payload()
    result = directory.import_file(
        db(), data, fmt, max_rows=services().settings.max_import_rows, actor=current_actor()
    )
    return jsonify(
        {"created": result.created, "updated": result.updated, "unchanged": result.unchanged}
    )


@bp.get("/groups")
def list_groups() -> Response:
    """Named recipient groups."""
    return _items([group_to_dict(grp) for grp in directory.list_groups(db())])


@bp.post("/groups")
def create_group() -> tuple[Response, int]:
    """Admin: create a group ``{name, description, members:[codes]}``."""
    body = parse_body(GroupBody)
    if body.name is None:
        raise InvalidInput("missing_field", field="name")
    group = directory.create_group(
        db(), body.name, body.members, description=body.description or "", actor=current_actor()
    )
    return jsonify(group_to_dict(group)), 201


@bp.get("/groups/<name>")
def get_group(name: str) -> Response:
    """One group."""
    return jsonify(group_to_dict(directory.get_group(db(), name)))


@bp.put("/groups/<name>")
def update_group(name: str) -> Response:
    """Admin: replace a group's members."""
    body = parse_body(GroupBody)
    group = directory.update_group(
        db(), name, body.members, description=body.description, actor=current_actor()
    )
    return jsonify(group_to_dict(group))


@bp.delete("/groups/<name>")
def delete_group(name: str) -> tuple[str, int]:
    """Admin: delete a group."""
    directory.delete_group(db(), name, actor=current_actor())
    return "", 204


@bp.post("/recipients/resolve")
def resolve_recipients() -> Response:
    """Expand ``{recipients:[codes and selectors]}`` into the units they name today."""
    units = directory.resolve_recipients(db(), parse_body(RecipientsBody).recipients)
    return _items([unit_to_dict(u) for u in units])
