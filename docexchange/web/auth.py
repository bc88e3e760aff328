"""Default-deny authentication: every endpoint needs a user unless it is listed public.

API calls authenticate with ``Authorization: Bearer <token>``; pages with the signed session
cookie set at login, which carries a token of the same kind: the session lives on the server,
so signing out, an admin's ``revoke-tokens``, a role change, a new password or deactivation
end it at once, wherever the cookie was copied to. CSRF protection covers every form; only
the API blueprint, which never reads cookies, is exempt.
"""

from __future__ import annotations

from flask import Flask, g, redirect, request, session, url_for
from werkzeug.wrappers import Response

from docexchange.domain.accounts import Role
from docexchange.errors import Forbidden, Unauthorized
from docexchange.services import accounts
from docexchange.services.credentials import PendingStep, pending_step
from docexchange.storage.models import User
from docexchange.web.context import db, services

__all__ = ["PUBLIC_ENDPOINTS", "install_auth", "sign_in_ui", "sign_out_ui"]

PUBLIC_ENDPOINTS = frozenset(
    {
        "static",
        "health.healthz",
        "api_v1.login",
        "api_v1.openapi",
        "api_v1.exchange_edxml",  # peers authenticate with their own token, in the view
        "ui.login",
        "ui.set_language",
        "verify_ui.verify",
    }
)

#: What a person with a pending step (a new password after a reset, a second factor their
#: role requires) may still reach: the step itself, who they are, signing out.
STEP_ENDPOINTS = frozenset(
    {
        "api_v1.change_password",
        "api_v1.totp_enrol",
        "api_v1.totp_confirm",
        "api_v1.logout",
        "api_v1.me",
        "account_ui.account",
        "account_ui.password",
        "account_ui.totp_enrol",
        "account_ui.totp_confirm",
        "ui.logout",
    }
)

#: Blueprints that are public as a whole: the demo CA's CRL, OCSP and TSA.
PUBLIC_BLUEPRINTS = frozenset({"pki_http"})

#: Machine endpoints outside the API that take a bearer token, as the API does.
BEARER_ENDPOINTS = frozenset({"health.metrics"})

#: The session cookie's key for the session's token (the key, not a secret).
SESSION_TOKEN = "token"  # noqa: S105


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _authenticate_api() -> None:
    token = _bearer_token()
    if token is None:
        raise Unauthorized("authentication_required")
    user = accounts.resolve_token(db(), token)
    g.actor = accounts.actor_for(user)
    g.api_token = token
    step = _pending(user)
    db().commit()  # end the read, so a long request holds no transaction open
    if step is not None and request.endpoint not in STEP_ENDPOINTS:
        raise Forbidden(step.value)


def _authenticate_ui() -> Response | None:
    token = session.get(SESSION_TOKEN)
    try:
        if not isinstance(token, str):
            raise Unauthorized("authentication_required")
        user = accounts.resolve_token(db(), token)
    except Unauthorized:
        db().rollback()
        session.pop(SESSION_TOKEN, None)
        return redirect(url_for("ui.login", next=request.full_path.rstrip("?")))
    g.actor = accounts.actor_for(user)
    step = _pending(user)
    db().commit()  # end the read, so a long request holds no transaction open
    if step is not None and request.endpoint not in STEP_ENDPOINTS:
        return redirect(url_for("account_ui.account"))
    return None


def required_totp_roles() -> frozenset[Role]:
    """The roles this server requires a second factor of (``DOCEXCHANGE_REQUIRE_TOTP_ROLES``)."""
    known = {r.value for r in Role}
    return frozenset(Role(r) for r in services().settings.totp_roles if r in known)


def _pending(user: User) -> PendingStep | None:
    g.pending_step = step = pending_step(user, required_totp_roles())
    return step


def install_auth(app: Flask) -> None:
    """Register the default-deny hook on ``app``."""

    @app.before_request
    def _default_deny() -> Response | None:
        endpoint = request.endpoint
        if (
            endpoint is None
            or endpoint in PUBLIC_ENDPOINTS
            or request.blueprint in PUBLIC_BLUEPRINTS
        ):
            return None  # unknown routes fall through to 404
        if request.blueprint == "api_v1" or endpoint in BEARER_ENDPOINTS:
            _authenticate_api()
            return None
        return _authenticate_ui()


def sign_in_ui(user: User) -> None:
    """Start a fresh UI session for ``user`` (the old session content is dropped)."""
    issued = accounts.issue_token(db(), user, ttl_seconds=services().settings.token_ttl_seconds)
    lang = session.get("lang")
    session.clear()
    session[SESSION_TOKEN] = issued.token
    if lang:
        session["lang"] = lang
    session.permanent = True


def sign_out_ui() -> None:
    """End the UI session on the server (its token revoked) but keep the chosen language."""
    token = session.get(SESSION_TOKEN)
    if isinstance(token, str) and g.get("actor") is not None:
        accounts.revoke_token(db(), token, actor=g.actor)
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
