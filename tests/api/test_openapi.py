"""GET /api/v1/openapi.json: a valid OpenAPI 3.1 document that describes every /api/v1 path served."""
from __future__ import annotations

import re

import pytest
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate

IGNORED_METHODS = {"HEAD", "OPTIONS"}


@pytest.fixture
def document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def served(app) -> dict[str, set[str]]:
    """Every path the app serves under /api/v1, in OpenAPI's template form, with its methods."""
    paths: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        template = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        paths.setdefault(template, set()).update(m.lower() for m in rule.methods - IGNORED_METHODS)
    return paths


def test_the_document_is_valid_openapi_3_1(document):
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_served_api_path_and_method_is_described(app, document):
    described = {path: {m for m in item if m in {"get", "post", "put", "patch", "delete"}}
                 for path, item in document["paths"].items()}
    missing = {path: methods - described.get(path, set()) for path, methods in served(app).items()
               if methods - described.get(path, set())}
    assert missing == {}


def test_every_described_api_path_is_served(app, document):
    served_paths = served(app)
    stale = [path for path in document["paths"] if path.startswith("/api/v1") and path not in served_paths]
    assert stale == []


def test_the_contract_paths_are_all_there(document):
    assert {
        "/api/v1/units", "/api/v1/staff/import", "/api/v1/staff/{staff_number}/invitation",
        "/api/v1/staff/{staff_number}/dependents", "/api/v1/venues", "/api/v1/campaigns",
        "/api/v1/campaigns/{campaign_id}/sessions", "/api/v1/reservations", "/api/v1/reservations/{token}",
        "/api/v1/reservations/{token}/cancel", "/api/v1/reservations/{token}/reschedule",
        "/api/v1/openapi.json",
    } <= set(document["paths"])


def test_admin_calls_declare_the_bearer_scheme(document):
    assert document["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    assert document["paths"]["/api/v1/units"]["post"]["security"] == [{"bearer": []}]


def _validator(document, name: str) -> OAS31Validator:
    return OAS31Validator({"$ref": f"#/components/schemas/{name}", "components": document["components"]})


def _response_schema(document, path: str, method: str, status: str) -> dict:
    return document["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]


def test_a_real_reservation_matches_its_documented_schema(client, world, document):
    body = client.post("/api/v1/reservations", json={
        "slot_id": world.slot_ids[0], "staff_number": world.staff_number,
        "invitation_code": world.invitation_code, "dependent_ids": [world.dependent_id]}).get_json()
    schema = _response_schema(document, "/api/v1/reservations", "post", "201")
    OAS31Validator({**schema, "components": document["components"]}).validate(body)


def test_real_sessions_match_their_documented_schema(client, world, document):
    body = client.get(f"/api/v1/campaigns/{world.campaign_id}/sessions").get_json()
    schema = _response_schema(document, "/api/v1/campaigns/{campaign_id}/sessions", "get", "200")
    OAS31Validator({**schema, "components": document["components"]}).validate(body)


def test_a_real_refusal_matches_the_error_schema(client, world, document):
    body = client.post("/api/v1/reservations", json={"slot_id": "x"}).get_json()
    _validator(document, "Error").validate(body)
    assert "fields" in body


def test_a_real_import_refusal_matches_its_schema(client, world, admin_headers, document):
    body = client.post("/api/v1/staff/import", data="staff_number\n1\n", content_type="text/csv",
                       headers=admin_headers).get_json()
    _validator(document, "ImportErrorOut").validate(body)


def test_a_nul_in_any_query_value_is_answered_as_documented(client, document, admin_headers):
    """A NUL never reaches the database (PostgreSQL cannot compare it): every operation that reads
    the query string answers 400, and says so in the document (schemathesis found one that did not)."""
    with_query = [(path, method) for path, item in document["paths"].items() for method, op in item.items()
                  if any(p["in"] == "query" for p in op.get("parameters", ()))]
    assert with_query
    for path, method in with_query:
        query_name = next(p["name"] for p in document["paths"][path][method]["parameters"] if p["in"] == "query")
        response = client.open(path, method=method.upper(), headers=admin_headers,
                               query_string={query_name: "a\x00b"})
        assert response.status_code == 400, path
        assert "400" in document["paths"][path][method]["responses"], path
