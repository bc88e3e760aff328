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

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from docexchange.errors import DocExchangeError
from docexchange.messages import FIELD_LABELS, MESSAGES

__all__ = [
    "LOCALES",
    "TRANSLATIONS_DIR",
    "compile_catalogues",
    "format_message",
    "message_for",
    "translations",
]

logger = logging.getLogger(__name__)

TRANSLATIONS_DIR = Path(__file__).parent / "translations"
LOCALES = ("vi", "en")


def compile_catalogues(directory: Path = TRANSLATIONS_DIR) -> list[Path]:
    """Compile each ``messages.po`` whose ``messages.mo`` is missing or older, as the setup
    script's ``pybabel compile`` does; answers the files written.

    So that a checkout installed without the setup script still speaks Vietnamese. A
    folder that cannot be written (an installed wheel, which carries its compiled
    catalogues) is left as it is.
    """
    written = []
    for source in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        target = source.with_suffix(".mo")
        if target.exists() and target.stat().st_mtime >= source.stat().st_mtime:
            continue
        try:
            with source.open("rb") as handle:
                catalogue = read_po(handle, locale=source.parent.parent.name)
            with target.open("wb") as handle:
                write_mo(handle, catalogue)
        except OSError as exc:
            logger.warning("cannot compile %s: %s", source, exc.strerror or exc)
            continue
        written.append(target)
    return written


@functools.cache
def translations(locale: str) -> NullTranslations:
    """The compiled catalogue for ``locale`` (English falls back to the msgids)."""
    compile_catalogues()
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
