"""What each request carries, as typed models (parsed at the edge by :mod:`.edge`).

One model per request body of ``schemas/openapi.yaml``; a test compares each model's fields
with the contract's properties, so the two cannot drift. Services take these models (or
the typed values inside them), never raw dicts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    StrictStr,
    StringConstraints,
    model_validator,
)

from docexchange.domain.accounts import Role, check_password_policy, check_username, parse_roles
from docexchange.domain.documents import (
    DOC_TYPES,
    DocumentState,
    Secrecy,
    Urgency,
    check_doc_type,
)
from docexchange.domain.edge import (
    Code,
    Day,
    Flag,
    Input,
    LongText,
    OptionalCode,
    OptionalText64,
    OptionalText100,
    OptionalText500,
    OptionalText1000,
    Pin,
    Text30,
    Text40,
    Text64,
    Text100,
    Text200,
    Text500,
    Text1024,
    Whole,
)
from docexchange.domain.exchange import Status, parse_status
from docexchange.domain.reports import (
    Direction,
    Period,
    PeriodKind,
    Scope,
    parse_period,
    period_of,
)
from docexchange.domain.search import MAX_PER_PAGE, Page
from docexchange.domain.timeutil import parse_date
from docexchange.domain.units import UnitLevel, check_group_name, parse_selector
from docexchange.errors import InvalidInput, invalid_field

__all__ = [
    "AnchorBody",
    "ChainBody",
    "Credentials",
    "DocumentMetadata",
    "ForwardBody",
    "GroupBody",
    "ListQuery",
    "NewUserBody",
    "PaperBody",
    "PaperQuery",
    "PasswordChange",
    "PinBody",
    "ReasonBody",
    "RecipientsBody",
    "ReportQuery",
    "RolesBody",
    "SendBody",
    "SignatureBody",
    "SigningBatchBody",
    "StatusBody",
    "SubmitBody",
    "TokenBody",
    "TotpCode",
    "UnitBody",
    "UnitChanges",
    "UnitsQuery",
    "VerifyQuery",
]


#: A recipient selector: a unit code, ``children:<code>``, ``communes:<code>``, ``group:<name>``.
def _blank_or(parse: Callable[[object], Any]) -> Callable[[object], Any]:
    """A query value: nothing when absent or empty, else ``parse(value)``."""
    return lambda value: None if value in (None, "") else parse(value)


def _empty_is_none(value: object) -> object:
    return None if value == "" else value


Selector = Annotated[StrictStr, AfterValidator(lambda v: str(parse_selector(v)))]
Selectors = Annotated[list[Selector], Field(max_length=2000)]
Roles = Annotated[frozenset[Role], BeforeValidator(parse_roles)]
DocumentId: TypeAlias = OptionalText64


class Credentials(Input):
    username: Text64
    password: Text1024
    #: The second factor: a code from the authenticator app, or a recovery code.
    totp: OptionalText64 = None


class PasswordChange(Input):
    current_password: Text1024
    new_password: Text1024


class TotpCode(Input):
    code: Text64


class PinBody(Input):
    pin: Pin


class SigningBatchBody(Input):
    """``POST /signing-batches``: the documents one PIN entry signs."""

    document_ids: Annotated[list[Text40], Field(min_length=1, max_length=1000)]
    pin: Pin


class TokenBody(Input):
    pin: Pin
    algorithm: Literal["rsa2048", "ec-p256"] | None = None
    #: The security officer's PIN the new token gets (unless the operator names a file).
    so_pin: Pin | None = None


class UnitTokenBody(Input):
    pin: Pin
    so_pin: Pin | None = None


class SendBody(Input):
    recipients: Selectors | None = None
    replaces: DocumentId = None


class SubmitBody(Input):
    signer: Text64
    note: OptionalText1000 = None


class ReasonBody(Input):
    reason: OptionalText1000 = None


class ForwardBody(Input):
    recipients: Selectors = Field(default_factory=list)


class RecipientsBody(Input):
    recipients: Selectors = Field(default_factory=list)


class StatusBody(Input):
    code: Annotated[Status, BeforeValidator(parse_status)]
    reason: OptionalText1000 = None
    #: The same as ``reason`` (older clients send ``note``).
    note: OptionalText1000 = None
    assignee: OptionalText64 = None
    #: On assigning (04): the leader's instruction, and the day it must be done by.
    instruction: OptionalText1000 = None
    due_date: Day = None


class RolesBody(Input):
    roles: Roles


class GroupBody(Input):
    name: Annotated[str, BeforeValidator(check_group_name)] | None = None
    description: OptionalText500 = None
    members: Annotated[list[Code], Field(min_length=1, max_length=5000)]


class PaperBody(Input):
    direction: Direction
    unit_code: OptionalCode = None
    date: Day
    number: Text40
    subject: Text500
    counterpart: Text200
    secrecy: Secrecy = Secrecy.NONE


class ChainBody(Input):
    certificate_chain: Annotated[list[LongText], Field(min_length=1, max_length=10)]


class SignatureBody(Input):
    signature: LongText


class AnchorBody(Input):
    certificate_pem: LongText


class NewUserBody(Input):
    """An account an admin creates (the password is hashed by the service, then dropped)."""

    username: Annotated[str, BeforeValidator(check_username)]
    password: Annotated[str, BeforeValidator(check_password_policy)]
    full_name: Text100
    position: OptionalText100 = None
    unit_code: Code
    roles: Roles


class UnitBody(Input):
    """A unit as an admin gives it or an import row holds it (references checked later)."""

    code: Code
    name: Text200
    abbreviation: Text30
    level: Annotated[UnitLevel, BeforeValidator(UnitLevel.parse)]
    parent_code: OptionalCode = None
    valid_from: Day = None
    valid_to: Day = None
    successor_code: OptionalCode = None


class UnitChanges(Input):
    """What ``PATCH /units/{code}`` may change; only the keys given are changed."""

    name: Text200 | None = None
    abbreviation: Text30 | None = None
    parent_code: OptionalCode = None
    valid_from: Day = None
    valid_to: Day = None
    successor_code: OptionalCode = None

    @model_validator(mode="before")
    @classmethod
    def _only_updatable(cls, data: Any) -> Any:
        if isinstance(data, dict):
            if not data:
                raise InvalidInput("invalid_json")
            for name in data:
                if name not in cls.model_fields:
                    raise invalid_field(str(name)[:40], "reason_not_updatable")
        return data

    def given(self) -> dict[str, Any]:
        """The fields the request named, with their parsed values."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class DocumentMetadata(Input):
    """Upload metadata (``POST /documents``, the ``metadata`` part)."""

    subject: Text500
    doc_type: Annotated[str, BeforeValidator(check_doc_type)]
    urgency: Urgency = Urgency.NORMAL
    secrecy: Secrecy = Secrecy.NONE
    recipients: Selectors = Field(default_factory=list)
    drafting_unit: Annotated[
        Annotated[StrictStr, StringConstraints(max_length=20)] | None,
        AfterValidator(lambda v: v.upper() if v else None),
    ] = None
    paper_copy: Flag = False
    due_date: Day = None
    signature_page: Annotated[Whole, Field(ge=1, le=10_000)] | None = None

    @model_validator(mode="after")
    def _cong_van_names_its_drafting_unit(self) -> DocumentMetadata:
        if self.doc_type == "CV" and not self.drafting_unit:
            raise InvalidInput("missing_field", field="drafting_unit")
        return self


