"""The security officer's PIN (SO PIN) of new tokens is never on disk outside demo mode: the
admin gives it for one operation, or the operator names a file outside the instance folder.
With it, ``pkcs11-tool --init-pin`` could reset a leader's PIN, so nothing may keep it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from docexchange.errors import ConfigurationError, DocExchangeError, InvalidInput
from docexchange.services.container import Services
from docexchange.services.keys import KeyMaterial
from docexchange.settings import Settings
from docexchange.web.app import create_app
from tests.conftest import Database, error_code, subprocess_env


def _keys(tmp_path: Path, **extra: Any) -> KeyMaterial:
    return KeyMaterial(hsm_dir=tmp_path / "hsm", pki_dir=tmp_path / "pki", module_path="", **extra)


def test_the_so_pin_comes_from_the_admin_the_operator_or_the_demo(tmp_path: Path) -> None:
    secret = tmp_path / "secrets" / "so_pin"
    secret.parent.mkdir()
    secret.write_text("operator-so-pin\n", encoding="ascii")
    with_file = _keys(tmp_path, so_pin_file=secret)
    assert with_file.so_pin("typed-by-admin", demo=False) == "typed-by-admin"
    assert with_file.so_pin(None, demo=False) == "operator-so-pin"
    assert with_file.so_pin_source == "file"

    bare = _keys(tmp_path)
    with pytest.raises(InvalidInput) as missing:
        bare.so_pin(None, demo=False)
    assert (missing.value.code, missing.value.params["field"]) == ("so_pin_required", "so_pin")
    assert not (tmp_path / "hsm" / "so_pin").exists()  # nothing was made up and kept
    demo = bare.so_pin(None, demo=True)
    assert len(demo) == 32 and bare.so_pin(None, demo=True) == demo  # the demo's, kept
    assert (tmp_path / "hsm" / "so_pin").stat().st_mode & 0o077 == 0

    secret.unlink()
    with pytest.raises(DocExchangeError) as unreadable:
        with_file.so_pin(None, demo=False)
    assert unreadable.value.code == "so_pin_file_unreadable"


def test_the_operator_file_may_not_lie_in_the_instance(tmp_path: Path) -> None:
    inside = Settings(instance_dir=tmp_path, token_so_pin_file=str(tmp_path / "hsm" / "so_pin"))
    with pytest.raises(ConfigurationError) as refused:
        _ = inside.so_pin_path
    assert refused.value.code == "config_secret_in_instance"
    outside = tmp_path.parent / "elsewhere" / "so_pin"
    assert Settings(instance_dir=tmp_path, token_so_pin_file=str(outside)).so_pin_path == outside


@pytest.mark.usefixtures("signing_tokens", "registered_certificates")
def test_without_an_operator_file_the_admin_types_the_so_pin(
    services: Services, as_user: Any
) -> None:
    keys = replace(services.keys, so_pin_file=None)
    app = create_app(services=replace(services, keys=keys))
    client: FlaskClient = app.test_client()
    admin = as_user("admin")
    client.post(
        "/api/v1/users",
        json={
            "username": "sp.lanhdao",
            "full_name": "Mai Văn Sơn",
            "unit_code": "000.00.00.H45",
            "password": "a-long-password-1",
            "roles": ["signer"],
        },
        headers=admin,
    )
    missing = client.post("/api/v1/users/sp.lanhdao/token", json={"pin": "135790"}, headers=admin)
    assert (missing.status_code, error_code(missing)) == (422, "so_pin_required")
    assert missing.get_json()["error"]["field"] == "so_pin"
    made = client.post(
        "/api/v1/users/sp.lanhdao/token",
        json={"pin": "135790", "so_pin": "officer-8642"},
        headers=admin,
    )
    assert made.status_code == 201, made.get_json()
    assert "officer-8642" not in made.get_data(as_text=True)


#: Run in a process of its own (one SoftHSM2 store per process): a non-demo instance,
#: initialised by ``docexchange init``, makes a person's and a unit's token over the API.
_PROVISION = textwrap.dedent(
    """
    from docexchange.services.container import build_services
    from docexchange.settings import load_settings
    from docexchange.web.app import create_app

    client = create_app(services=build_services(load_settings())).test_client()
    token = client.post(
        "/api/v1/auth/login", json={"username": "quantri", "password": "a-long-admin-password"}
    ).get_json()["token"]
    admin = {"Authorization": "Bearer " + token}
    made = client.post(
        "/api/v1/users",
        json={"username": "ld.tinh", "full_name": "Lê Văn Lãnh", "unit_code": "000.00.00.H45",
              "password": "a-long-password-1", "roles": ["signer"]},
        headers=admin,
    )
    assert made.status_code == 201, made.get_json()
    person = client.post(
        "/api/v1/users/ld.tinh/token", json={"pin": "PIN-of-the-leader"}, headers=admin
    )
    assert person.status_code == 201, person.get_json()
    unit = client.post(
        "/api/v1/units/000.00.00.H45/token",
        json={"pin": "PIN-of-the-seal", "so_pin": "SOPIN-typed-once"},
        headers=admin,
    )
    assert unit.status_code == 201, unit.get_json()
    print("provisioned")
    """
)


def test_an_instance_outside_demo_mode_holds_no_pin(
    fresh_database: Database, tmp_path: Path
) -> None:
    instance = tmp_path / "instance"
    secret = tmp_path / "operator" / "so_pin"
    secret.parent.mkdir()
    secret.write_text("SOPIN-from-the-operator\n", encoding="ascii")
    env = subprocess_env(
        {
            "DOCEXCHANGE_INSTANCE": str(instance),
            **fresh_database.env(),
            "DOCEXCHANGE_ARGON2_MEMORY_KIB": "8192",
            "DOCEXCHANGE_ARGON2_TIME_COST": "1",
            "DOCEXCHANGE_REQUIRE_TOTP_ROLES": "",
            "DOCEXCHANGE_TOKEN_SO_PIN_FILE": str(secret),
            "DOCEXCHANGE_ADMIN_USERNAME": "quantri",
            "DOCEXCHANGE_ADMIN_PASSWORD": "a-long-admin-password",
        }
    )
    script = Path(sys.executable).parent / "docexchange"
    init = subprocess.run(
        [str(script), "init", "--unit-code", "000.00.00.H45", "--unit-name", "UBND tỉnh Phú Thọ"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert init.returncode == 0, init.stdout + init.stderr
    done = subprocess.run(
        [sys.executable, "-c", _PROVISION],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0 and "provisioned" in done.stdout, done.stdout + done.stderr
    assert not (instance / "hsm" / "so_pin").exists()
    secrets_used = [b"SOPIN-from-the-operator", b"SOPIN-typed-once", b"PIN-of-the"]
    found = [
        (path.relative_to(instance), secret_bytes)
        for path in instance.rglob("*")
        if path.is_file()
        for secret_bytes in secrets_used
        if secret_bytes in path.read_bytes()
    ]
    assert found == []  # grep -r of the instance folder finds no PIN
    assert not any(s.decode() in done.stdout + done.stderr for s in secrets_used)
