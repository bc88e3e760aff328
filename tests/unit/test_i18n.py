"""Every message has a Vietnamese translation; every raised code has a message."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from docexchange.errors import DocExchangeError, NotFound
from docexchange.i18n import TRANSLATIONS_DIR, message_for
from docexchange.messages import MESSAGES

ROOT = Path(__file__).resolve().parents[2]
PO_FILE = TRANSLATIONS_DIR / "vi" / "LC_MESSAGES" / "messages.po"


def _extracted() -> set[str]:
    method_map = [("**.py", "python"), ("web/templates/**.html", "jinja2")]
    ids: set[str] = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        ROOT / "docexchange",
        method_map=method_map,
        keywords={"_": None, "gettext": None, "N_": None, "_l": None},
    ):
        ids.add(message if isinstance(message, str) else message[0])
    return ids


def test_every_string_in_code_and_templates_has_a_vietnamese_translation() -> None:
    with PO_FILE.open("rb") as handle:
        catalog = read_po(handle)
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    missing = sorted(_extracted() - translated)
    assert missing == [], f"untranslated: {missing}"


def test_every_raised_error_code_has_a_message() -> None:
    pattern = re.compile(
        r"(?:InvalidInput|NotFound|Forbidden|Conflict|Unauthorized|PayloadTooLarge|Locked|"
        r"ConfigurationError|DocExchangeError|_malformed\(\s*[\w.]+,|invalid_field\(\s*[^,]+,)\(?\s*\"([a-z_]+)\""
    )
    raised = set()
    for path in (ROOT / "docexchange").rglob("*.py"):
        raised.update(pattern.findall(path.read_text(encoding="utf-8")))
    assert raised, "the pattern found no raise sites"
    assert sorted(raised - MESSAGES.keys()) == []


def test_messages_render_in_both_languages_with_params() -> None:
    error = NotFound("unit_not_found", code="000.99.99.H45")
    assert message_for(error, "en") == "Unit 000.99.99.H45 does not exist."
    assert message_for(error, "vi") == "Không có đơn vị 000.99.99.H45."
    unknown = DocExchangeError("no_such_code")
    assert message_for(unknown, "vi") == "no_such_code"


def test_field_reasons_are_translated_too() -> None:
    from docexchange.errors import invalid_field

    error = invalid_field("position", "reason_max_length", max_length=100)
    assert message_for(error, "en") == "The field 'position' is invalid: at most 100 characters."
    assert message_for(error, "vi") == "Trường 'chức vụ' không hợp lệ: tối đa 100 ký tự."
    # A field is named as people call it, never by the code's own name.
    drafting = message_for(DocExchangeError("missing_field", field="drafting_unit"), "vi")
    assert drafting == "Trường 'đơn vị soạn thảo' là bắt buộc."


def test_every_field_the_models_name_has_a_vietnamese_label() -> None:
    import docexchange.domain.inputs as inputs
    from docexchange.i18n import translations
    from docexchange.messages import FIELD_LABELS

    fields = {name for model in inputs.__all__ for name in getattr(inputs, model).model_fields}
    assert fields - set(FIELD_LABELS) == set()
    vietnamese = translations("vi")
    untranslated = [n for n in fields if vietnamese.gettext(FIELD_LABELS[n]) == FIELD_LABELS[n]]
    assert untranslated == []


def test_a_catalogue_never_compiled_is_compiled_when_first_needed(tmp_path: Path) -> None:
    """A checkout installed without the setup script still answers in Vietnamese."""
    import shutil

    from babel.support import Translations

    from docexchange.i18n import TRANSLATIONS_DIR, compile_catalogues

    copy = tmp_path / "translations"
    shutil.copytree(TRANSLATIONS_DIR, copy, ignore=shutil.ignore_patterns("*.mo"))
    assert not list(copy.rglob("*.mo"))
    assert compile_catalogues(copy) == [copy / "vi" / "LC_MESSAGES" / "messages.mo"]
    assert compile_catalogues(copy) == []  # up to date: not again
    loaded = Translations.load(str(copy), ["vi"], domain="messages")
    assert loaded.gettext("Signing tokens") == "Thiết bị ký số"