#: ``?from=`` and ``?to=``: a day, errors naming the parameter (not the field behind it).
FromDay = Annotated[date | None, BeforeValidator(lambda v: parse_date(v, field="from"))]
ToDay = Annotated[date | None, BeforeValidator(lambda v: parse_date(v, field="to"))]


def _switch(value: object) -> bool:
    return str(value).lower() in ("1", "true", "yes")


def _count(name: str, low: int, high: int) -> Callable[[object], object]:
    """A whole number from ``low`` to ``high`` (a query's text, or a number)."""

    def parse(value: object) -> object:
        if value in (None, ""):
            return None
        text = str(value)
        if isinstance(value, bool) or not text.isdigit() or not low <= int(text) <= high:
            raise invalid_field(name, "reason_one_of", values=f"{low} … {high}")
        return int(text)

    return parse


class ListQuery(Input):
    """The search and filters of a list (documents, inbox, outbox, registers, paper
    records): ``?q=&from=&to=&sender=&recipient=&status=&state=&doc_type=&overdue=``, and
    which page, ``?page=&per_page=`` (at most :data:`MAX_PER_PAGE` rows)."""

    #: Words to find in the subject, number and notation, type or issuer, with or without
    #: Vietnamese marks.
    q: OptionalText100 = None
    first: FromDay = Field(default=None, alias="from")
    last: ToDay = Field(default=None, alias="to")
    sender: OptionalCode = None
    recipient: OptionalCode = None
    status: Annotated[Status | None, BeforeValidator(_blank_or(parse_status))] = None
    state: Annotated[DocumentState | None, BeforeValidator(_empty_is_none)] = None
    doc_type: Annotated[str | None, BeforeValidator(_blank_or(check_doc_type))] = None
    #: The inbox: only what is past its deadline and not finished.
    overdue: Annotated[bool, BeforeValidator(_switch)] = False
    page: Annotated[int | None, BeforeValidator(_count("page", 1, 1_000_000))] = None
    per_page: Annotated[int | None, BeforeValidator(_count("per_page", 1, MAX_PER_PAGE))] = None

    @property
    def paging(self) -> Page:
        """The page asked for (the first, of 50 rows, by default)."""
        return Page(self.page or 1, self.per_page or Page.size)

    @model_validator(mode="after")
    def _from_before_to(self) -> ListQuery:
        if self.first and self.last and self.first > self.last:
            raise InvalidInput("invalid_period", reason=f"{self.first}…{self.last}")
        return self


