"""The web UI: sign in, the directory as a tree, the users of a unit."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from docexchange.domain.accounts import Role, parse_roles
from docexchange.domain.timeutil import today_vn
from docexchange.errors import DocExchangeError, Forbidden
from docexchange.i18n import LOCALES
from docexchange.services import accounts, credentials, directory, trust, workload
from docexchange.web.auth import sign_in_ui, sign_out_ui
from docexchange.web.context import client_address, current_actor, db, services
from docexchange.web.errors import flash_refusal, localized
from docexchange.web.forms import ROLE_LABELS, LoginForm, TrustAnchorForm, UserForm
from docexchange.web.observe import reads_only

bp = Blueprint("ui", __name__)
logger = logging.getLogger(__name__)


def _safe_next(target: str | None) -> str:
    # Only same-site paths: never redirect to another host after login.
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.netloc and not parts.scheme:
            return target
    return url_for("ui.home")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str:
    """The sign-in page."""
    form = LoginForm()
    if form.validate_on_submit():
        svc = services()
        try:
            user = accounts.authenticate(
                db(),
                form.username.data,
                form.password.data,
                hasher=svc.hasher,
                channel="ui",
                policy=svc.login_policy,
                client=client_address(),
                totp=form.totp.data or None,
                secret_key=svc.settings.secret_key,
            )
        except DocExchangeError as exc:
            flash(localized(exc), "error")
        else:
            sign_in_ui(user)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", form=form, demo=services().settings.demo_mode)


@bp.post("/logout")
def logout() -> Response:
    """End the session (a form post, so it carries a CSRF token)."""
    sign_out_ui()
    return redirect(url_for("ui.login"))


@bp.get("/lang/<code>")
def set_language(code: str) -> Response:
    """Switch between Vietnamese and English."""
    if code in LOCALES:
        session["lang"] = code
    return redirect(_safe_next(request.args.get("next")))


@bp.get("/")
@reads_only
def home() -> str:
    """Landing page after sign-in."""
    actor = current_actor()
    unit = directory.get_unit(db(), actor.unit_code)
    user = accounts.get_user(db(), actor.username)
    today = today_vn()
    return render_template(
        "home.html",
        unit=unit,
        user=user,
        queues=workload.queues(db(), actor=actor, today=today),
        due=workload.my_deadlines(db(), actor=actor, today=today),
    )


@bp.route("/users", methods=["GET", "POST"])
def users() -> Response | str:
    """Users of a unit; admins may pick any unit and create accounts."""
    actor = current_actor()
    unit_code = request.args.get("unit") or actor.unit_code
    form = UserForm()
    is_admin = actor.has(Role.ADMIN)
    if request.method == "POST" and not is_admin:
        raise Forbidden("role_required", roles=Role.ADMIN.value)
    if form.validate_on_submit():
        try:
            new = accounts.NewUser.from_mapping(
                {
                    "username": form.username.data,
                    "full_name": form.full_name.data,
                    "position": form.position.data,
                    "unit_code": form.unit_code.data,
                    "password": form.password.data,
                    "roles": form.roles.data,
                }
            )
            accounts.create_user(db(), new, hasher=services().hasher, actor=actor)
        except DocExchangeError as exc:
            flash_refusal(exc)
        else:
            flash(form.username.data, "created")
            return redirect(url_for("ui.users", unit=new.unit_code))
    elif request.method == "GET":
        form.unit_code.data = unit_code
    unit = directory.get_unit(db(), unit_code)
    people = accounts.list_users(db(), unit_code=unit_code, actor=actor)
    units = sorted(directory.list_units(db()), key=lambda u: u.name) if is_admin else []
    return render_template(
        "users.html",
        unit=unit,
        people=people,
        form=form,
        is_admin=is_admin,
        units=units,
        role_labels=ROLE_LABELS,
    )


@bp.post("/users/<username>/roles")
def user_roles(username: str) -> Response:
    """Admin: the person's roles as ticked (their sessions end: granted under the old)."""
    person = accounts.get_user(db(), username)
    if FlaskForm().validate_on_submit():
        try:
            roles = parse_roles(request.form.getlist("roles"))
            accounts.set_roles(db(), username, roles, actor=current_actor())
        except DocExchangeError as exc:
            flash_refusal(exc)
        else:
            flash(username, "roles_set")
    return redirect(url_for("ui.users", unit=person.unit_code))


@bp.post("/users/<username>/active")
def user_active(username: str) -> Response:
    """Admin: stop an account, or let it work again (``active=1``)."""
    person = accounts.get_user(db(), username)
    if FlaskForm().validate_on_submit():
        wanted = request.form.get("active") == "1"
        try:
            accounts.set_active(db(), username, wanted, actor=current_actor())
        except DocExchangeError as exc:
            flash_refusal(exc)
        else:
            flash(username, "reactivated" if wanted else "deactivated")
    return redirect(url_for("ui.users", unit=person.unit_code))


@bp.post("/users/<username>/password-reset")
def reset_password(username: str) -> Response | str:
    """Admin: a one-time password for a person, shown on this page only."""
    if not FlaskForm().validate_on_submit():
        return redirect(url_for("ui.users"))
    one_time = credentials.reset_password(
        db(), username, actor=current_actor(), hasher=services().hasher
    )
    person = accounts.get_user(db(), username)
    return render_template("password_reset.html", person=person, one_time=one_time)


@bp.post("/users/<username>/totp/remove")
def remove_totp(username: str) -> Response:
    """Admin: take away a person's lost second factor."""
    if FlaskForm().validate_on_submit():
        credentials.remove_totp(db(), username, actor=current_actor())
        flash(username, "totp_removed")
    person = accounts.get_user(db(), username)
    return redirect(url_for("ui.users", unit=person.unit_code))


@bp.route("/admin/trust", methods=["GET", "POST"])
def trust_store() -> Response | str:
    """Admins (auditors read): the trusted roots and intermediates; add and remove them."""
    actor = current_actor()
    form = TrustAnchorForm()
    if request.method == "POST" and not actor.has(Role.ADMIN):
        raise Forbidden("role_required", roles=Role.ADMIN.value)
    if form.validate_on_submit():
        upload = form.certificate_file.data
        pem = upload.read(200_000) if upload else (form.certificate_pem.data or "")
        try:
            anchor = trust.add_anchor(db(), pem, keys=services().keys, actor=actor)
        except DocExchangeError as exc:
            flash_refusal(exc)
        else:
            flash(anchor.subject, "trusted")
            return redirect(url_for("ui.trust_store"))
    anchors = trust.list_anchors(keys=services().keys, actor=actor)
    return render_template(
        "trust.html", anchors=anchors, form=form, remove=FlaskForm(), is_admin=actor.has(Role.ADMIN)
    )


@bp.post("/admin/trust/<fingerprint>/remove")
def remove_trust_anchor(fingerprint: str) -> Response:
    """Admin: stop trusting a certificate."""
    if FlaskForm().validate_on_submit():
        try:
            trust.remove_anchor(db(), fingerprint, keys=services().keys, actor=current_actor())
        except DocExchangeError as exc:
            flash_refusal(exc)
        else:
            flash(fingerprint, "removed")
    return redirect(url_for("ui.trust_store"))
