"""The one way input becomes typed: pydantic models, their errors as our coded errors.

Every request body and query is parsed here, at the edge, into a frozen model whose fields
have strict types (a boolean is not a name, a number is not a PIN), lengths and formats (unit
codes, dates between 1900 and 2199). Checks the domain already has (a unit code, a selector,
a PIN's form, a date) run as the field's validator and keep their own codes; anything
pydantic refuses becomes ``missing_field`` or ``invalid_field`` naming the field, with a
reason in Vietnamese and English.

Why pydantic (v2): it validates plain dicts and query strings with the same models, strict
per field, reports where each error is, and writes the models' JSON Schema, against which
a test checks ``schemas/openapi.yaml`` field by field; marshmallow needs a schema and a
dataclass per shape for the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, TypeAlias, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
    ValidationError,
    ValidationInfo,
)

from docexchange.domain.timeutil import parse_date
from docexchange.domain.units import parse_code
from docexchange.errors import InvalidInput, invalid_field

__all__ = [
    "Code",
    "Day",
    "Flag",
    "Input",
    "LongText",
    "OptionalCode",
    "OptionalText64",
    "OptionalText100",
    "OptionalText500",
    "OptionalText1000",
    "Pin",
    "Text30",
    "Text40",
    "Text64",
    "Text100",
    "Text200",
    "Text500",
    "Text1024",
    "Whole",
    "parse_input",
]

M = TypeVar("M", bound="Input")


class Input(BaseModel):
    """Base of every input model: immutable, unknown keys ignored, text trimmed."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)


def _none_if_empty(value: str | None) -> str | None:
    return value or None


def _text(max_length: int) -> Any:
    return Annotated[StrictStr, StringConstraints(min_length=1, max_length=max_length)]


def _optional(max_length: int) -> Any:
    inner = Annotated[StrictStr, StringConstraints(max_length=max_length)]
    return Annotated[inner | None, AfterValidator(_none_if_empty)]


# Required text (never a number or a boolean, trimmed, not empty) by its longest length,
# and optional text (empty text counts as nothing). Named aliases, so type checkers see them.
Text30: TypeAlias = _text(30)  # type: ignore[valid-type]
Text40: TypeAlias = _text(40)  # type: ignore[valid-type]
Text64: TypeAlias = _text(64)  # type: ignore[valid-type]
Text100: TypeAlias = _text(100)  # type: ignore[valid-type]
Text200: TypeAlias = _text(200)  # type: ignore[valid-type]
Text500: TypeAlias = _text(500)  # type: ignore[valid-type]
Text1024: TypeAlias = _text(1024)  # type: ignore[valid-type]
LongText: TypeAlias = _text(100_000)  # type: ignore[valid-type]
OptionalText64: TypeAlias = _optional(64)  # type: ignore[valid-type]
OptionalText100: TypeAlias = _optional(100)  # type: ignore[valid-type]
OptionalText500: TypeAlias = _optional(500)  # type: ignore[valid-type]
OptionalText1000: TypeAlias = _optional(1000)  # type: ignore[valid-type]


def _day(value: object, info: ValidationInfo) -> date | None:
    return parse_date(value, field=str(info.field_name))


def _pin(value: object) -> str:
    if not isinstance(value, str) or not 4 <= len(value) <= 32:
        raise InvalidInput("invalid_pin_format")  # the PIN itself is never echoed
    return value


#: ``YYYY-MM-DD`` between 1900 and 2199, or nothing (``invalid_date`` otherwise).
Day = Annotated[date | None, BeforeValidator(_day)]
#: A unit's identifier code, checked and normalised (``invalid_unit_code`` otherwise).
Code = Annotated[StrictStr, AfterValidator(lambda v: parse_code(v).code)]


def _optional_code(value: object, info: ValidationInfo) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise invalid_field(str(info.field_name), "reason_text")
    return parse_code(value).code


#: A unit code, or nothing (``None`` or empty text).
OptionalCode = Annotated[str | None, BeforeValidator(_optional_code)]
#: A PIN: 4 to 32 characters (``invalid_pin_format`` otherwise, never echoed).
Pin = Annotated[str, BeforeValidator(_pin), StringConstraints(min_length=4, max_length=32)]
Flag = StrictBool
Whole = StrictInt

#: Reasons for what pydantic refuses, by its error type: (reason code, params from ctx).
_REASONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "string_type": ("reason_text", ()),
    "bool_type": ("reason_boolean", ()),
    "int_type": ("reason_integer", ()),
    "int_from_float": ("reason_integer", ()),
    "list_type": ("reason_list", ()),
    "dict_type": ("reason_object", ()),
    "model_type": ("reason_object", ()),
    "string_too_long": ("reason_max_length", ("max_length",)),
    "too_long": ("reason_max_items", ("max_length",)),
    "too_short": ("reason_non_empty_list", ()),
    "greater_than_equal": ("reason_at_least", ("ge",)),
    "less_than_equal": ("reason_at_most", ("le",)),
    "enum": ("reason_one_of", ("expected",)),
    "literal_error": ("reason_one_of", ("expected",)),
}


def _coded(exc: ValidationError) -> InvalidInput:
    first = exc.errors(include_url=False)[0]
    location = first.get("loc") or ("body",)
    field = str(location[0])
    kind = first.get("type", "")
    context = first.get("ctx") or {}
    if kind == "missing" or (kind == "string_too_short" and context.get("min_length") == 1):
        return InvalidInput("missing_field", field=field)
    reason, names = _REASONS.get(kind, ("reason_format", ()))
    params = {name: str(context.get(name, ""))[:200] for name in names}
    if "expected" in params:
        params = {"values": params["expected"].replace("'", "")}
    if "max_length" in params and reason == "reason_max_items":
        params = {"max_items": params["max_length"]}
    if reason in ("reason_at_least", "reason_at_most"):
        params = {"limit": params.get("ge") or params.get("le") or ""}
    return invalid_field(field, reason, **params)


def parse_input(model: type[M], data: object) -> M:
    """``data`` (a parsed JSON object or a query's mapping) as ``model``.

    :raises InvalidInput: ``invalid_json`` (not an object), ``missing_field``,
        ``invalid_field`` or a domain check's own code, naming the field.
    """
    if not isinstance(data, Mapping):
        raise InvalidInput("invalid_json")
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        raise _coded(exc) from None
