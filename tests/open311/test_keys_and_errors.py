"""api_keys (who may post and read), the CLI that issues them, discovery, and errors that are never a 500."""
import hashlib
from xml.etree import ElementTree

import pytest
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.open311.models import Open311Submission
from dispatch.org.models import ApiToken
from dispatch.org.services import create_token, revoke_token
from dispatch.sla import policies
from dispatch.tickets.models import Ticket
from tests.open311.conftest import BASE
from tests.open311.georeport_schemas import ERRORS, REQUESTS, errors_of


@pytest.fixture(autouse=True)
def sla_rules(org):
    """The default SLA rules, so new tickets get their due times."""
    policies.seed_defaults()


# ---- helpers ----

def json_error(response, status):
    """A JSON GeoReport error: the status, a body valid against ERRORS whose codes are that status."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type.startswith("application/json")
    body = response.get_json()
    assert errors_of(ERRORS, body) == [], body
    assert {item["code"] for item in body} == {status}
    return body


def xml_error(response, status):
    """An XML GeoReport error: <errors><error><code>status</code><description>…</description></error></errors>."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type.startswith("text/xml")
    root = ElementTree.fromstring(response.data)
    assert root.tag == "errors"
    errors = root.findall("error")
    assert errors
    for error in errors:
        assert [child.tag for child in error] == ["code", "description"]
        assert error.findtext("code") == str(status) and error.findtext("description")
    return root


def any_error(response, status):
    """An error in whichever format the path asked for (XML unless it ends in .json)."""
    if response.content_type.startswith("application/json"):
        return json_error(response, status)
    return xml_error(response, status)


