"""The directory of units as pages: browse the tree; admins add, rename and close units.

Every change goes through :mod:`docexchange.services.directory`, which checks it (levels,
parents, successors, cycles) and audits it exactly as the API's ``/units`` does.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from docexchange.domain.accounts import Role
from docexchange.domain.edge import parse_input
from docexchange.domain.inputs import UnitChanges
from docexchange.domain.timeutil import today_vn
from docexchange.domain.units import ALLOWED_PARENTS, UnitLevel, is_active
from docexchange.errors import DocExchangeError, Forbidden
from docexchange.services import directory
from docexchange.services.authz import ancestors
from docexchange.web.context import current_actor, db
from docexchange.web.errors import flash_refusal
from docexchange.web.forms import LEVEL_LABELS, UnitCloseForm, UnitEditForm, UnitForm
from docexchange.web.observe import reads_only

bp = Blueprint("directory_ui", __name__)

#: The level offered first for a unit added below one of these (communes since the 2025 reform).
_FIRST_CHOICE = {
    None: UnitLevel.PROVINCE,
    UnitLevel.CENTRAL: UnitLevel.PROVINCE,
    UnitLevel.PROVINCE: UnitLevel.COMMUNE,
    UnitLevel.DISTRICT: UnitLevel.COMMUNE,
}


def _levels_below(parent: UnitLevel | None) -> list[SelectChoice]:
    allowed = [level for level in UnitLevel if parent in ALLOWED_PARENTS[level]]
    first = _FIRST_CHOICE.get(parent, UnitLevel.DEPARTMENT)
    allowed.sort(key=lambda level: level != first)
    return [SelectChoice(level.value, LEVEL_LABELS[level.value]) for level in allowed]


def _page(
    code: str | None,
    *,
    add: UnitForm | None = None,
    edit: UnitEditForm | None = None,
    close: UnitCloseForm | None = None,
) -> str:
    session = db()
    current = directory.get_unit(session, code) if code else None
    children = directory.list_units(session, parent=code, roots_only=not code)
    path = []
    if current is not None:
        path = [directory.get_unit(session, c) for c in reversed(ancestors(session, current.code))]
    forms: dict[str, Any] = {}
    actor = current_actor()
    if actor.has(Role.ADMIN):
        add = add or UnitForm(prefix="add", formdata=None)
        add.level.choices = _levels_below(UnitLevel(current.level) if current else None)
        forms["add"] = add
        if current is not None:
            forms["edit"] = edit or UnitEditForm(prefix="edit", obj=current, formdata=None)
            close = close or UnitCloseForm(prefix="close", formdata=None)
            today = today_vn()
            close.successor.choices = [SelectChoice("", "—")] + [
                SelectChoice(unit.code, unit.name)
                for unit in sorted(
                    directory.list_units(session, level=UnitLevel(current.level)),
                    key=lambda u: u.name,
                )
                if unit.code != current.code and is_active(unit.valid_from, unit.valid_to, today)
            ]
            forms["close"] = close
    return render_template(
        "directory.html",
        current=current,
        children=children,
        path=path,
        counts=directory.child_counts(session, [u.code for u in children]),
        today=today_vn(),
        **forms,
    )


def _admin() -> None:
    if not current_actor().has(Role.ADMIN):
        raise Forbidden("role_required", roles=Role.ADMIN.value)


@bp.get("/directory")
@reads_only
def tree() -> str:
    """The unit tree, browsed one unit at a time with its path and its children."""
    return _page(request.args.get("code"))


@bp.post("/directory/new")
def add_unit() -> Response | str:
    """Admin: a unit under ``parent`` (none: a top of the tree)."""
    _admin()
    parent = request.form.get("parent") or None
    form = UnitForm(prefix="add")
    if not form.validate_on_submit():
        return _page(parent, add=form)
    try:
        new = directory.UnitInput.from_mapping(
            {
                "code": form.code.data.strip(),
                "name": form.name.data.strip(),
                "abbreviation": form.abbreviation.data.strip(),
                "level": form.level.data,
                "parent_code": parent,
                "valid_from": form.valid_from.data or None,
            }
        )
        unit = directory.create_unit(db(), new, actor=current_actor())
    except DocExchangeError as exc:
        flash_refusal(exc)
        return _page(parent, add=form)
    flash(unit.name, "unit_created")
    return redirect(url_for("directory_ui.tree", code=unit.code))


def _change(code: str, values: dict[str, object], done: str) -> bool:
    try:
        changes = parse_input(UnitChanges, values)
        unit = directory.update_unit(db(), code, changes, actor=current_actor())
    except DocExchangeError as exc:
        flash_refusal(exc)
        return False
    flash(unit.name, done)
    return True


@bp.post("/directory/<code>/edit")
def edit_unit(code: str) -> Response | str:
    """Admin: a unit's name and abbreviation."""
    _admin()
    form = UnitEditForm(prefix="edit")
    if form.validate_on_submit() and _change(
        code,
        {"name": form.name.data.strip(), "abbreviation": form.abbreviation.data.strip()},
        "unit_saved",
    ):
        return redirect(url_for("directory_ui.tree", code=code))
    return _page(code, edit=form)


@bp.post("/directory/<code>/close")
def close_unit(code: str) -> Response | str:
    """Admin: the last day a unit is in use, and the unit that takes over (if any)."""
    _admin()
    form = UnitCloseForm(prefix="close")
    if form.validate_on_submit() and _change(
        code,
        {"valid_to": form.valid_to.data, "successor_code": form.successor.data or None},
        "unit_closed",
    ):
        return redirect(url_for("directory_ui.tree", code=code))
    return _page(code, close=form)