class PaperQuery(ListQuery):
    """The paper register's list: any list's search and page, and ``?period=`` (a week,
    month, quarter or year containing ``from``, today by default) instead of ``to``."""

    period: Annotated[PeriodKind | None, BeforeValidator(_empty_is_none)] = None

    def span(self, *, today: date) -> tuple[date | None, date | None]:
        """The first and last day asked for (either open)."""
        if self.period is None:
            return self.first, self.last
        chosen = period_of(self.period, self.first or today)
        return chosen.first, chosen.last


def _moment(value: object) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise invalid_field("at", "reason_iso_datetime") from None
    if moment.tzinfo is None or not 1900 <= moment.year <= 2199:
        raise invalid_field("at", "reason_iso_datetime")
    return moment


class UnitsQuery(Input):
    """``?parent=&level=&active=`` of the unit list."""

    parent: OptionalCode = None
    level: Annotated[UnitLevel | None, BeforeValidator(_blank_or(UnitLevel.parse))] = None
    active: Annotated[bool, BeforeValidator(_switch)] = False


class VerifyQuery(Input):
    """``?sender=&at=`` of a verification: the mandate of a unit, a moment with its zone."""

    sender: OptionalCode = None
    at: Annotated[datetime | None, BeforeValidator(_moment)] = None


class ReportQuery(Input):
    """``?unit=&from=&to=`` or ``&period=``, ``&scope=``, ``&rollup=``, ``&format=`` of a
    report (the period itself is checked by :func:`docexchange.domain.reports.parse_period`)."""

    unit: OptionalCode = None
    first: FromDay = Field(default=None, alias="from")
    last: ToDay = Field(default=None, alias="to")
    period: Annotated[PeriodKind | None, BeforeValidator(_empty_is_none)] = None
    scope: Annotated[Scope, BeforeValidator(lambda v: v or Scope.SELF.value)] = Scope.SELF
    rollup: Annotated[bool, BeforeValidator(_switch)] = False
    format: Literal["json", "csv", "xlsx"] = "json"

    def span(self, *, today: date) -> Period:
        """The period asked for (today when none).

        :raises InvalidInput: ``invalid_period``.
        """
        if self.period is not None:
            return period_of(self.period, self.first or today)
        return parse_period(self.first, self.last, today=today)


class RegisterQuery(ListQuery):
    """``?unit=&year=&format=`` of a register (the year: this year by default), with the
    search, dates and page of any list (an export holds every row found, not one page)."""

    unit: OptionalCode = None
    year: Annotated[int | None, BeforeValidator(_count("year", 1900, 2199))] = None
    format: Literal["json", "xlsx", "pdf"] = "json"


#: Document types a clerk may choose (NĐ 30 Phụ lục III), for forms.
DOCUMENT_TYPES = tuple(DOC_TYPES)
