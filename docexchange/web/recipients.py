"""What a sender may name as recipients, for the compose form's picker, and what they expand to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from docexchange.domain.timeutil import today_vn
from docexchange.domain.units import UnitLevel
from docexchange.errors import DocExchangeError
from docexchange.services import directory
from docexchange.storage.models import Unit

__all__ = ["RecipientOption", "expand", "recipient_options"]

#: Levels under which a "communes:" selector makes sense.
_ABOVE_COMMUNES = {UnitLevel.CENTRAL.value, UnitLevel.PROVINCE.value, UnitLevel.DISTRICT.value}


@dataclass(frozen=True)
class RecipientOption:
    """One entry of the picker: what is sent (a code or a selector) and how it reads."""

    value: str
    label: str


def recipient_options(session: Session) -> list[RecipientOption]:
    """Every unit in force (by name, code as the value), the selectors over each unit that
    has units below it, and every group; the browser's list searches names and codes."""
    units = directory.list_units(session, active_on=today_vn())
    counts = directory.child_counts(session, [u.code for u in units])
    options = [RecipientOption(u.code, u.name) for u in units]
    for unit in units:
        if counts.get(unit.code):
            label = _("All units directly under %(name)s", name=unit.name)
            options.append(RecipientOption(f"children:{unit.code}", label))
        if unit.level in _ABOVE_COMMUNES and counts.get(unit.code):
            label = _("All communes and wards under %(name)s", name=unit.name)
            options.append(RecipientOption(f"communes:{unit.code}", label))
    for group in directory.list_groups(session):
        label = _("Group %(name)s", name=group.description or group.name)
        options.append(RecipientOption(f"group:{group.name}", label))
    return options


def expand(session: Session, selectors: Sequence[str], *, sender: str) -> list[Unit] | None:
    """The units ``selectors`` name today, the sender excepted (as sending does), or
    ``None`` when one of them no longer resolves (the send will say why)."""
    try:
        units = directory.resolve_recipients(session, list(selectors))
    except DocExchangeError:
        return None
    return [u for u in units if u.code != sender]
