"""Slowing down password guessing without locking owners out.

Failed sign-ins are rows in the database (``login_failures``), so every server process
counts the same ones. Two limits, each over a sliding window:

- per account *and* client address: a flood of wrong passwords for one account from one
  address stops that address trying that account, but its owner signs in from another;
- per client address over every account: spraying one password over many accounts from
  one address is slowed down too.

The client address is the socket's peer, or what a trusted proxy reports
(``DOCEXCHANGE_TRUSTED_PROXIES``, applied at the edge). A refusal says when to try again
(``Retry-After``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from docexchange.errors import TooManyRequests
from docexchange.storage.base import utcnow
from docexchange.storage.models import LoginFailure

__all__ = ["LoginPolicy", "check_allowed", "forget_failures", "record_failure"]

#: Failures older than this are deleted when the same address fails again (the audit log
#: keeps every attempt).
_KEEP = timedelta(days=1)


@dataclass(frozen=True)
class LoginPolicy:
    """At most ``max_failures`` failed sign-ins per account and address, and
    ``max_client_failures`` per address over all accounts, in ``window_seconds``."""

    max_failures: int = 10
    window_seconds: int = 900
    max_client_failures: int = 50


def _oldest_if_full(
    session: Session, limit: int, since: datetime, *where: ColumnElement[bool]
) -> datetime | None:
    """The oldest failure in the window when there are ``limit`` or more, else ``None``."""
    count, oldest = session.execute(
        select(func.count(), func.min(LoginFailure.at)).where(LoginFailure.at >= since, *where)
    ).one()
    return oldest if count and count >= limit else None


def check_allowed(session: Session, username: str, client: str, policy: LoginPolicy) -> None:
    """Refuse a sign-in attempt that would go over a limit.

    :raises TooManyRequests: ``too_many_attempts`` (this account from this address) or
        ``too_many_attempts_client`` (this address), with ``retry_after`` in seconds.
    """
    now = utcnow()
    window = timedelta(seconds=policy.window_seconds)
    for code, limit, where in (
        (
            "too_many_attempts",
            policy.max_failures,
            (LoginFailure.username == username, LoginFailure.client == client),
        ),
        ("too_many_attempts_client", policy.max_client_failures, (LoginFailure.client == client,)),
    ):
        oldest = _oldest_if_full(session, limit, now - window, *where)
        if oldest is not None:
            wait = max(1, math.ceil((oldest + window - now).total_seconds()))
            raise TooManyRequests(code, minutes=math.ceil(wait / 60), retry_after=wait)


def record_failure(session: Session, username: str, client: str) -> None:
    """Count a failed sign-in (the caller commits)."""
    now = utcnow()
    # This address's old failures go (through its own index): the table holds about a day.
    session.execute(
        delete(LoginFailure).where(LoginFailure.client == client, LoginFailure.at < now - _KEEP)
    )
    session.add(LoginFailure(username=username[:200], client=client[:64], at=now))


def forget_failures(session: Session, username: str, client: str) -> None:
    """After a sign-in that succeeded: this address's failures for this account no longer
    count (the caller commits)."""
    session.execute(
        delete(LoginFailure).where(LoginFailure.username == username, LoginFailure.client == client)
    )
