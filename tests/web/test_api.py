"""The API contract end to end through the Flask test client."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select, update

from docexchange.services.container import Services
from docexchange.storage.base import utcnow
from docexchange.storage.models import ApiToken, AuditEvent
from tests.conftest import auth, error_code, login_token

Headers = Any


def test_health_reports_database_readiness(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"]["ready"] is True
    assert body["database"]["revision"] == body["database"]["expected_revision"]


def test_login_returns_a_token_and_the_user(client: FlaskClient, demo: None) -> None:
    response = client.post(
        "/api/v1/auth/login", json={"username": "pt.vanthu", "password": "demo-Password-1"}
    )
    assert response.status_code == 200
    body = response.get_json()
    assert len(body["token"]) >= 40
    assert body["user"] == {
        "username": "pt.vanthu",
        "full_name": "Trần Thị Thư",
        "unit_code": "000.00.00.H45",
        "roles": ["clerk"],
    }
    me = client.get("/api/v1/me", headers=auth(body["token"]))
    assert me.get_json()["username"] == "pt.vanthu"
    assert "password" not in str(me.get_json())


def test_wrong_password_and_unknown_user_look_the_same(client: FlaskClient, demo: None) -> None:
    answers = []
    for username, password in [("pt.vanthu", "wrong"), ("ghost", "demo-Password-1")]:
        response = client.post(
            "/api/v1/auth/login", json={"username": username, "password": password}
        )
        assert response.status_code == 401
        body = response.get_json()
        assert body["error"].pop("request_id") == response.headers["X-Request-Id"]
        answers.append(body)
    assert answers[0] == answers[1]  # nothing but the request's own id differs
    assert answers[0]["error"]["code"] == "invalid_credentials"
    assert answers[0]["error"]["message_vi"] == "Sai tên đăng nhập hoặc mật khẩu."


def test_units_by_parent_lists_exactly_the_two_communes(client: FlaskClient, as_user: Any) -> None:
    response = client.get("/api/v1/units?parent=000.00.12.H45", headers=as_user("pt.vanthu"))
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert [(u["code"], u["name"], u["level"], u["parent_code"]) for u in items] == [
        ("000.21.12.H45", "UBND xã Chân Mộng", "commune", "000.00.12.H45"),
        ("000.22.12.H45", "UBND xã Minh Lương", "commune", "000.00.12.H45"),
    ]
    assert set(items[0]) >= {"code", "name", "abbreviation", "level", "parent_code"}


def test_any_api_call_without_a_token_is_401(client: FlaskClient, demo: None) -> None:
    for method, path in [
        ("get", "/api/v1/units"),
        ("post", "/api/v1/units"),
        ("get", "/api/v1/users"),
        ("get", "/api/v1/units/000.00.00.H45"),
        ("get", "/api/v1/units/export"),
        ("post", "/api/v1/recipients/resolve"),
    ]:
        response = getattr(client, method)(path)
        assert response.status_code == 401, path
        assert error_code(response) == "authentication_required"
    bad = client.get("/api/v1/units", headers={"Authorization": "Bearer nonsense"})
    assert (bad.status_code, error_code(bad)) == (401, "token_invalid")


def test_expired_and_revoked_tokens_are_refused(
    client: FlaskClient, services: Services, demo: None
) -> None:
    token = login_token(client, "pt.vanthu")
    with services.sessions() as s:
        s.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(minutes=1)))
        s.commit()
    response = client.get("/api/v1/units", headers=auth(token))
    assert (response.status_code, error_code(response)) == (401, "token_expired")
    token = login_token(client, "pt.vanthu")
    assert client.post("/api/v1/auth/logout", headers=auth(token)).status_code == 204
    response = client.get("/api/v1/units", headers=auth(token))
    assert (response.status_code, error_code(response)) == (401, "token_revoked")


def test_commune_clerk_cannot_list_another_units_users(client: FlaskClient, as_user: Any) -> None:
    headers = as_user("cm.vanthu")
    response = client.get("/api/v1/users?unit=000.22.12.H45", headers=headers)
    assert (response.status_code, error_code(response)) == (403, "unit_forbidden")
    own = client.get("/api/v1/users?unit=000.21.12.H45", headers=headers)
    assert own.status_code == 200
    assert {u["username"] for u in own.get_json()["items"]} == {"cm.lanhdao", "cm.vanthu"}
    auditor = client.get("/api/v1/users?unit=000.22.12.H45", headers=as_user("thanhtra"))
    assert auditor.status_code == 200


def test_admin_creates_units_and_errors_are_coded(client: FlaskClient, as_user: Any) -> None:
    admin = as_user("admin")
    new = {
        "code": "000.23.12.H45",
        "name": "UBND xã Mới",
        "abbreviation": "UBND",
        "level": "commune",
        "parent_code": "000.00.12.H45",
    }
    created = client.post("/api/v1/units", json=new, headers=admin)
    assert created.status_code == 201
    assert created.get_json()["identifier"]["structural_parent"] == "000.00.12.H45"
    cases = [
        ({**new, "code": "12.34"}, 422, "invalid_unit_code"),
        ({**new, "code": "000.24.12.H45", "parent_code": "000.00.99.H45"}, 422, "parent_not_found"),
        (new, 409, "unit_exists"),
        ({**new, "code": "000.24.12.H45", "level": "hamlet"}, 422, "invalid_unit_level"),
        ({**new, "code": "000.24.12.H45", "name": ""}, 422, "missing_field"),
        ({**new, "code": "000.24.12.H45", "valid_from": "01/07/2025"}, 422, "invalid_date"),
    ]
    for body, status, code in cases:
        response = client.post("/api/v1/units", json=body, headers=admin)
        assert (response.status_code, error_code(response)) == (status, code), body
    not_json = client.post("/api/v1/units", data="code=1", headers=admin)
    assert (not_json.status_code, error_code(not_json)) == (422, "invalid_json")
    clerk = client.post(
        "/api/v1/units", json={**new, "code": "000.25.12.H45"}, headers=as_user("pt.vanthu")
    )
    assert (clerk.status_code, error_code(clerk)) == (403, "role_required")


def test_cycles_are_refused_through_the_api(client: FlaskClient, as_user: Any) -> None:
    admin = as_user("admin")
    response = client.patch(
        "/api/v1/units/000.00.00.H45", json={"parent_code": "000.21.12.H45"}, headers=admin
    )
    # A province may not sit under a commune at all; put a department chain in a loop instead.
    assert response.status_code == 422
    for code, parent in [("000.00.01.H45", "000.00.00.H45"), ("000.00.02.H45", "000.00.01.H45")]:
        body = {
            "code": code,
            "name": code,
            "abbreviation": "VP",
            "level": "department",
            "parent_code": parent,
        }
        assert client.post("/api/v1/units", json=body, headers=admin).status_code == 201
    loop = client.patch(
        "/api/v1/units/000.00.01.H45", json={"parent_code": "000.00.02.H45"}, headers=admin
    )
    assert (loop.status_code, error_code(loop)) == (409, "unit_cycle")
    self_loop = client.patch(
        "/api/v1/units/000.00.01.H45", json={"parent_code": "000.00.01.H45"}, headers=admin
    )
    assert (self_loop.status_code, error_code(self_loop)) == (409, "unit_cycle")


def test_unknown_unit_and_malformed_code_in_the_path(client: FlaskClient, as_user: Any) -> None:
    headers = as_user("pt.vanthu")
    missing = client.get("/api/v1/units/000.99.99.H45", headers=headers)
    assert (missing.status_code, error_code(missing)) == (404, "unit_not_found")
    bad = client.get("/api/v1/units/not-a-code", headers=headers)
    assert (bad.status_code, error_code(bad)) == (422, "invalid_unit_code")
    unknown_parent = client.get("/api/v1/units?parent=000.99.99.H45", headers=headers)
    assert (unknown_parent.status_code, error_code(unknown_parent)) == (404, "unit_not_found")


def test_import_and_export_in_one_call(
    client: FlaskClient, as_user: Any, services: Services
) -> None:
    admin = as_user("admin")
    exported = client.get("/api/v1/units/export?format=csv", headers=admin)
    assert exported.status_code == 200
    assert exported.mimetype == "text/csv"
    text = exported.data.decode("utf-8-sig")
    assert (
        text.splitlines()[0]
        == "code,name,abbreviation,level,parent_code,valid_from,valid_to,successor_code"
    )
    extra = text + "000.23.12.H45,UBND xã Mới,UBND,commune,000.00.12.H45,,,\r\n"
    response = client.post(
        "/api/v1/units/import",
        data={"file": (io.BytesIO(extra.encode()), "tree.csv")},
        headers=admin,
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"created": 1, "updated": 0, "unchanged": 4}
    as_json = client.get("/api/v1/units/export", headers=admin).get_json()
    assert len(as_json["units"]) == 5
    again = client.post("/api/v1/units/import", json=as_json, headers=admin)
    assert again.get_json() == {"created": 0, "updated": 0, "unchanged": 5}
    with services.sessions() as s:
        actions = s.scalars(
            select(AuditEvent.action).where(AuditEvent.action == "unit.import")
        ).all()
    assert len(actions) == 3  # demo + two imports


def test_bad_import_files_get_clear_errors(client: FlaskClient, as_user: Any, app: Any) -> None:
    admin = as_user("admin")
    broken = client.post(
        "/api/v1/units/import",
        data=b"code,name\n1,2",
        headers={**admin, "Content-Type": "text/csv"},
    )
    assert (broken.status_code, error_code(broken)) == (422, "import_malformed")
    assert "row" in broken.get_json()["error"]["message"].lower()
    wrong_type = client.post(
        "/api/v1/units/import", data=b"<x/>", headers={**admin, "Content-Type": "application/xml"}
    )
    assert (wrong_type.status_code, error_code(wrong_type)) == (422, "import_unsupported_format")
    app.config["MAX_CONTENT_LENGTH"] = 1024
    huge = client.post(
        "/api/v1/units/import", data=b"x" * 4096, headers={**admin, "Content-Type": "text/csv"}
    )
    assert (huge.status_code, error_code(huge)) == (413, "payload_too_large")
    clerk = client.post("/api/v1/units/import", json=[], headers=as_user("pt.vanthu"))
    assert (clerk.status_code, error_code(clerk)) == (403, "role_required")


def test_groups_and_selectors(client: FlaskClient, as_user: Any) -> None:
    admin = as_user("admin")
    created = client.post(
        "/api/v1/groups",
        json={"name": "xa-doan-hung", "members": ["000.21.12.H45", "000.22.12.H45"]},
        headers=admin,
    )
    assert created.status_code == 201
    dup = client.post(
        "/api/v1/groups", json={"name": "xa-doan-hung", "members": ["000.21.12.H45"]}, headers=admin
    )
    assert (dup.status_code, error_code(dup)) == (409, "group_exists")
    clerk = as_user("pt.vanthu")
    resolved = client.post(
        "/api/v1/recipients/resolve",
        json={
            "recipients": ["group:xa-doan-hung", "children:000.00.00.H45", "communes:000.00.00.H45"]
        },
        headers=clerk,
    )
    assert [u["code"] for u in resolved.get_json()["items"]] == [
        "000.21.12.H45",
        "000.22.12.H45",
        "000.00.12.H45",
    ]
    bad = client.post(
        "/api/v1/recipients/resolve", json={"recipients": ["village:1"]}, headers=clerk
    )
    assert (bad.status_code, error_code(bad)) == (422, "invalid_selector")
    edit = client.put(
        "/api/v1/groups/xa-doan-hung", json={"members": ["000.22.12.H45"]}, headers=clerk
    )
    assert (edit.status_code, error_code(edit)) == (403, "role_required")
    edit = client.put(
        "/api/v1/groups/xa-doan-hung", json={"members": ["000.22.12.H45"]}, headers=admin
    )
    assert edit.get_json()["members"] == ["000.22.12.H45"]
    assert client.delete("/api/v1/groups/xa-doan-hung", headers=admin).status_code == 204
    gone = client.get("/api/v1/groups/xa-doan-hung", headers=admin)
    assert (gone.status_code, error_code(gone)) == (404, "group_not_found")


def test_admin_creates_users(client: FlaskClient, as_user: Any) -> None:
    admin = as_user("admin")
    body = {
        "username": "cm.chuyenvien",
        "password": "a-long-password-1",
        "full_name": "Ngô Văn Viên",
        "position": "Chuyên viên",
        "unit_code": "000.21.12.H45",
        "roles": ["specialist"],
    }
    created = client.post("/api/v1/users", json=body, headers=admin)
    assert created.status_code == 201
    assert created.get_json()["roles"] == ["specialist"]
    assert "password" not in created.get_json()
    dup = client.post("/api/v1/users", json=body, headers=admin)
    assert (dup.status_code, error_code(dup)) == (409, "user_exists")
    nowhere = client.post(
        "/api/v1/users",
        json={**body, "username": "x.y.z", "unit_code": "000.99.99.H45"},
        headers=admin,
    )
    assert (nowhere.status_code, error_code(nowhere)) == (404, "unit_not_found")
    assert login_token(client, "cm.chuyenvien", "a-long-password-1")


def test_unknown_route_and_method_are_coded(client: FlaskClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert (response.status_code, error_code(response)) == (404, "route_not_found")
    response = client.delete("/api/v1/auth/login")
    assert (response.status_code, error_code(response)) == (405, "method_not_allowed")


def test_openapi_document_is_valid_and_covers_every_route(client: FlaskClient, app: Any) -> None:
    from openapi_spec_validator import validate

    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    validate(spec)
    documented = {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method != "parameters"
    }
    served = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = "/" + rule.rule[len("/api/v1/") :]
        path = path.replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            served.add((method, path))
    assert served - documented == set()


def test_repeated_failed_logins_are_throttled_per_account(
    client: FlaskClient, demo: None, services: Services
) -> None:
    limit = services.login_policy.max_failures
    for _ in range(limit):
        response = client.post(
            "/api/v1/auth/login", json={"username": "cm.vanthu", "password": "guess"}
        )
        assert response.status_code == 401
    blocked = client.post(
        "/api/v1/auth/login", json={"username": "cm.vanthu", "password": "demo-Password-1"}
    )
    assert (blocked.status_code, error_code(blocked)) == (429, "too_many_attempts")
    assert "Thử lại sau 15 phút" in blocked.get_json()["error"]["message_vi"]
    # Another account is not affected.
    assert login_token(client, "ml.vanthu")
    with services.sessions() as s:
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.target == "cm.vanthu")).all()
    assert actions.count("login.failure") == limit and actions.count("login.throttled") == 1


def test_hostile_bodies_and_queries_get_coded_4xx(client: FlaskClient, as_user: Any) -> None:
    """The probes of issue 12 that answered 500: deep nesting (even at the unauthenticated
    login), lone surrogates, a boolean for a name, report periods at the calendar's ends."""
    admin = as_user("admin")
    deep = "[" * 100_000 + "]" * 100_000
    for path, headers in (("/api/v1/auth/login", {}), ("/api/v1/units", admin)):
        refused = client.post(
            path, data=deep, headers={**headers, "Content-Type": "application/json"}
        )
        assert (refused.status_code, error_code(refused)) == (422, "json_too_deep"), path
    unit = {"code": "000.00.01.H45", "abbreviation": "S", "level": "department"}
    surrogate = client.post(
        "/api/v1/units",
        data='{"name": "S\\ud800", "code": "000.00.01.H45", "abbreviation": "S", '
        '"level": "department"}',
        headers={**admin, "Content-Type": "application/json"},
    )
    assert (surrogate.status_code, error_code(surrogate)) == (422, "invalid_unicode")
    boolean = client.post("/api/v1/units", json={**unit, "name": True}, headers=admin)
    assert (boolean.status_code, error_code(boolean)) == (422, "invalid_field")
    assert client.get("/api/v1/units/000.00.01.H45", headers=admin).status_code == 404
    for span in (
        {"from": "0001-01-01"},
        {"to": "9999-12-31"},
        {"from": "0001-01-01", "period": "year"},
    ):
        answer = client.get(
            "/api/v1/reports/electronic-ratio", query_string=span, headers=as_user("thanhtra")
        )
        assert (answer.status_code, error_code(answer)) == (422, "invalid_date"), span


