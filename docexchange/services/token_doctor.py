"""The token doctor: every token of the module with its owner, key, certificate and PIN lock,
and who could be given one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from docexchange.domain.accounts import Role
from docexchange.services.authz import Actor, require_role
from docexchange.services.keys import KeyMaterial, unit_token_label, user_token_label
from docexchange.storage.models import TokenState, Unit, User, UserRole
from pki import tokens as p11

__all__ = ["OwnerKind", "TokenCandidates", "TokenReport", "candidates", "doctor"]


class OwnerKind(StrEnum):
    """Whose a token is, as told by its label (``u:username``, ``o:unit code``)."""

    PERSON = "person"
    UNIT = "unit"
    OTHER = "other"


@dataclass(frozen=True)
class TokenReport:
    """One line of the token doctor: what is on the token and whether it is locked."""

    label: str
    has_key: bool
    certificate_subject: str | None
    certificate_not_after: str | None
    failures: int
    locked: bool
    #: Whose token it is, by name: a person's full name and unit, or a unit's name.
    owner: str = ""
    #: A person's, a unit's, or another (a token this server did not name).
    kind: OwnerKind = OwnerKind.OTHER
    #: The certificate subject's common name.
    certificate_name: str | None = None

    @property
    def is_person(self) -> bool:
        return self.kind is OwnerKind.PERSON

    @property
    def is_unit(self) -> bool:
        return self.kind is OwnerKind.UNIT

    @property
    def valid_until(self) -> datetime | None:
        """When the certificate on the token expires."""
        if not self.certificate_not_after:
            return None
        return datetime.fromisoformat(self.certificate_not_after)


def _owners(session: Session, labels: list[str]) -> dict[str, tuple[OwnerKind, str]]:
    """Label → (kind, owner's name) for the tokens this server names (``u:``/``o:``)."""
    usernames = {label[2:]: label for label in labels if label.startswith("u:")}
    codes = {label[2:]: label for label in labels if label.startswith("o:")}
    owners: dict[str, tuple[OwnerKind, str]] = {}
    if usernames:
        rows = session.execute(
            select(User.username, User.full_name, Unit.name)
            .join(Unit, Unit.code == User.unit_code)
            .where(User.username.in_(usernames))
        )
        for username, full_name, unit_name in rows:
            owners[usernames[username]] = (OwnerKind.PERSON, f"{full_name} — {unit_name}")
    if codes:
        for code, name in session.execute(select(Unit.code, Unit.name).where(Unit.code.in_(codes))):
            owners[codes[code]] = (OwnerKind.UNIT, name)
    return owners


def doctor(session: Session, *, keys: KeyMaterial, actor: Actor) -> list[TokenReport]:
    """Admin: every token of the configured module, with its owner, key, certificate and lock."""
    require_role(actor, Role.ADMIN)
    keys.activate_store()  # the module must see this instance's store
    states = {s.label: s for s in session.scalars(select(TokenState))}
    infos = sorted(p11.list_tokens(keys.module_path), key=lambda i: i.label)
    owners = _owners(session, [info.label for info in infos])
    reports = []
    for info in infos:
        state = states.get(info.label)
        kind, owner = owners.get(info.label, (OwnerKind.OTHER, ""))
        reports.append(
            TokenReport(
                label=info.label,
                has_key=info.has_key,
                certificate_subject=info.certificate_subject,
                certificate_not_after=info.certificate_not_after,
                certificate_name=info.certificate_name,
                failures=state.failures if state else 0,
                locked=bool(state and state.locked_at),
                owner=owner,
                kind=kind,
            )
        )
    return reports


@dataclass(frozen=True)
class TokenCandidates:
    """Who could be given a token on the token page: (key, name) pairs, by name."""

    people: list[tuple[str, str]]
    units: list[tuple[str, str]]


def candidates(session: Session, reports: list[TokenReport], *, actor: Actor) -> TokenCandidates:
    """Active people without a personal token, and units with a clerk but no seal token.

    A unit needs its organisation token only when it issues documents, which its clerks do.
    """
    require_role(actor, Role.ADMIN)
    present = {report.label for report in reports}
    people = [
        (username, f"{full_name} ({username}) — {unit_name}")
        for username, full_name, unit_name in session.execute(
            select(User.username, User.full_name, Unit.name)
            .join(Unit, Unit.code == User.unit_code)
            .where(User.active.is_(True))
            .order_by(Unit.name, User.full_name)
        )
        if user_token_label(username) not in present
    ]
    clerks = (
        select(User.unit_code)
        .join(UserRole, UserRole.user_id == User.id)
        .where(User.active.is_(True), UserRole.role == Role.CLERK.value)
    )
    units = [
        (code, name)
        for code, name in session.execute(
            select(Unit.code, Unit.name).where(Unit.code.in_(clerks)).order_by(Unit.name)
        )
        if unit_token_label(code) not in present
    ]
    return TokenCandidates(people=people, units=units)
