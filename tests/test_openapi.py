"""The OpenAPI document describes the endpoints that exist, and real requests and answers fit its schemas."""
import json
import re
import warnings
from urllib.parse import parse_qsl, urlsplit

import jsonschema
import pytest

from dispatch.api.openapi import document
from dispatch.api.schemas import TicketListIn

PREFIX = "/api/v1"


@pytest.fixture
def spec(client):
    response = client.get(PREFIX + "/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def validate(spec, schema, instance):
    """Validate an instance against a schema of the document, resolving $refs within the document."""
    jsonschema.validate(instance, {**schema, "components": spec["components"]}, cls=jsonschema.Draft202012Validator)


def component(name):
    return {"$ref": f"#/components/schemas/{name}"}


def template_of(url):
    """/api/v1/tickets/20261120-0001/accept → /tickets/{number}/accept."""
    return re.sub(r"^/tickets/[^/]+", "/tickets/{number}", urlsplit(url).path.removeprefix(PREFIX))


def operation(spec, method, url):
    return spec["paths"][template_of(url)][method]


def fits_answer(spec, method, url, response):
    """The answer's status is one the operation documents, and its body fits that status's schema."""
    responses = operation(spec, method, url)["responses"]
    assert str(response.status_code) in responses, (method, url, response.status_code)
    validate(spec, responses[str(response.status_code)]["content"]["application/json"]["schema"], response.get_json())
    return response


def fits_request(spec, method, url, body=None):
    """The query parameters are documented ones and the body fits the documented request body."""
    documented = {p["name"] for p in operation(spec, method, url).get("parameters", []) if p["in"] == "query"}
    assert {name for name, _ in parse_qsl(urlsplit(url).query)} <= documented
    if body is not None:
        validate(spec, operation(spec, method, url)["requestBody"]["content"]["application/json"]["schema"], body)


def documented_operations(spec):
    return {(method.upper(), PREFIX + path) for path, ops in spec["paths"].items() for method in ops}


def api_rules(app):
    """The API's routes, but for the document's own."""
    return [rule for rule in app.url_map.iter_rules()
            if rule.rule.startswith(PREFIX) and not rule.rule.endswith("openapi.json")]


def path_of(rule):
    """/api/v1/tickets/<number> → /api/v1/tickets/{number}."""
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)


def routed_operations(app):
    return {(method, path_of(rule)) for rule in api_rules(app) for method in rule.methods - {"HEAD", "OPTIONS"}}


def references(node):
    """Every $ref anywhere in a piece of the document."""
    if isinstance(node, dict):
        found = {node["$ref"]} if "$ref" in node else set()
        return found.union(*map(references, node.values()))
    if isinstance(node, list):
        return set().union(*map(references, node))
    return set()


def test_every_route_is_documented_and_nothing_else(app, spec):
    assert documented_operations(spec) == routed_operations(app)


def test_path_parameters_are_the_routes_arguments(app, spec):
    for rule in api_rules(app):
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            params = spec["paths"][path_of(rule).removeprefix(PREFIX)][method.lower()].get("parameters", [])
            assert {p["name"] for p in params if p["in"] == "path"} == rule.arguments, rule.rule


def test_the_document_builds_cleanly_and_every_reference_resolves(app, spec):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # apispec warns of a schema named twice or a duplicate parameter
        assert json.loads(json.dumps(document(app))) == spec
    names = {"#/components/schemas/" + name for name in spec["components"]["schemas"]}
    assert references(spec) <= names
    assert spec["security"] == [{"bearer": []}] and spec["servers"] == [{"url": PREFIX}]


def test_list_parameters_are_the_query_schema(spec):
    params = spec["paths"]["/tickets"]["get"]["parameters"]
    assert {p["name"] for p in params} == set(TicketListIn().fields)
    assert all(p["in"] == "query" and not p["required"] for p in params)


def test_documented_create_body_is_what_the_server_accepts(spec):
    body = spec["components"]["schemas"]["TicketCreate"]
    assert body["required"] == ["description"] and body["additionalProperties"] is False
    assert body["properties"]["description"]["maxLength"] == 4000
    assert set(body["properties"]["channel"]["enum"]) == {"api", "phone", "web_form"}


def send(api, spec, url, body=None):
    """POST a valid body (or GET without one); both the request and the answer must fit the document."""
    method = "get" if body is None else "post"
    fits_request(spec, method, url, body)
    response = api.get(url) if body is None else api.post(url, json=body)
    return fits_answer(spec, method, url, response)


def test_real_answers_of_every_operation_match_the_document(api, spec):
    created = send(api, spec, PREFIX + "/tickets", {"description": "楼道灯坏了", "community": "yanchenglu",
                                                     "resident": {"phone": "13812345678"}})
    assert created.status_code == 201
    url = f"{PREFIX}/tickets/{created.get_json()['number']}"
    send(api, spec, url)
    send(api, spec, url + "/accept", {"note": "已受理"})
    send(api, spec, url + "/classify", {"priority": "high"})
    assert send(api, spec, url + "/comments", {"note": "已电话联系居民"}).status_code == 201
    # The community handles this one itself (a volunteer's task would be the volunteer's to resolve).
    resolved = send(api, spec, url + "/transitions", {"action": "resolve", "note": "已更换声控灯"}).get_json()
    assert len(resolved["timeline"]) > 1
    called_back = send(api, spec, url + "/callbacks", {"reached": True, "rating": "satisfied", "note": None})
    assert called_back.status_code == 201
    send(api, spec, PREFIX + "/tickets?status=new,resolved&per_page=5&created_to=2026-12-01&q=灯")
    other = send(api, spec, PREFIX + "/tickets", {"description": "路灯不亮", "community": "yanchenglu"}).get_json()
    other_url = f"{PREFIX}/tickets/{other['number']}"
    send(api, spec, other_url + "/accept", {})
    send(api, spec, other_url + "/transitions", {"action": "dispatch", "assignee": "volunteer"})
    assert send(api, spec, other_url + "/transitions", {"action": "sign"}).status_code == 403  # the volunteer's
    send(api, spec, PREFIX + "/categories")
    send(api, spec, PREFIX + "/communities")


def test_a_call_and_its_repeat_match_the_document(api, spec):
    call = {"call_id": "cti-1", "caller": "13812345678", "community": "yanchenglu",
            "called_at": "2026-11-20T10:02:00+08:00", "recording_url": "https://pbx.example/rec/1.mp3"}
    assert send(api, spec, PREFIX + "/calls", call).status_code == 201
    assert send(api, spec, PREFIX + "/calls", call).status_code == 200


def test_error_answers_match_the_document(api, client, make_ticket, spec):
    tickets, number = PREFIX + "/tickets", make_ticket().number
    headers = api.headers
    for response in (
            client.get(tickets),  # 401
            client.post(tickets, data="{not json", content_type="application/json", headers=headers),  # 400
            client.post(tickets, data="description=x", content_type="text/plain", headers=headers),  # 415
            client.post(tickets, data=json.dumps({"description": "x" * 200_000}),
                        content_type="application/json", headers=headers),  # 413
            api.post(tickets, json={"resident": {"phone": "call me"}}),  # 422
            api.get(tickets + "/none"),  # 404
            api.post(f"{tickets}/{number}/transitions", json={"action": "resolve", "note": "x"})):  # 409
        assert response.status_code >= 400
        fits_answer(spec, response.request.method.lower(), response.request.path, response)
        validate(spec, component("Error"), response.get_json())