def created_id(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()[0]["service_request_id"]


def tickets_count():
    return len(db.session.scalars(select(Ticket.id)).all())


def cli(app, *args):
    """Run a flask command; (exit code, output)."""
    result = app.test_cli_runner().invoke(args=list(args))
    return result.exit_code, result.output


# ---- C. api_key ----

def test_c_a_post_without_api_key_is_403(client, org):
    """No api_key: 403, nothing stored, no ticket."""
    response = client.post(f"{BASE}/requests.json", data={"service_code": "lighting", "address_string": "盐城路8号"})
    json_error(response, 403)
    assert tickets_count() == 0 and db.session.scalar(select(Open311Submission.id)) is None


@pytest.mark.parametrize("key", ["o311_wrong", "wrong", "o311_" + "x" * 300], ids=["prefixed", "bare", "long"])
def test_c_a_wrong_api_key_is_403(post_request, key):
    """A key that names no live Open311 key is a 403."""
    json_error(post_request(api_key=key), 403)
    assert tickets_count() == 0


def test_c_a_revoked_api_key_is_403(client, post_request, key_for):
    """A key that worked stops working once revoked."""
    key = key_for()
    created_id(post_request(api_key=key))
    revoke_token("o311-community-yanchenglu", "open311")
    json_error(post_request(api_key=key), 403)
    json_error(client.get(f"{BASE}/requests.json", query_string={"api_key": key}), 403)
    assert tickets_count() == 1


def test_c_a_bearer_token_is_not_an_api_key(post_request, client, org):
    """A /api/v1 bearer token (kind api) used as api_key is a 403, on POST and on GET."""
    raw = create_token("bearer-yanchenglu", "community:yanchenglu")[1]
    json_error(post_request(api_key=raw), 403)
    json_error(client.get(f"{BASE}/requests.json", query_string={"api_key": raw}), 403)


def test_c_an_api_key_is_not_a_bearer_token(client, key_for):
    """An Open311 key sent as a Bearer token to /api/v1/tickets is a 401."""
    response = client.get("/api/v1/tickets", headers={"Authorization": f"Bearer {key_for()}"})
    assert response.status_code == 401


def test_c_api_key_in_the_query_string_of_a_post(client, key_for):
    """api_key in the POST's query string is accepted, and not stored with the submission."""
    response = client.post(f"{BASE}/requests.xml?api_key={key_for()}",
                           data={"service_code": "lighting", "address_string": "盐城路8号"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert ElementTree.fromstring(response.data).find("request").findtext("service_request_id")
    submission = db.session.scalar(select(Open311Submission))
    assert submission.status == "processed" and "api_key" not in submission.params


# ---- I. Errors are GeoReport errors, never a 500 ----

@pytest.mark.parametrize("path", ["services.csv", "services.JSON", "discovery.yaml", "services/lighting.txt"])
def test_i_an_unknown_format_is_a_400_in_xml(client, org, path):
    """An unknown format is a 400 with an XML error body."""
    xml_error(client.get(f"{BASE}/{path}"), 400)


def test_i_an_unknown_format_on_post_is_a_400(post_request):
    """POST requests.csv is a 400, before anything is stored."""
    xml_error(post_request(fmt="csv"), 400)
    assert db.session.scalar(select(Open311Submission.id)) is None


@pytest.mark.parametrize("path", ["nothing.json", "requests/a/b.json", "services/no_such_service.json", "nothing"])
def test_i_unknown_paths_are_404(client, org, path):
    """An unknown path or resource under /open311/v2 is a GeoReport 404."""
    any_error(client.get(f"{BASE}/{path}"), 404)


@pytest.mark.parametrize("method", ["DELETE", "PUT", "PATCH"])
def test_i_other_methods_on_requests_are_400(client, org, method):
    """DELETE/PUT/PATCH requests.json: every non-403/404 mistake is a 400 at this door."""
    json_error(client.open(f"{BASE}/requests.json", method=method), 400)


def test_i_a_garbage_request_id_is_404(client, org):
    """A 30-character garbage id is a 404, in JSON and XML."""
    garbage = "x%27;DROP TABLE tickets;--ab%00"[:30]
    json_error(client.get(f"{BASE}/requests/{garbage}.json"), 404)
    xml_error(client.get(f"{BASE}/requests/{garbage}.xml"), 404)


def test_i_unicode_comes_back_intact_in_well_formed_xml(client, post_request):
    """Emoji, CJK, accents and markup characters in a description read back as XML that parses, unchanged."""
    text = "灯坏了😀 naïve <b>&amp;</b> \"引号\" 'x'\t制表\r\n第二行"
    number = created_id(post_request(description=text))
    for path in (f"requests/{number}.xml", "requests.xml"):
        response = client.get(f"{BASE}/{path}")
        assert response.status_code == 200
        description = ElementTree.fromstring(response.data).find("request").findtext("description")
        assert description.replace("\r\n", "\n") == text.replace("\r\n", "\n")
    assert errors_of(REQUESTS, client.get(f"{BASE}/requests/{number}.json").get_json()) == []


@pytest.mark.parametrize("char", ["\x00", "\x0b", "\x01", "\x1f", "\ufffe"])
def test_i_control_characters_are_a_400_as_well_formed_xml_and_nothing_is_stored(post_request, char):
    """A description carrying a control character is a 400 whose XML parses; no submission, no ticket."""
    xml_error(post_request(fmt="xml", description=f"灯坏了{char}第二行"), 400)
    json_error(post_request(description=f"灯坏了{char}第二行"), 400)
    assert db.session.scalar(select(Open311Submission.id)) is None and tickets_count() == 0


def test_i_control_characters_in_names_paths_and_queries_are_400(client, post_request):
    """A control character in a query value, an argument's name or the path is a well-formed 400."""
    xml_error(client.get(f"{BASE}/requests.xml", query_string={"jurisdiction_id": "a\x01b\x0c"}), 400)
    xml_error(client.get(f"{BASE}/requests/%00abc.xml"), 400)
    json_error(post_request(**{"attribute[floor\x00]": "3"}), 400)


@pytest.mark.parametrize("args", [{"page": "²"}, {"page_size": "١٠"}, {"page": "1" * 50}, {"status": "open" * 5000},
                                  {"start_date": "2026-11-01" * 1000}, {"service_request_id": ",".join(["1"] * 201)}],
                         ids=["superscript page", "arabic digits", "huge page", "long status", "long date",
                              "201 ids"])
def test_i_odd_query_values_are_400(client, org, args):
    """Odd or very long query values are 400s in both formats."""
    json_error(client.get(f"{BASE}/requests.json", query_string=args), 400)
    xml_error(client.get(f"{BASE}/requests.xml", query_string=args), 400)


@pytest.mark.parametrize("args", [{"service_code": "x" * 20000}, {"service_request_id": "y" * 20000},
                                  {"jurisdiction_id": "z" * 20000}, {"api_key": "o311_" + "k" * 20000}],
                         ids=["service_code", "service_request_id", "jurisdiction_id", "api_key"])
def test_i_very_long_values_are_answered_not_500(client, org, args):
    """Very long values are an empty list, a 404 or a 403, never a 500."""
    response = client.get(f"{BASE}/requests.json", query_string=args)
    assert response.status_code in (200, 403, 404), response.get_data(as_text=True)
    if response.status_code == 200:
        assert response.get_json() == []
    else:
        json_error(response, response.status_code)


def test_i_a_long_form_value_is_a_400_kept_as_rejected(post_request):
    """A 1,000-character address (over 200) is a 400, kept as rejected."""
    json_error(post_request(address_string="路" * 1_000), 400)
    assert db.session.scalar(select(Open311Submission.status)) == "rejected"


def test_i_a_form_over_the_size_limit_is_a_400_and_not_stored(post_request):
    """A form bigger than MAX_JSON_BYTES (64 KiB) is refused before anything is read or stored."""
    json_error(post_request(address_string="路" * 100_000), 400)
    assert db.session.scalar(select(Open311Submission.status)) is None


@pytest.mark.parametrize("args", [{"start_date": "0001-01-01"}, {"end_date": "9999-12-31T23:59:59-08:00"},
                                  {"start_date": "9999-12-01T00:00:00Z"}, {"end_date": "0001-02-01T00:00:00Z"}],
                         ids=["year 1 local", "year 9999 west", "start near the end", "end near the start"])
def test_i_dates_at_the_edge_of_the_calendar_are_400(client, org, args):
    """A start_date/end_date at the edge of the calendar is a 400, not a 500."""
    json_error(client.get(f"{BASE}/requests.json", query_string=args), 400)


# ---- J. CLI ----

def test_j_create_key_prints_it_once_and_stores_only_its_hash(app, client, org):
    """create-key prints an o311_ key; the row holds its SHA-256, kind open311, and the key works."""
    code, output = cli(app, "open311", "create-key", "partner-a", "--scope", "community:yanchenglu")
    assert code == 0, output
    raw = output.strip().splitlines()[-1]
    assert raw.startswith("o311_") and output.count(raw) == 1
    db.session.expire_all()
    row = db.session.scalar(select(ApiToken).where(ApiToken.name == "partner-a"))
    assert row.kind == "open311" and row.scope == "community:yanchenglu"
    assert row.token_hash == hashlib.sha256(raw.encode()).hexdigest() != raw
    columns = [str(getattr(row, c.key)) for c in ApiToken.__table__.columns]
    assert not any(raw in value for value in columns)
    response = client.post(f"{BASE}/requests.json", data={"api_key": raw, "service_code": "lighting",
                                                           "address_string": "盐城路8号"})
    assert created_id(response)


def test_j_keys_lists_the_keys_without_the_secret(app, org):
    """open311 keys lists name, scope and state, never the key itself."""
    raw = cli(app, "open311", "create-key", "partner-b", "--scope", "street:zhanshan")[1].strip().splitlines()[-1]
    create_token("bearer-only", "district")  # a bearer token is not an Open311 key
    code, output = cli(app, "open311", "keys")
    assert code == 0
    assert "partner-b" in output and "street:zhanshan" in output and "live" in output
    assert raw not in output and "bearer-only" not in output


def test_j_keys_says_when_there_are_none(app, org):
    """open311 keys without keys says how to make one."""
    assert "create-key" in cli(app, "open311", "keys")[1]


def test_j_revoke_key_makes_it_unusable(app, post_request, org):
    """revoke-key: the key is a 403 afterwards, listed as revoked; revoking twice is harmless."""
    raw = cli(app, "open311", "create-key", "partner-c", "--scope", "community:yanchenglu")[1].strip().splitlines()[-1]
    created_id(post_request(api_key=raw))
    code, output = cli(app, "open311", "revoke-key", "partner-c")
    assert code == 0 and "revoked" in output
    json_error(post_request(api_key=raw), 403)
    assert "revoked" in cli(app, "open311", "keys")[1]
    code, output = cli(app, "open311", "revoke-key", "partner-c")
    assert code == 0 and "already" in output


@pytest.mark.parametrize("scope", ["everything", "community:nowhere", "street:", "district:370202"])
def test_j_an_unknown_scope_fails_with_a_message(app, org, scope):
    """An unknown scope exits non-zero with a message and stores nothing."""
    code, output = cli(app, "open311", "create-key", "partner-d", "--scope", scope)
    assert code != 0 and output.strip()
    assert "o311_" not in output
    assert db.session.scalar(select(ApiToken).where(ApiToken.name == "partner-d")) is None


def test_j_a_key_name_cannot_be_issued_twice(app, org):
    """create-key with a name already taken exits non-zero and prints no second key."""
    assert cli(app, "open311", "create-key", "partner-e", "--scope", "district")[0] == 0
    code, output = cli(app, "open311", "create-key", "partner-e", "--scope", "district")
    assert code != 0 and "partner-e" in output and "o311_" not in output


def test_j_revoking_an_unknown_key_fails(app, org):
    """revoke-key of a name that is no key exits non-zero."""
    code, output = cli(app, "open311", "revoke-key", "nobody")
    assert code != 0 and "nobody" in output


def test_j_a_bearer_token_cannot_be_revoked_as_an_open311_key(app, org):
    """revoke-key only touches Open311 keys: a bearer token of that name is left alone."""
    create_token("shared-name", "district")
    assert cli(app, "open311", "revoke-key", "shared-name")[0] != 0
    assert db.session.scalar(select(ApiToken.revoked_at).where(ApiToken.name == "shared-name")) is None


# ---- K. Discovery ----

def test_k_discovery_json(client, org):
    """discovery.json: an endpoint with specification/url/changeset/type/formats, and the jurisdictions by type."""
    response = client.get(f"{BASE}/discovery.json")
    assert response.status_code == 200
    body = response.get_json()
    assert {"changeset", "contact", "key_service", "endpoints", "jurisdictions"} <= set(body)
    endpoint, = body["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2")
    assert endpoint["type"] in ("production", "test")
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}
    assert endpoint["changeset"] == body["changeset"]
    types = {j["jurisdiction_id"]: j["type"] for j in body["jurisdictions"]}
    assert types["370202"] == "district" and types["zhanshan"] == "street" and types["yanchenglu"] == "community"
    parents = {j["jurisdiction_id"]: j["parent"] for j in body["jurisdictions"]}
    assert parents["yanchenglu"] == "zhanshan" and parents["xiangganghuayuan"] == "zhuhailu"
    assert parents["zhanshan"] == "370202"


def test_k_discovery_xml(client, org):
    """discovery.xml carries the same: <endpoints><endpoint> with <formats><format>, and <jurisdictions>."""
    response = client.get(f"{BASE}/discovery.xml")
    assert response.status_code == 200 and response.content_type.startswith("text/xml")
    root = ElementTree.fromstring(response.data)
    assert root.tag == "discovery" and root.findtext("changeset")
    endpoint = root.find("endpoints/endpoint")
    for name in ("specification", "url", "changeset", "type"):
        assert endpoint.findtext(name), name
    assert {f.text for f in endpoint.findall("formats/format")} == {"text/xml", "application/json"}
    types = {j.findtext("jurisdiction_id"): j.findtext("type") for j in root.findall("jurisdictions/jurisdiction")}
    assert types["370202"] == "district" and types["zhanshan"] == "street" and types["yanchenglu"] == "community"


def test_k_discovery_is_also_served_outside_v2(client, org):
    """/open311/discovery.json answers the same document as /open311/v2/discovery.json."""
    assert client.get("/open311/discovery.json").get_json() == client.get(f"{BASE}/discovery.json").get_json()
