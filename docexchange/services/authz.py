"""Who is acting, and default-deny checks by role and unit."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from docexchange.domain.accounts import Role
from docexchange.errors import Forbidden
from docexchange.storage.models import Unit

__all__ = ["Actor", "is_in_subtree", "require_role", "require_unit_visible"]


@dataclass(frozen=True)
class Actor:
    """The authenticated person behind a request."""

    user_id: int
    username: str
    unit_code: str
    roles: frozenset[Role]
    full_name: str = ""
    position: str = ""
    signature_image_sha256: str | None = None

    def has(self, *roles: Role) -> bool:
        """Whether the actor holds any of ``roles``."""
        return any(role in self.roles for role in roles)


def require_role(actor: Actor, *roles: Role) -> None:
    """:raises Forbidden: ``role_required`` unless the actor holds one of ``roles``."""
    if not actor.has(*roles):
        raise Forbidden("role_required", roles=", ".join(r.value for r in roles))


def ancestors(session: Session, code: str) -> list[str]:
    """Codes from ``code`` up to its root, ``code`` first (cycle-safe)."""
    chain: list[str] = []
    current: str | None = code
    while current is not None and current not in chain:
        chain.append(current)
        current = session.scalar(select(Unit.parent_code).where(Unit.code == current))
    return chain


def is_in_subtree(session: Session, code: str, root: str) -> bool:
    """Whether unit ``code`` is ``root`` or below it."""
    return root in ancestors(session, code)


def require_unit_visible(session: Session, actor: Actor, code: str) -> None:
    """Admins see every unit; auditors their subtree; everyone else only their own unit.

    :raises Forbidden: ``unit_forbidden``.
    """
    if actor.has(Role.ADMIN) or code == actor.unit_code:
        return
    if actor.has(Role.AUDITOR) and is_in_subtree(session, code, actor.unit_code):
        return
    raise Forbidden("unit_forbidden", code=code)


def role_set(values: Iterable[str]) -> frozenset[Role]:
    """Roles from stored names (unknown names are dropped)."""
    known = {r.value for r in Role}
    return frozenset(Role(v) for v in values if v in known)
