"""One's own account: a new password, and a second factor (an authenticator app)."""

from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
from flask import Blueprint, flash, g, redirect, render_template, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response

from docexchange.errors import DocExchangeError
from docexchange.services import accounts, credentials
from docexchange.web.auth import sign_in_ui
from docexchange.web.context import current_actor, db, services
from docexchange.web.errors import flash_refusal, localized
from docexchange.web.forms import PasswordChangeForm, TotpForm

bp = Blueprint("account_ui", __name__, url_prefix="/account")


def _qr_svg(uri: str) -> Markup:
    """The otpauth URI as an SVG QR code an authenticator app scans."""
    out = io.BytesIO()
    qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8).save(out)
    svg = out.getvalue().decode("utf-8")
    return Markup(svg[svg.index("<svg") :])  # noqa: S704 - made here from a URI we wrote


@bp.get("/")
def account(
    enrolment: credentials.Enrolment | None = None, recovery: list[str] | None = None
) -> str:
    """The account page: the step the person must take first, if any; password; TOTP."""
    user = accounts.get_user(db(), current_actor().username)
    return render_template(
        "account.html",
        user=user,
        step=g.get("pending_step"),
        password_form=PasswordChangeForm(),
        totp_form=TotpForm(),
        enrolment=enrolment,
        qr=_qr_svg(enrolment.otpauth_uri) if enrolment else None,
        recovery=recovery,
    )


@bp.post("/password")
def password() -> Response | str:
    """Change one's own password; every other session ends, this one starts afresh."""
    form = PasswordChangeForm()
    if not form.validate_on_submit():
        flash(localized(DocExchangeError("missing_field", field="new_password")), "error")
        return redirect(url_for("account_ui.account"))
    user = accounts.get_user(db(), current_actor().username)
    try:
        credentials.change_password(
            db(), user, form.current_password.data, form.new_password.data, hasher=services().hasher
        )
    except DocExchangeError as exc:
        flash_refusal(exc)
        return redirect(url_for("account_ui.account"))
    sign_in_ui(user)
    flash("password", "password_changed")
    return redirect(url_for("ui.home"))


@bp.post("/totp/enrol")
def totp_enrol() -> Response | str:
    """Start setting up an authenticator app: its QR code and secret, shown once (the
    form's CSRF token is checked for every post, as on every page)."""
    user = accounts.get_user(db(), current_actor().username)
    try:
        enrolment = credentials.enrol_totp(db(), user, secret_key=services().settings.secret_key)
    except DocExchangeError as exc:
        flash_refusal(exc)
        return redirect(url_for("account_ui.account"))
    return account(enrolment=enrolment)


@bp.post("/totp/confirm")
def totp_confirm() -> Response | str:
    """The first code from the app: the second factor in force, recovery codes shown once."""
    form = TotpForm()
    user = accounts.get_user(db(), current_actor().username)
    try:
        if not form.validate_on_submit():
            raise DocExchangeError("totp_invalid")
        codes = credentials.confirm_totp(
            db(), user, form.code.data, secret_key=services().settings.secret_key
        )
    except DocExchangeError as exc:
        flash_refusal(exc)
        return redirect(url_for("account_ui.account"))
    g.pending_step = None
    return account(recovery=codes)
