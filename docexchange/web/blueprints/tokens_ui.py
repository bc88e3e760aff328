"""Admin pages for signing tokens: the token doctor, new tokens for people and units, and
clearing a wrong-PIN lock.

A PIN typed here goes to :mod:`docexchange.services.tokens` and nowhere else: the forms never
render it back, not even after an error.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from docexchange.errors import DocExchangeError
from docexchange.services import accounts, directory, token_doctor, tokens
from docexchange.web.context import current_actor, db, services
from docexchange.web.errors import flash_refusal
from docexchange.web.forms import PersonTokenForm, UnitTokenForm

bp = Blueprint("tokens_ui", __name__)


def _page(person: PersonTokenForm | None = None, unit: UnitTokenForm | None = None) -> str:
    actor = current_actor()
    reports = token_doctor.doctor(db(), keys=services().keys, actor=actor)
    offer = token_doctor.candidates(db(), reports, actor=actor)
    person = person or PersonTokenForm(prefix="person", formdata=None)
    unit = unit or UnitTokenForm(prefix="unit", formdata=None)
    person.owner.choices = [SelectChoice(key, name) for key, name in offer.people]
    unit.owner.choices = [SelectChoice(key, name) for key, name in offer.units]
    settings = services().settings
    return render_template(
        "tokens.html",
        reports=reports,
        form=FlaskForm(),
        person=person,
        unit=unit,
        so_pin_source="demo" if settings.demo_mode else services().keys.so_pin_source,
    )


@bp.get("/admin/tokens")
def token_doctor_page() -> str:
    """Admin: the token doctor — whose token, key, certificate, expiry, PIN locks."""
    return _page()


@bp.post("/admin/tokens/person")
def provision_person() -> Response | str:
    """Admin: a personal token with a key made on it and a certificate from the CA."""
    form = PersonTokenForm(prefix="person")
    if not form.validate_on_submit():
        return _page(person=form)
    try:
        tokens.provision_user_token(
            db(),
            form.owner.data,
            form.pin.data,
            keys=services().keys,
            actor=current_actor(),
            algorithm=form.algorithm.data,
            so_pin=form.so_pin.data or None,
            demo=services().settings.demo_mode,
        )
    except DocExchangeError as exc:
        flash_refusal(exc)
        return _page(person=form)
    flash(accounts.get_user(db(), form.owner.data).full_name, "token_made")
    return redirect(url_for("tokens_ui.token_doctor_page"))


@bp.post("/admin/tokens/unit")
def provision_unit() -> Response | str:
    """Admin: a unit's organisation token (its digital seal)."""
    form = UnitTokenForm(prefix="unit")
    if not form.validate_on_submit():
        return _page(unit=form)
    try:
        tokens.provision_unit_token(
            db(),
            form.owner.data,
            form.pin.data,
            keys=services().keys,
            actor=current_actor(),
            so_pin=form.so_pin.data or None,
            demo=services().settings.demo_mode,
        )
    except DocExchangeError as exc:
        flash_refusal(exc)
        return _page(unit=form)
    flash(directory.unit_name(db(), form.owner.data), "token_made")
    return redirect(url_for("tokens_ui.token_doctor_page"))


@bp.post("/admin/tokens/<label>/unlock")
def unlock_token(label: str) -> Response:
    """Admin: clear a wrong-PIN lock."""
    form = FlaskForm()
    if form.validate_on_submit():
        try:
            tokens.unlock_token(db(), label, actor=current_actor())
        except DocExchangeError as exc:
            flash_refusal(exc)
        else:
            flash(label, "unlocked")
    return redirect(url_for("tokens_ui.token_doctor_page"))
