"""Accounts on a real database: hashing, login audit, tokens, visibility."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from docexchange.domain.accounts import Role
from docexchange.errors import Forbidden, InvalidInput, Unauthorized
from docexchange.services import accounts
from docexchange.services.container import Services
from docexchange.services.demo import DEMO_PASSWORD
from docexchange.storage.base import utcnow
from docexchange.storage.models import ApiToken, AuditEvent, User


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    assert user is not None
    return user


def test_passwords_are_stored_as_argon2id_only(
    session: Session, services: Services, demo: None
) -> None:
    user = _user(session, "pt.vanthu")
    assert user.password_hash.startswith("$argon2id$")
    assert DEMO_PASSWORD not in user.password_hash


def test_login_failures_do_not_say_which_part_was_wrong(
    session: Session, services: Services, demo: None
) -> None:
    codes = set()
    for username, password in [("pt.vanthu", "wrong-password-1"), ("nobody", DEMO_PASSWORD)]:
        with pytest.raises(Unauthorized) as info:
            accounts.authenticate(
                session,
                username,
                password,
                hasher=services.hasher,
                channel="api",
                client="192.0.2.1",
            )
        codes.add((info.value.code, tuple(info.value.params)))
    assert codes == {("invalid_credentials", ())}


def test_every_login_is_audited(session: Session, services: Services, demo: None) -> None:
    accounts.authenticate(
        session,
        "pt.vanthu",
        DEMO_PASSWORD,
        hasher=services.hasher,
        channel="ui",
        client="192.0.2.1",
    )
    with pytest.raises(Unauthorized):
        accounts.authenticate(
            session,
            "pt.vanthu",
            "not-the-password",
            hasher=services.hasher,
            channel="api",
            client="192.0.2.1",
        )
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action.like("login.%")).order_by(AuditEvent.seq)
    ).all()
    assert [(e.action, e.actor, e.target) for e in events] == [
        ("login.success", "pt.vanthu", None),
        ("login.failure", None, "pt.vanthu"),
    ]
    assert events[1].details == {
        "channel": "api",
        "reason": "wrong_password",
        "client": "192.0.2.1",
    }
    assert "not-the-password" not in str([e.details for e in events])


def test_disabled_account_cannot_sign_in(session: Session, services: Services, demo: None) -> None:
    _user(session, "cm.vanthu").active = False
    session.commit()
    with pytest.raises(Unauthorized):
        accounts.authenticate(
            session,
            "cm.vanthu",
            DEMO_PASSWORD,
            hasher=services.hasher,
            channel="api",
            client="192.0.2.1",
        )


def test_tokens_expire_and_are_revocable(session: Session, services: Services, demo: None) -> None:
    user = _user(session, "pt.vanthu")
    issued = accounts.issue_token(session, user, ttl_seconds=60)
    assert accounts.resolve_token(session, issued.token).username == "pt.vanthu"
    stored = session.scalar(select(ApiToken))
    assert stored is not None and stored.token_hash != issued.token
    session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    with pytest.raises(Unauthorized) as info:
        accounts.resolve_token(session, issued.token)
    assert info.value.code == "token_expired"
    second = accounts.issue_token(session, user, ttl_seconds=60)
    actor = accounts.actor_for(_user(session, "admin"))
    assert accounts.revoke_user_tokens(session, "pt.vanthu", actor=actor) == 1
    with pytest.raises(Unauthorized) as info:
        accounts.resolve_token(session, second.token)
    assert info.value.code == "token_revoked"
    with pytest.raises(Unauthorized) as info:
        accounts.resolve_token(session, "made-up")
    assert info.value.code == "token_invalid"


def test_visibility_of_users_by_role_and_unit(session: Session, demo: None) -> None:
    commune_clerk = accounts.actor_for(_user(session, "cm.vanthu"))
    auditor = accounts.actor_for(_user(session, "thanhtra"))
    district_clerk = accounts.actor_for(_user(session, "dh.vanthu"))
    assert {
        u.username
        for u in accounts.list_users(session, unit_code="000.21.12.H45", actor=commune_clerk)
    } == {
        "cm.lanhdao",
        "cm.vanthu",
    }
    with pytest.raises(Forbidden):
        accounts.list_users(session, unit_code="000.22.12.H45", actor=commune_clerk)
    # The auditor at the province sees its whole subtree.
    assert len(accounts.list_users(session, unit_code="000.22.12.H45", actor=auditor)) == 2
    # A district clerk is not an auditor: its communes' people are not its business.
    with pytest.raises(Forbidden):
        accounts.list_users(session, unit_code="000.21.12.H45", actor=district_clerk)


def test_new_users_are_validated(session: Session, services: Services, demo: None) -> None:
    base = {
        "username": "xa.moi",
        "password": "long-enough-password",
        "full_name": "Người Mới",
        "unit_code": "000.21.12.H45",
        "roles": ["clerk"],
    }
    for change, code in [
        ({"password": "short"}, "weak_password"),
        ({"roles": ["king"]}, "invalid_role"),
        ({"username": "A B"}, "invalid_username"),
        ({"roles": []}, "invalid_field"),
        ({"full_name": ""}, "missing_field"),
    ]:
        with pytest.raises(InvalidInput) as info:
            accounts.NewUser.from_mapping({**base, **change})
        assert info.value.code == code
    admin = accounts.actor_for(_user(session, "admin"))
    clerk = accounts.actor_for(_user(session, "pt.vanthu"))
    with pytest.raises(Forbidden):
        accounts.create_user(
            session, accounts.NewUser.from_mapping(base), hasher=services.hasher, actor=clerk
        )
    created = accounts.create_user(
        session, accounts.NewUser.from_mapping(base), hasher=services.hasher, actor=admin
    )
    assert created.role_names == {Role.CLERK.value}
