"""The OpenAPI document and the input models agree, field by field (they cannot drift)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from docexchange.domain import inputs
from docexchange.domain.edge import Input, parse_input
from docexchange.errors import DocExchangeError

CONTRACT = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "schemas" / "openapi.yaml").read_text(encoding="utf-8")
)

#: Which model parses each operation's JSON body.
BODIES: dict[tuple[str, str], type[Input]] = {
    ("post", "/auth/login"): inputs.Credentials,
    ("post", "/auth/password"): inputs.PasswordChange,
    ("post", "/auth/totp/confirm"): inputs.TotpCode,
    ("post", "/units"): inputs.UnitBody,
    ("patch", "/units/{code}"): inputs.UnitChanges,
    ("post", "/groups"): inputs.GroupBody,
    ("put", "/groups/{name}"): inputs.GroupBody,
    ("post", "/recipients/resolve"): inputs.RecipientsBody,
    ("post", "/users"): inputs.NewUserBody,
    ("put", "/users/{username}/roles"): inputs.RolesBody,
    ("post", "/documents/{document_id}/sign"): inputs.PinBody,
    ("post", "/documents/{document_id}/issue"): inputs.PinBody,
    ("post", "/documents/{document_id}/send"): inputs.SendBody,
    ("post", "/documents/{document_id}/revoke"): inputs.ReasonBody,
    ("post", "/documents/{document_id}/submit"): inputs.SubmitBody,
    ("post", "/signing-batches"): inputs.SigningBatchBody,
    ("post", "/documents/{document_id}/return"): inputs.ReasonBody,
    ("post", "/inbox/{entry_id}/forward"): inputs.ForwardBody,
    ("post", "/deliveries/{item_id}/status"): inputs.StatusBody,
    ("post", "/paper-records"): inputs.PaperBody,
    ("post", "/documents/{document_id}/signing-sessions"): inputs.ChainBody,
    ("post", "/signing-sessions/{session_id}"): inputs.SignatureBody,
    ("post", "/users/{username}/token"): inputs.TokenBody,
    ("post", "/units/{code}/token"): inputs.UnitTokenBody,
    ("post", "/trust/anchors"): inputs.AnchorBody,
}


def _resolve(node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = CONTRACT
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def _writable(schema: dict[str, Any]) -> dict[str, Any]:
    properties = _resolve(schema).get("properties") or {}
    return {k: _resolve(v) for k, v in properties.items() if not _resolve(v).get("readOnly")}


def _agree(model: type[Input], schema: dict[str, Any]) -> None:
    contract = _writable(schema)
    ours = model.model_json_schema()
    assert set(contract) == set(model.model_fields), model.__name__
    # What the model requires the contract requires; the contract may list a field the
    # service requires with its own code (a revocation's reason, a forward's recipients).
    required = set(_resolve(schema).get("required") or [])
    assert set(ours.get("required") or []) <= required, model.__name__
    for name, field in contract.items():
        limit = field.get("maxLength")
        if limit is not None:
            mine = ours["properties"][name]
            lengths = [mine.get("maxLength")] + [o.get("maxLength") for o in mine.get("anyOf", [])]
            assert limit in lengths, (model.__name__, name, limit, lengths)


def test_every_json_body_of_the_contract_has_its_model() -> None:
    listed = {
        (method, path)
        for path, item in CONTRACT["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
        and "application/json" in ((operation.get("requestBody") or {}).get("content") or {})
    }
    assert listed - {("post", "/units/import")} == set(BODIES)  # the import is a file


@pytest.mark.parametrize(
    ("method", "path"), sorted(BODIES), ids=[f"{m.upper()} {p}" for m, p in sorted(BODIES)]
)
def test_the_contract_and_the_model_name_the_same_fields(method: str, path: str) -> None:
    body = CONTRACT["paths"][path][method]["requestBody"]["content"]["application/json"]
    _agree(BODIES[(method, path)], body["schema"])


def test_the_upload_metadata_has_its_schema() -> None:
    _agree(inputs.DocumentMetadata, CONTRACT["components"]["schemas"]["DocumentMetadata"])


_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**30), max_value=10**30),
        st.floats(),
        st.text(max_size=30),
        st.sampled_from(["", " ", "\ud800", "0001-01-01", "9999-12-31", "000.00.00.H45"]),
    ),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
MODELS = sorted({*BODIES.values(), inputs.DocumentMetadata}, key=lambda m: m.__name__)


@pytest.mark.parametrize("model", MODELS, ids=[m.__name__ for m in MODELS])
@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(data=st.data())
def test_a_model_answers_any_value_with_itself_or_a_coded_error(
    model: type[Input], data: st.DataObject
) -> None:
    """Never a TypeError or a pydantic error escaping: a field's value of any JSON type."""
    names = sorted(model.model_fields)
    given_ = data.draw(st.dictionaries(st.sampled_from(names), _values, max_size=len(names)))
    try:
        parsed = parse_input(model, given_)
    except DocExchangeError as exc:
        assert exc.code and exc.http_status in (409, 422), exc.code
    else:
        assert isinstance(parsed, model)


def test_the_report_query_names_the_contracts_parameters() -> None:
    names = {f.alias or name for name, f in inputs.ReportQuery.model_fields.items()}
    ratio = CONTRACT["paths"]["/reports/electronic-ratio"]["get"]["parameters"]
    assert {_resolve(p)["name"] for p in ratio} == names
    coverage = CONTRACT["paths"]["/reports/signature-coverage"]["get"]["parameters"]
    assert {_resolve(p)["name"] for p in coverage} <= names


QUERIES: dict[tuple[str, str], type[Input]] = {
    ("get", "/units"): inputs.UnitsQuery,
    ("post", "/verify"): inputs.VerifyQuery,
    ("get", "/inbox"): inputs.ListQuery,
    ("get", "/outbox"): inputs.ListQuery,
    ("get", "/documents"): inputs.ListQuery,
    ("get", "/paper-records"): inputs.PaperQuery,
    ("get", "/registers/incoming"): inputs.RegisterQuery,
    ("get", "/registers/outgoing"): inputs.RegisterQuery,
}


@pytest.mark.parametrize(
    ("method", "path"), sorted(QUERIES), ids=[f"{m.upper()} {p}" for m, p in sorted(QUERIES)]
)
def test_a_query_model_reads_every_parameter_the_contract_lists(method: str, path: str) -> None:
    model = QUERIES[(method, path)]
    names = {f.alias or name for name, f in model.model_fields.items()}
    listed = CONTRACT["paths"][path][method].get("parameters") or []
    assert {_resolve(p)["name"] for p in listed if _resolve(p)["in"] == "query"} <= names
