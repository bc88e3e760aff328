"""WSGI entry point for production servers: ``gunicorn wsgi:app``.

Settings come from the ``DOCEXCHANGE_*`` environment; logging is configured here.
"""

import logging

from docexchange.web.app import create_app

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
app = create_app()
