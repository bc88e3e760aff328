"""The demo directory and accounts of DESIGN.md §7, written idempotently."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from docexchange.domain.accounts import Role
from docexchange.errors import Conflict
from docexchange.services import accounts, audit, directory, tokens
from docexchange.services.keys import KeyMaterial, unit_token_label, user_token_label
from docexchange.storage.models import User, UserRole

__all__ = ["DEMO_PASSWORD", "DEMO_UNITS", "DEMO_USERS", "DemoUser", "apply_demo"]

logger = logging.getLogger(__name__)

#: Shown on the login page of demo instances only; never valid outside demo mode.
DEMO_PASSWORD = "demo-Password-1"  # noqa: S105 - documented demo credential
DEMO_PIN = "123456"

PROVINCE = "000.00.00.H45"
DISTRICT = "000.00.12.H45"

DEMO_UNITS: list[dict[str, str | None]] = [
    {
        "code": PROVINCE,
        "name": "UBND tỉnh Phú Thọ",
        "abbreviation": "UBND",
        "level": "province",
        "parent_code": None,
    },
    {
        "code": DISTRICT,
        "name": "UBND huyện Đoan Hùng",
        "abbreviation": "UBND",
        "level": "district",
        "parent_code": PROVINCE,
    },
    {
        "code": "000.21.12.H45",
        "name": "UBND xã Chân Mộng",
        "abbreviation": "UBND",
        "level": "commune",
        "parent_code": DISTRICT,
    },
    {
        "code": "000.22.12.H45",
        "name": "UBND xã Minh Lương",
        "abbreviation": "UBND",
        "level": "commune",
        "parent_code": DISTRICT,
    },
]


@dataclass(frozen=True)
class DemoUser:
    """One demo account."""

    username: str
    full_name: str
    position: str
    unit_code: str
    roles: tuple[Role, ...]


DEMO_USERS: list[DemoUser] = [
    DemoUser("pt.lanhdao", "Nguyễn Văn Tỉnh", "Chủ tịch", PROVINCE, (Role.SIGNER,)),
    DemoUser("pt.vanthu", "Trần Thị Thư", "Văn thư", PROVINCE, (Role.CLERK,)),
    DemoUser("dh.lanhdao", "Lê Văn Huyện", "Chủ tịch", DISTRICT, (Role.SIGNER,)),
    DemoUser("dh.vanthu", "Phạm Thị Hùng", "Văn thư", DISTRICT, (Role.CLERK,)),
    DemoUser("cm.lanhdao", "Hoàng Văn Mộng", "Chủ tịch", "000.21.12.H45", (Role.SIGNER,)),
    DemoUser("cm.vanthu", "Đỗ Thị Chân", "Văn thư", "000.21.12.H45", (Role.CLERK,)),
    DemoUser("ml.lanhdao", "Vũ Văn Lương", "Chủ tịch", "000.22.12.H45", (Role.SIGNER,)),
    DemoUser("ml.vanthu", "Bùi Thị Minh", "Văn thư", "000.22.12.H45", (Role.CLERK,)),
    DemoUser("admin", "Quản trị hệ thống", "Quản trị viên", PROVINCE, (Role.ADMIN,)),
    DemoUser("thanhtra", "Đặng Văn Tra", "Thanh tra viên", PROVINCE, (Role.AUDITOR,)),
]


def apply_demo(
    session: Session, *, hasher: PasswordHasher, keys: KeyMaterial | None = None
) -> dict[str, int]:
    """Create or refresh the demo units and accounts; running it twice changes nothing.

    Existing demo accounts get their demo password, unit and roles back. With ``keys``,
    every demo account and unit also gets a token (PIN ``123456``) with a certificate from
    the demo CA, unless it has one.
    """
    rows = [directory.UnitInput.from_mapping(u) for u in DEMO_UNITS]
    result = directory.import_tree(session, rows, actor=None, source="demo")
    created = refreshed = 0
    for spec in DEMO_USERS:
        user = session.scalar(select(User).where(User.username == spec.username))
        if user is None:
            accounts.create_user(
                session,
                accounts.NewUser(
                    username=spec.username,
                    password=DEMO_PASSWORD,
                    full_name=spec.full_name,
                    unit_code=spec.unit_code,
                    roles=frozenset(spec.roles),
                    position=spec.position,
                ),
                hasher=hasher,
                actor=None,
            )
            created += 1
            continue
        wanted_roles = {r.value for r in spec.roles}
        password_ok = _verifies(hasher, user.password_hash)
        if (
            password_ok
            and user.unit_code == spec.unit_code
            and user.role_names == wanted_roles
            and user.active
        ):
            continue
        if not password_ok:
            user.password_hash = hasher.hash(DEMO_PASSWORD)
        user.unit_code = spec.unit_code
        user.full_name = spec.full_name
        user.position = spec.position
        user.active = True
        user.roles = [UserRole(role=r) for r in sorted(wanted_roles)]
        session.flush()
        accounts.sync_role_history(session, user)
        audit.record(session, actor="system", action="user.demo_refresh", target=spec.username)
        session.commit()
        refreshed += 1
    tokens_created = 0
    if keys is not None:
        for spec in DEMO_USERS:
            tokens_created += _ensure(
                session,
                functools.partial(
                    tokens.provision_user_token,
                    session,
                    spec.username,
                    DEMO_PIN,
                    keys=keys,
                    actor=None,
                    demo=True,
                ),
                functools.partial(
                    tokens.register_existing_token,
                    session,
                    user_token_label(spec.username),
                    keys=keys,
                    username=spec.username,
                ),
            )
        for unit in DEMO_UNITS:
            tokens_created += _ensure(
                session,
                functools.partial(
                    tokens.provision_unit_token,
                    session,
                    str(unit["code"]),
                    DEMO_PIN,
                    keys=keys,
                    actor=None,
                    demo=True,
                ),
                functools.partial(
                    tokens.register_existing_token,
                    session,
                    unit_token_label(str(unit["code"])),
                    keys=keys,
                    unit_code=str(unit["code"]),
                ),
            )
    logger.info("demo data: %d units created, %d users created", result.created, created)
    return {
        "units_created": result.created,
        "users_created": created,
        "users_refreshed": refreshed,
        "tokens_created": tokens_created,
    }


def _ensure(
    session: Session, provision: Callable[[], object], register: Callable[[], object]
) -> int:
    """Make the token (1), or register the existing token's certificate here (0)."""
    try:
        provision()
    except Conflict as exc:
        if exc.code != "token_exists":
            raise
        session.rollback()
        register()
        return 0
    return 1


def _verifies(hasher: PasswordHasher, stored: str) -> bool:
    try:
        return hasher.verify(stored, DEMO_PASSWORD)
    except Exception:
        return False
