"""The public verify page: upload a signed PDF, see who signed it and whether it holds."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from docexchange.services import verification
from docexchange.web.context import services

bp = Blueprint("verify_ui", __name__)


class VerifyForm(FlaskForm):  # type: ignore[misc]
    """One PDF to check."""

    file = FileField(_l("Signed PDF file"), validators=[FileRequired()])


@bp.route("/verify", methods=["GET", "POST"])
def verify() -> str:
    """Upload a PDF; the verdict per signature, in Vietnamese by default."""
    form = VerifyForm()
    report = None
    if form.validate_on_submit():
        report = verification.verify_document(form.file.data.read(), services=services())
    return render_template("verify.html", form=form, report=report)
