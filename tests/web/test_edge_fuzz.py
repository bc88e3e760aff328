"""Every endpoint of the OpenAPI document, driven with generated and hostile input.

For each operation the contract lists, hypothesis builds requests from what the contract
says it takes — path and query parameters, the JSON body's properties, multipart fields,
raw bodies — filled with hostile values: deep nesting, lone surrogates, huge and tiny
numbers, extreme and impossible dates, wrong types, CRLF, formula-like text, invalid UTF-8 in
the URL. Whoever asks (an admin, a clerk, a leader, nobody), the answer is never a 5xx, and
every refusal carries the contract's error object in Vietnamese and English.

Examples are derandomised (the same on every run, CI included) and no example database is
kept; ``DOCEXCHANGE_FUZZ_EXAMPLES`` asks for more of them locally.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.data.samples import MINIMAL_PDF, make_pdf
from tests.unit.test_hostile_input import _tree

CONTRACT = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "schemas" / "openapi.yaml").read_text(encoding="utf-8")
)
EXAMPLES = int(os.environ.get("DOCEXCHANGE_FUZZ_EXAMPLES", "60"))
METHODS = ("get", "post", "put", "patch", "delete")

HOSTILE_TEXT = [
    "\ud800",  # a lone surrogate: cannot be encoded
    "\udfff\ud800",
    "\r\nSet-Cookie: x=1",
    "line\nbreak\r",
    "0001-01-01",
    "9999-12-31",
    "2027-02-30",
    "1900-01-01",
    '=HYPERLINK("http://example.invalid")',
    "+SUM(1)",
    "@cmd",
    "x" * 5000,
    "000.00.00.H45",
    "000.00.12.H45",
    "children:000.00.00.H45",
    "communes:000.00.12.H45",
    "group:nope",
    "../../etc/passwd",
    "\x00",
    "<script>alert(1)</script>",
    "admin",
    "pt.vanthu",
    "1e309",
    "NaN",
    "",
    " ",
]
#: What a form field can carry (a lone surrogate cannot be encoded into a request at all).
ENCODABLE = [t for t in HOSTILE_TEXT if not re.search("[\ud800-\udfff]", t)]
#: Query values sent as they are (already percent-encoded): invalid UTF-8, NUL, a surrogate.
RAW_QUERY = ["%ED%A0%80", "%FF%FE", "%00", "%C0%AF", "%25", "%0D%0ASet-Cookie:%20x"]
RAW_BODIES = [
    b"[" * 100_000,
    b'{"a":' * 5_000,
    b"\xff\xfe\x00",
    b"NaN",
    b'{"x": NaN, "y": Infinity}',
    b'{"pin": 1e999}',
    b'"\\ud800"',
    b"",
    b"null",
    b"[]",
    b"{" + b'"k":1,' * 20_000 + b'"k":1}',
]
PDFS = [MINIMAL_PDF, b"%PDF-1.7\n garbage", b"", _tree(5000), make_pdf(3), b"\x89PNG\r\n\x1a\n"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(HOSTILE_TEXT),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)
path_values = st.one_of(st.sampled_from(ENCODABLE), st.text(min_size=1, max_size=30))


def _resolve(node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = CONTRACT
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def _operations() -> list[tuple[str, str, dict[str, Any], list[dict[str, Any]]]]:
    found = []
    for path, item in CONTRACT["paths"].items():
        shared = [_resolve(p) for p in item.get("parameters", [])]
        for method in METHODS:
            if method in item:
                operation = item[method]
                own = [_resolve(p) for p in operation.get("parameters", [])]
                found.append((method, path, operation, shared + own))
    return found


def _json_body(schema: dict[str, Any]) -> st.SearchStrategy[bytes]:
    properties = sorted((_resolve(schema).get("properties") or {}).keys())
    shaped = st.fixed_dictionaries({}, optional=dict.fromkeys(properties, json_values))
    as_json = st.one_of(shaped, json_values).map(lambda v: json.dumps(v).encode())
    return st.one_of(as_json, st.sampled_from(RAW_BODIES))


def _body(operation: dict[str, Any]) -> st.SearchStrategy[tuple[str | None, Any]]:
    """(content type, body) for what the operation takes; ``None``: no body."""
    content = (operation.get("requestBody") or {}).get("content") or {}
    options: list[st.SearchStrategy[tuple[str | None, Any]]] = [st.just((None, None))]
    for kind, media in content.items():
        if kind == "application/json":
            options.append(_json_body(media.get("schema") or {}).map(lambda b, k=kind: (k, b)))
        elif kind == "multipart/form-data":
            fields = sorted((_resolve(media.get("schema") or {}).get("properties") or {}).keys())
            form = st.fixed_dictionaries(
                {},
                optional={
                    name: st.sampled_from(PDFS)
                    if name == "file"
                    else st.one_of(json_values.map(json.dumps), st.sampled_from(ENCODABLE))
                    for name in fields
                },
            )
            options.append(form.map(lambda f: ("multipart/form-data", f)))
        else:  # text/csv, application/xml, image/png: raw bytes
            options.append(st.sampled_from([*RAW_BODIES, *PDFS]).map(lambda b, k=kind: (k, b)))
    return st.one_of(options)


def _query(parameters: list[dict[str, Any]]) -> st.SearchStrategy[str]:
    names = [p["name"] for p in parameters if p.get("in") == "query"]
    if not names:
        return st.just("")
    value = st.one_of(
        st.sampled_from(ENCODABLE).map(lambda v: quote(v, safe="")),
        st.text(max_size=20).map(lambda v: quote(v, safe="")),
        st.sampled_from(RAW_QUERY),
    )
    pairs = st.lists(st.tuples(st.sampled_from(names), value), max_size=len(names) + 1)
    return pairs.map(lambda ps: "&".join(f"{k}={v}" for k, v in ps))


def _check_answer(response: Any, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code} {response.data[:300]!r}"
    if response.status_code >= 400 and response.mimetype == "application/json":
        error = (response.get_json() or {}).get("error")
        assert isinstance(error, dict), what
        assert {"code", "message", "message_vi"} <= set(error), what
        assert all(isinstance(error[k], str) and error[k] for k in ("code", "message")), what


@pytest.mark.parametrize(
    ("method", "path", "operation", "parameters"),
    [pytest.param(*op, id=f"{op[0].upper()} {op[1]}") for op in _operations()],
)
def test_no_input_makes_an_endpoint_fail_with_a_server_error(
    client: FlaskClient,
    as_user: Any,
    caplog: pytest.LogCaptureFixture,
    method: str,
    path: str,
    operation: dict[str, Any],
    parameters: list[dict[str, Any]],
) -> None:
    callers = {
        "nobody": {},
        "admin": as_user("admin"),
        "clerk": as_user("pt.vanthu"),
        "leader": as_user("pt.lanhdao"),
    }
    names = re.findall(r"\{(\w+)\}", path)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        caller=st.sampled_from(sorted(callers)),
        values=st.fixed_dictionaries(dict.fromkeys(names, path_values)),
        query=_query(parameters),
        body=_body(operation),
        consignment=st.one_of(st.none(), st.sampled_from(ENCODABLE)),
    )
    def probe(
        caller: str,
        values: dict[str, str],
        query: str,
        body: tuple[str | None, Any],
        consignment: str | None,
    ) -> None:
        url = "/api/v1" + path
        for name, value in values.items():
            url = url.replace("{" + name + "}", quote(value, safe=""))
        if query:
            url += "?" + query
        headers = dict(callers[caller])
        if consignment is not None:
            headers["X-Consignment-Id"] = consignment.replace("\r", "").replace("\n", "")
        kind, data = body
        if kind == "multipart/form-data":
            data = {
                k: (io.BytesIO(v), "f.pdf") if isinstance(v, bytes) else v for k, v in data.items()
            }
        response = client.open(
            url, method=method.upper(), data=data, headers=headers, content_type=kind
        )
        _check_answer(response, f"{method.upper()} {url[:200]} as {caller}")

    probe()
    # And the server log holds no traceback: nothing was unexpected.
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert errors == [], [r.getMessage() for r in errors]
