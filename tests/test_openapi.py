"""The OpenAPI document describes the endpoints that exist, and real answers fit its schemas."""
import re

import jsonschema
import pytest


@pytest.fixture
def spec(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def validate(spec, name, instance):
    """Validate an instance against a component schema, resolving $refs within the document."""
    schema = {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}
    jsonschema.validate(instance, schema, cls=jsonschema.Draft202012Validator)


def documented_operations(spec):
    return {(method.upper(), "/api/v1" + path) for path, ops in spec["paths"].items() for method in ops}


def routed_operations(app):
    ops = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1") and not rule.rule.endswith("openapi.json"):
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
            ops |= {(m, path) for m in rule.methods - {"HEAD", "OPTIONS"}}
    return ops


def test_every_route_is_documented_and_nothing_else(app, spec):
    assert documented_operations(spec) == routed_operations(app)


def test_real_answers_match_the_documented_schemas(api, make_ticket, spec):
    created = api.post("/api/v1/tickets", json={"description": "楼道灯坏了", "community": "yanchenglu",
                                                 "resident": {"phone": "13812345678"}})
    validate(spec, "TicketDetail", created.get_json())
    validate(spec, "Page", api.get("/api/v1/tickets").get_json())
    validate(spec, "CategoryList", api.get("/api/v1/categories").get_json())
    validate(spec, "CommunityList", api.get("/api/v1/communities").get_json())
    validate(spec, "Error", api.post("/api/v1/tickets", json={}).get_json())
    validate(spec, "Error", api.get("/api/v1/tickets/none").get_json())


def test_documented_create_body_is_what_the_server_accepts(spec):
    body = spec["components"]["schemas"]["TicketCreate"]
    assert body["required"] == ["description"]
    assert body["properties"]["description"]["maxLength"] == 4000
    assert set(body["properties"]["channel"]["enum"]) == {"api", "phone", "web_form"}
