"""The application factory."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from flask import Flask, g, request, session, url_for
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from docexchange import __version__
from docexchange.domain.accounts import Role, mask_personal_ids
from docexchange.domain.documents import DOC_TYPES, DocumentState, Secrecy, SignatureKind
from docexchange.domain.exchange import DeliveryState
from docexchange.domain.timeutil import VN_TZ, today_vn
from docexchange.errors import ConfigurationError, DocExchangeError
from docexchange.i18n import LOCALES, TRANSLATIONS_DIR, compile_catalogues, message_for
from docexchange.services import directory, workload
from docexchange.services.container import Services, build_services
from docexchange.services.exchange.common import handling_of
from docexchange.settings import Settings, load_settings
from docexchange.storage.models import InboxEntry
from docexchange.web.auth import install_auth
from docexchange.web.blueprints import (
    account_ui,
    api_v1,
    appearances_ui,
    directory_ui,
    documents_ui,
    exchange_ui,
    health,
    pki_http,
    reports_ui,
    tokens_ui,
    ui,
    verify_ui,
)
from docexchange.web.context import EXTENSION_KEY, close_session, db
from docexchange.web.edge import install_edge
from docexchange.web.errors import register_error_handlers
from docexchange.web.forms import ROLE_LABELS
from docexchange.web.observe import install_observe

__all__ = ["create_app"]

#: Endpoints our own pages may show in a frame (the PDF preview).
FRAMEABLE = frozenset({"documents_ui.file", "exchange_ui.entry_file"})

logger = logging.getLogger(__name__)

csrf = CSRFProtect()
babel = Babel()


def _select_locale() -> str:
    chosen = session.get("lang")
    if chosen in LOCALES:
        return str(chosen)
    settings: Settings = app_settings()
    return settings.default_locale


def app_settings() -> Settings:
    """The settings of the app serving the current request."""
    from flask import current_app  # noqa: PLC0415 - only valid inside a request

    svc: Services = current_app.extensions[EXTENSION_KEY]
    return svc.settings


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> Flask:
    """Build the Flask app for ``settings`` (loaded from the environment when omitted).

    :raises ConfigurationError: ``config_missing_secret`` when no session key is configured.
    """
    settings = settings or (services.settings if services else load_settings())
    if not settings.secret_key:
        raise ConfigurationError("config_missing_secret")
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=settings.token_ttl_seconds),
        WTF_CSRF_TIME_LIMIT=settings.token_ttl_seconds,
    )
    if settings.trusted_proxies:
        # Behind a reverse proxy: the client's address and scheme as the proxies report
        # them (only as many hops as configured: a header a client sets itself is ignored).
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app,
            x_for=settings.trusted_proxies,
            x_proto=settings.trusted_proxies,
            x_host=settings.trusted_proxies,
        )
    # Vietnamese names stay readable in API answers; fields keep their documented order.
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions[EXTENSION_KEY] = services or build_services(settings)
    compile_catalogues()  # a checkout installed without the setup script: pages in Vietnamese
    babel.init_app(
        app,
        locale_selector=_select_locale,
        default_locale=settings.default_locale,
        default_translation_directories=str(TRANSLATIONS_DIR),
    )
    install_observe(app)  # first: every request has its id, even one the edge refuses
    install_edge(app)  # before CSRF, authentication and every view
    csrf.init_app(app)
    csrf.exempt(api_v1.bp)
    csrf.exempt(health.bp)
    csrf.exempt(pki_http.bp)
    install_auth(app)
    register_error_handlers(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(api_v1.bp)
    app.register_blueprint(ui.bp)
    app.register_blueprint(account_ui.bp)
    app.register_blueprint(documents_ui.bp)
    app.register_blueprint(exchange_ui.bp)
    app.register_blueprint(reports_ui.bp)
    app.register_blueprint(verify_ui.bp)
    app.register_blueprint(appearances_ui.bp)
    app.register_blueprint(tokens_ui.bp)
    app.register_blueprint(directory_ui.bp)
    app.register_blueprint(pki_http.bp)
    app.teardown_appcontext(close_session)

    @app.template_filter("masked")
    def _masked(subject: str | None) -> str:
        return mask_personal_ids(subject or "")

    @app.template_filter("role")
    def _role(name: str) -> str:
        """A role as the pages call it ("Văn thư", not ``clerk``)."""
        try:
            return str(ROLE_LABELS[Role(name)])
        except ValueError:
            return name

    @app.template_filter("vn_time")
    def _vn_time(moment: datetime | str | None, seconds: bool = False) -> str:
        """``dd/mm/yyyy hh:mm`` in Vietnam time (``seconds``: with them), as clerks write it;
        an ISO 8601 text (a verification report's times) too."""
        if moment is None or moment == "":
            return ""
        if isinstance(moment, str):
            text = moment
            try:
                moment = datetime.fromisoformat(text)
            except ValueError:
                return text
        local = moment.astimezone(VN_TZ)
        return local.strftime("%d/%m/%Y %H:%M:%S" if seconds else "%d/%m/%Y %H:%M")

    @app.template_filter("vn_date")
    def _vn_date(day: date | datetime | None) -> str:
        """``dd/mm/yyyy``; a moment as its day in Vietnam."""
        if day is None:
            return ""
        if isinstance(day, datetime):
            day = day.astimezone(VN_TZ).date()
        return day.strftime("%d/%m/%Y")

    @app.template_filter("error_message")
    def _error_message(error: DocExchangeError) -> str:
        return message_for(error, _select_locale())

    @app.template_filter("reason")
    def _reason(code: str) -> str:
        return message_for(DocExchangeError(code), _select_locale())

    @app.context_processor
    def _globals() -> dict[str, object]:
        def unit_name(code: str | None) -> str:
            """A unit's name (looked up once per request)."""
            if not code:
                return ""
            names: dict[str, str] = g.setdefault("unit_names", {})
            if code not in names:
                names[code] = directory.unit_name(db(), code)
            return names[code]

        def handling(entry: InboxEntry) -> tuple[date | None, bool]:
            """A received document's deadline, and whether it is overdue today (Vietnam)."""
            return handling_of(entry, today_vn())

        def arrivals_waiting() -> int:
            """The menu's count of arrivals not yet accepted (once per request)."""
            if "arrivals_waiting" not in g:
                g.arrivals_waiting = workload.arrivals_waiting(db(), g.actor.unit_code)
            return int(g.arrivals_waiting)

        def page_url(number: int) -> str:
            """This list's page ``number``, its search and filters kept."""
            args: dict[str, Any] = {**(request.view_args or {}), **request.args.to_dict()}
            return url_for(str(request.endpoint), **{**args, "page": number})

        return {
            "unit_name": unit_name,
            "page_url": page_url,
            "doc_types": sorted(DOC_TYPES.items(), key=lambda kv: kv[1]),
            "handling": handling,
            "arrivals_waiting": arrivals_waiting,
            "version": __version__,
            "demo_mode": settings.demo_mode,
            "current_lang": _select_locale(),
            "current_path": request.full_path.rstrip("?"),
            # States and kinds are compared as members, never as bare strings.
            "DeliveryState": DeliveryState,
            "DocumentState": DocumentState,
            "SignatureKind": SignatureKind,
            "Secrecy": Secrecy,
            "Role": Role,
        }

    @app.after_request
    def _security_headers(response):  # type: ignore[no-untyped-def]
        if request.endpoint not in FRAMEABLE:
            response.headers["X-Frame-Options"] = "DENY"
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if settings.secure_cookies:  # told it runs behind HTTPS: browsers keep to it
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        response.headers.setdefault(
            "Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'"
        )
        return response

    return app