def test_the_directory_csv_quotes_formulas_and_reads_them_back(
    client: FlaskClient, as_user: Any
) -> None:
    admin = as_user("admin")
    formula = '=HYPERLINK("http://127.0.0.1:9/x","Xem")'
    renamed = client.patch("/api/v1/units/000.21.12.H45", json={"name": formula}, headers=admin)
    assert renamed.status_code == 200, renamed.get_json()
    text = client.get("/api/v1/units/export?format=csv", headers=admin).data.decode("utf-8-sig")
    [line] = [line for line in text.splitlines() if line.startswith("000.21.12.H45,")]
    assert line.split(",")[1].startswith("\"'=HYPERLINK(")  # text in a spreadsheet
    again = client.post(
        "/api/v1/units/import",
        data={"file": (io.BytesIO(text.encode()), "tree.csv")},
        headers=admin,
        content_type="multipart/form-data",
    )
    assert again.get_json() == {"created": 0, "updated": 0, "unchanged": 4}  # read back as it was
    unit = client.get("/api/v1/units/000.21.12.H45", headers=admin).get_json()
    assert unit["name"] == formula


def test_text_no_database_can_store_is_refused_before_any_view(
    client: FlaskClient, as_user: Any
) -> None:
    """A NUL in a path, a query or a form answers 422 on SQLite and PostgreSQL alike (it
    used to reach PostgreSQL and fail there with a 500)."""
    admin = as_user("admin")
    for answer in (
        client.get("/api/v1/documents/%00", headers=admin),
        client.get("/api/v1/users?unit=%00", headers=admin),
        client.post("/api/v1/groups", json={"name": "a\u0000", "members": []}, headers=admin),
        client.post("/login", data={"username": "admin\x00", "password": "x"}),
    ):
        assert answer.status_code == 422, answer.data[:200]
    refused = client.get("/api/v1/groups/%00", headers=admin)
    assert error_code(refused) == "invalid_character"
    assert "NUL" in refused.get_json()["error"]["message_vi"]
