"""Admin pages for the pictures stamped into signatures: a person's handwritten signature and
a unit's seal (transparent PNG, checked by :mod:`docexchange.services.appearances`)."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as WerkzeugResponse

from docexchange.domain.accounts import Role
from docexchange.errors import DocExchangeError, InvalidInput, NotFound
from docexchange.services import accounts, appearances, directory
from docexchange.services.authz import require_role
from docexchange.web.context import current_actor, db, services
from docexchange.web.errors import flash_refusal

bp = Blueprint("appearances_ui", __name__)

#: Largest picture accepted from the page (a signature or a seal is a few hundred KB at most).
_MAX_PICTURE = 2 * 1024 * 1024


def _picture() -> bytes:
    upload = request.files.get("picture")
    data = upload.read(_MAX_PICTURE + 1) if upload is not None else b""
    if not data:
        raise InvalidInput("missing_field", field="file")
    return data


def _png(digest: str | None) -> Response:
    if not digest:
        raise NotFound("image_not_found")
    response = Response(services().blobs.get(digest), mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@bp.post("/users/<username>/signature-image")
def put_signature(username: str) -> WerkzeugResponse:
    """Admin: the person's handwritten signature (transparent PNG)."""
    unit = request.form.get("unit") or current_actor().unit_code
    if FlaskForm().validate_on_submit():
        try:
            appearances.set_signature_image(
                db(), username, _picture(), blobs=services().blobs, actor=current_actor()
            )
        except DocExchangeError as exc:
            flash_refusal(exc)
        else:
            flash(_("Signature image saved for %(who)s.", who=username), "saved")
    return redirect(url_for("ui.users", unit=unit))


@bp.get("/users/<username>/signature-image.png")
def signature_png(username: str) -> Response:
    """Admin: the signature image as stored."""
    require_role(current_actor(), Role.ADMIN)
    return _png(accounts.get_user(db(), username).signature_image_sha256)


@bp.post("/directory/<code>/seal-image")
def put_seal(code: str) -> WerkzeugResponse:
    """Admin: the unit's seal (transparent PNG)."""
    if FlaskForm().validate_on_submit():
        try:
            appearances.set_seal_image(
                db(), code, _picture(), blobs=services().blobs, actor=current_actor()
            )
        except DocExchangeError as exc:
            flash_refusal(exc)
        else:
            flash(_("Seal image saved."), "saved")
    return redirect(url_for("directory_ui.tree", code=code))


@bp.get("/directory/<code>/seal-image.png")
def seal_png(code: str) -> Response:
    """Admin: the seal image as stored."""
    require_role(current_actor(), Role.ADMIN)
    return _png(directory.get_unit(db(), code).seal_image_sha256)
