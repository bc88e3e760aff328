"""Render coded errors and other catalogue strings in Vietnamese or English.

The catalogue files are shared with Flask-Babel (templates) and compiled by the setup
script; this module is what non-web code (the CLI, the API error renderer) uses to get both
languages at once.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any

from babel.support import NullTranslations, Translations

from docexchange.errors import DocExchangeError
from docexchange.messages import FIELD_LABELS, MESSAGES

__all__ = ["LOCALES", "TRANSLATIONS_DIR", "format_message", "message_for", "translations"]

logger = logging.getLogger(__name__)

TRANSLATIONS_DIR = Path(__file__).parent / "translations"
LOCALES = ("vi", "en")


@functools.cache
def translations(locale: str) -> NullTranslations:
    """The compiled catalogue for ``locale`` (English falls back to the msgids)."""
    loaded = Translations.load(str(TRANSLATIONS_DIR), [locale], domain="messages")
    if locale != "en" and not isinstance(loaded, Translations):
        logger.warning("no compiled %s catalogue in %s", locale, TRANSLATIONS_DIR)
    return loaded


def format_message(template: str, params: dict[str, Any]) -> str:
    """Fill ``{name}`` placeholders; a missing param leaves its placeholder visible."""

    class _Keep(dict[str, Any]):
        def __missing__(self, key: str) -> str:
            return "{" + key + "}"

    return template.format_map(_Keep(params))


def message_for(error: DocExchangeError, locale: str) -> str:
    """The message of ``error`` in ``locale`` ("vi" or "en").

    A param that is itself a coded error (the reason of an import failure) is rendered in
    the same language, without its final full stop.
    """
    template = MESSAGES.get(error.code, error.code)
    catalogue = translations(locale)
    params = {
        name: message_for(value, locale).rstrip(".")
        if isinstance(value, DocExchangeError)
        else value
        for name, value in error.params.items()
    }
    field = params.get("field")
    if isinstance(field, str) and field in FIELD_LABELS:
        # A field is named as people call it, never by the code's own name.
        params["field"] = catalogue.gettext(FIELD_LABELS[field])
    return format_message(catalogue.gettext(template), params)
