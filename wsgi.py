"""WSGI entry point for production servers: ``gunicorn -c deploy/gunicorn.conf.py wsgi:app``.

Settings come from the ``DOCEXCHANGE_*`` environment; logging is configured here. The
process refuses to start when the database is not at the newest migration.
"""

import os
import sys

from docexchange.errors import DocExchangeError
from docexchange.i18n import message_for
from docexchange.logs import configure_logging
from docexchange.services.container import build_services
from docexchange.services.health import database_status
from docexchange.settings import load_settings
from docexchange.web.app import create_app

try:
    _settings = load_settings()
    configure_logging(_settings.log_level)
    _services = build_services(_settings)
    if not database_status(_services.engine).ready:
        raise DocExchangeError("database_not_ready")
    app = create_app(services=_services)
    # Under ``gunicorn --preload`` this module runs once in the master, which then forks the
    # workers: none may inherit (and share) the connection the check above opened.
    _services.engine.dispose()
    os.register_at_fork(after_in_child=lambda: _services.engine.dispose(close=False))
except DocExchangeError as exc:
    sys.exit(f"docexchange: {message_for(exc, 'en')} / {message_for(exc, 'vi')}")
