"""An unmodified GeoReport v2 client from PyPI (georeport 0.3.1) against the endpoints served over real HTTP.

georeport only reads (services, definitions, requests); posting is a plain form post with `requests`, as any
client would send it. The server runs in a thread on the session's app, so it shares the database and the
frozen clock with the test.
"""
import re
import threading

import pytest
import requests
import xmltodict
from georeport import GeoReport
from sqlalchemy import select
from werkzeug.serving import make_server

from dispatch.extensions import db
from dispatch.open311.models import Open311Submission
from dispatch.org.principal import Principal
from dispatch.sla import policies
from dispatch.tickets import pipeline
from dispatch.tickets.models import Ticket
from tests.open311.conftest import BASE
from tests.open311.georeport_schemas import CREATED, ERRORS, REQUESTS, SERVICE_DEFINITION, SERVICES, errors_of

SERVICE_CODES = {"water_power", "gas_heating", "lighting", "sanitation", "appliance", "elderly_care", "property",
                 "public_security", "city_management", "neighbour", "consultation", "suggestion", "other"}
TEAM = "盐城路社区365志愿服务队"


@pytest.fixture
def server(app, org):
    """The app (with the default SLA rules, so requests have deadlines) served by werkzeug on a free port while
    the test runs; yields the GeoReport root address."""
    policies.seed_defaults()
    live = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=live.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{live.server_port}{BASE}"
    live.shutdown()
    thread.join(timeout=5)
    live.server_close()


@pytest.fixture
def json_client(server):
    """georeport speaking JSON."""
    return GeoReport(server)


@pytest.fixture
def xml_client(server):
    """georeport speaking XML (parsed by xmltodict, so every value is a string)."""
    return GeoReport(server, output_format="xml")


@pytest.fixture
def post(server, key_for):
    """post(fmt, **form) → the response to a form POST of requests.{fmt} with a 盐城路社区 api_key."""
    def send(fmt="json", **form):
        form.setdefault("api_key", key_for("community:yanchenglu"))
        return requests.post(f"{server}/requests.{fmt}", data=form, timeout=10)
    return send


def as_list(value):
    """xmltodict gives one repeated element as a dict, several as a list, none as None."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def lighting_form(**more):
    """A complete lighting request as a form (attribute answers included)."""
    return {"service_code": "lighting", "address_string": "盐城路8号3单元", "description": "3楼楼道灯不亮",
            "attribute[floor]": "3", "attribute[light_kind]": "stairwell", "phone": "13800138000",
            "first_name": "小明", "last_name": "王", "email": "wang@example.com", **more}


def sanitation_form():
    """A sanitation request located by lat/long, its multivaluelist answered twice (sent as repeated keys)."""
    return {"service_code": "sanitation", "lat": "36.0601", "long": "120.3802", "description": "垃圾桶满了没人清",
            "attribute[problem][]": ["garbage", "smell"]}


def created_id(response):
    """The service_request_id of a POST requests.json answer."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert errors_of(CREATED, body) == []
    return body[0]["service_request_id"]


def ticket_numbered(number):
    """The ticket behind a service_request_id, fresh from the database."""
    db.session.expire_all()
    return db.session.scalar(select(Ticket).where(Ticket.number == number))


def submission_of(number):
    """What the client posted for a service_request_id, as stored."""
    ticket_id = ticket_numbered(number).id
    return db.session.scalar(select(Open311Submission).where(Open311Submission.ticket_id == ticket_id))


# ---- 1, 2: services and their definitions ----

def test_the_service_list_and_a_definition_in_json(json_client):
    """get_service_list gives the 13 active categories; water_power asks whether someone is home."""
    listed = json_client.get_service_list()
    assert errors_of(SERVICES, listed) == []
    by_code = {s["service_code"]: s for s in listed}
    assert set(by_code) == SERVICE_CODES and len(listed) == 13
    assert by_code["water_power"]["service_name"] == "水电维修"
    assert by_code["water_power"]["metadata"] is True and by_code["water_power"]["group"] == "维修服务"
    assert by_code["lighting"]["service_name"] == "楼道及路灯" and by_code["lighting"]["type"] == "realtime"
    assert by_code["consultation"]["metadata"] is False  # no questions: nothing to define

    definition = json_client.get_service_definition("water_power")
    assert errors_of(SERVICE_DEFINITION, definition) == []
    assert definition["service_code"] == "water_power"
    attributes = {a["code"]: a for a in definition["attributes"]}
    assert list(attributes) == ["building_unit", "floor", "someone_home", "visit_time"]
    home = attributes["someone_home"]
    assert home["required"] is True and home["variable"] is True and home["datatype"] == "singlevaluelist"
    assert [v["key"] for v in home["values"]] == ["yes", "no"]
    assert attributes["floor"]["datatype"] == "number" and attributes["floor"]["required"] is False


def test_xml_gives_the_same_services_and_definition_as_json(json_client, xml_client):
    """The XML answers name the same services and questions as the JSON ones."""
    as_json = json_client.get_service_list()
    as_xml = as_list(xml_client.get_service_list())
    assert [(s["service_code"], s["service_name"], s["group"]) for s in as_xml] == [
        (s["service_code"], s["service_name"], s["group"]) for s in as_json]
    assert {s["service_code"]: s["metadata"] for s in as_xml} == {
        s["service_code"]: str(s["metadata"]).lower() for s in as_json}

    json_def = json_client.get_service_definition("water_power")
    xml_def = xml_client.get_service_definition("water_power")
    assert xml_def["service_code"] == "water_power"
    xml_attributes = as_list(xml_def["attributes"]["attribute"])
    assert [(a["code"], a["datatype"], a["required"], a["order"]) for a in xml_attributes] == [
        (a["code"], a["datatype"], str(a["required"]).lower(), str(a["order"])) for a in json_def["attributes"]]
    home = next(a for a in xml_attributes if a["code"] == "someone_home")
    assert [(v["key"], v["name"]) for v in as_list(home["values"]["value"])] == [("yes", "有人在家"),
                                                                                ("no", "家里没人，请先电话联系")]


# ---- 3: posting, as a form, in both formats ----

def test_a_form_post_in_json_opens_a_ticket_with_its_answers(post, json_client, org):
    """requests.json answers a service_request_id and notice; the ticket keeps the attributes and the reporter."""
    response = post("json", **lighting_form())
    assert response.headers["Content-Type"].startswith("application/json")
    number = created_id(response)
    notice = response.json()[0]["service_notice"]
    assert isinstance(number, str)
    promised = re.fullmatch(rf"工单编号 {number}，社区将在 (\S+ \S+) 前答复，预计 (\S+ \S+) 前办结", notice)
    assert promised and promised[1] < promised[2], notice

    ticket = ticket_numbered(number)
    assert ticket.community_id == org.c1.id and ticket.category.code == "lighting"
    assert ticket.resident.phone == "13800138000" and "（灯：楼道灯；楼层：3）" in ticket.description
    assert ticket.address == "盐城路8号3单元"
    submission = submission_of(number)
    assert submission.email == "wang@example.com" and submission.attributes == {"floor": 3,
                                                                                "light_kind": "stairwell"}
    assert "api_key" not in submission.params

    found = json_client.get_service_request(number)
    assert errors_of(REQUESTS, [found]) == []
    assert found["description"] == "3楼楼道灯不亮"  # the answers are for staff
    assert found["address"] == "盐城路8号3单元" and found["service_code"] == "lighting"
    assert found["requested_datetime"] == "2026-11-20T10:00:00+08:00"
    assert found["expected_datetime"][:16].replace("T", " ") == promised[2]  # the notice's promise, as a time


def test_a_form_post_in_xml_answers_xml_and_keeps_every_value_of_a_list(post, xml_client):
    """requests.xml answers <service_requests><request>; attribute[problem][] keeps both values."""
    response = post("xml", **sanitation_form())
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/xml")
    created = xmltodict.parse(response.content)["service_requests"]["request"]
    number = created["service_request_id"]
    assert number and created["service_notice"].startswith(f"工单编号 {number}")

    found = xml_client.get_service_request(number)
    assert found["service_request_id"] == number and found["status"] == "open"
    assert found["service_code"] == "sanitation" and found["service_name"] == "环境卫生"
    assert found["description"] == "垃圾桶满了没人清"
    assert (float(found["lat"]), float(found["long"])) == (36.0601, 120.3802)
    assert submission_of(number).attributes == {"problem": ["garbage", "smell"]}


# ---- 4: a request's lifecycle, read back through the library ----

READ_BACK = ("service_request_id", "status", "status_notes", "service_code", "service_name", "description",
             "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime",
             "address")


def read_both(json_client, xml_client, number):
    """The request through georeport in JSON (valid against the schema) and in XML, which must agree."""
    as_json = json_client.get_service_request(number)
    assert errors_of(REQUESTS, [as_json]) == []
    as_xml = xml_client.get_service_request(number)
    assert {k: as_xml[k] for k in READ_BACK} == {k: as_json[k] for k in READ_BACK}
    return as_json


def test_the_lifecycle_reads_back_through_the_library(post, json_client, xml_client, clock, org):
    """Open until resolved, closed after; the volunteer team answers for it once dispatched; notes and times move."""
    number = created_id(post("json", **lighting_form()))
    first = read_both(json_client, xml_client, number)
    assert (first["status"], first["status_notes"], first["agency_responsible"]) == (
        "open", "已收到，等待社区受理", "盐城路社区")
    assert first["updated_datetime"] == first["requested_datetime"] == "2026-11-20T10:00:00+08:00"
    assert first["expected_datetime"] > first["requested_datetime"] and "前答复" in first["service_notice"]

    director, volunteer = Principal.from_user(org.director), Principal.from_user(org.volunteer)
    steps = [  # who, action, its arguments, then what a GeoReport reader sees afterwards
        (director, "accept", {}, "10:30", "open", "社区已受理，正在安排处理", "盐城路社区"),
        (director, "dispatch", {"assignee": "volunteer"}, "11:00", "open", f"已派给{TEAM}，等待签收", TEAM),
        (volunteer, "sign", {}, "11:30", "open", f"{TEAM}已签收，将尽快处理", TEAM),
        (volunteer, "start", {}, "12:00", "open", f"{TEAM}正在处理", TEAM),
        (volunteer, "resolve", {"note": "已更换楼道灯泡"}, "12:30", "closed", "已办结：已更换楼道灯泡", TEAM),
        (director, "close", {}, "13:00", "closed", "已办结并关闭", TEAM),
    ]
    for principal, action, arguments, at, status, notes, agency in steps:
        clock.advance(minutes=30)
        pipeline.act(principal, ticket_numbered(number), action, **arguments)
        seen = read_both(json_client, xml_client, number)
        assert (seen["status"], seen["status_notes"], seen["agency_responsible"]) == (status, notes, agency), action
        assert seen["updated_datetime"] == f"2026-11-20T{at}:00+08:00", action
        assert seen["requested_datetime"] == first["requested_datetime"], action
        assert seen["expected_datetime"] is not None, action
        assert (seen["service_notice"] is None) == (status == "closed"), action  # no promise left once closed
        assert "前答复" not in (seen["service_notice"] or ""), action  # the community has answered


# ---- 5: listing requests with the library's filters ----

def ids(listed):
    """The service_request_ids of a list of requests, in order."""
    return [r["service_request_id"] for r in as_list(listed)]


def test_listing_by_ids_status_service_and_time(post, json_client, xml_client, clock, make_ticket, org):
    """Ids override the filters; status, service_code and start_date narrow; phone tickets stay private."""
    lighting = created_id(post("json", **lighting_form()))
    clock.advance(hours=1)
    sanitation = created_id(post("json", **sanitation_form()))
    phone_call = make_ticket().number  # not an Open311 request: anonymous readers do not see it
    ticket = ticket_numbered(lighting)
    pipeline.act(Principal.from_user(org.director), ticket, "accept")
    pipeline.act(Principal.from_user(org.director), ticket, "resolve", note="已更换灯泡")

    by_ids = json_client.get_service_requests(service_request_id=f"{lighting},{sanitation},{phone_call}")
    assert errors_of(REQUESTS, by_ids) == []
    assert ids(by_ids) == [sanitation, lighting]
    assert ids(json_client.get_service_requests(service_request_id=lighting, status="open")) == [lighting]
    assert ids(json_client.get_service_requests()) == [sanitation, lighting]  # newest first
    assert ids(json_client.get_service_requests(status="closed")) == [lighting]
    assert ids(json_client.get_service_requests(status="open")) == [sanitation]
    assert ids(json_client.get_service_requests(status="open,closed")) == [sanitation, lighting]
    assert ids(json_client.get_service_requests(service_code="sanitation")) == [sanitation]
    assert ids(json_client.get_service_requests(service_code="lighting,sanitation", status="closed")) == [lighting]
    assert ids(json_client.get_service_requests(start_date="2026-11-20T10:30:00+08:00")) == [sanitation]
    assert ids(json_client.get_service_requests(end_date="2026-11-20T02:30:00Z")) == [lighting]
    assert json_client.get_service_requests(start_date="2026-11-21T00:00:00+08:00") == []

    assert ids(xml_client.get_service_requests(service_request_id=f"{lighting},{sanitation}")) == [
        sanitation, lighting]
    closed = as_list(xml_client.get_service_requests(status="closed"))
    assert ids(closed) == [lighting] and closed[0]["status"] == "closed"
    assert closed[0]["status_notes"] == "已办结：已更换灯泡"


def test_the_librarys_jurisdiction_narrows_what_it_reads(server, post):
    """GeoReport(jurisdiction=…) sends jurisdiction_id: the community and its street see the request, others not."""
    number = created_id(post("json", **lighting_form()))
    for code, seen in (("yanchenglu", [number]), ("zhanshan", [number]), ("370202", [number]), ("fuzhoulu", []),
                       ("zhuhailu", [])):
        assert ids(GeoReport(server, jurisdiction=code).get_service_requests()) == seen, code
    assert GeoReport(server, jurisdiction="zhanshan").get_service_request(number)["service_request_id"] == number
    with pytest.raises(requests.HTTPError) as raised:
        GeoReport(server, jurisdiction="fuzhoulu").get_service_request(number)
    assert raised.value.response.status_code == 404
    with pytest.raises(requests.HTTPError) as raised:
        GeoReport(server, jurisdiction="nowhere").get_service_list()
    assert raised.value.response.status_code == 404


# ---- 6: errors, as the library and as a plain client see them ----

@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_library_raises_on_what_does_not_exist(server, fmt):
    """An unknown service or request is a 404 that georeport raises as an HTTPError; a wrong filter a 400."""
    client = GeoReport(server, output_format=fmt)
    for call, argument in ((client.get_service_definition, "nope"), (client.get_service_request, "20261120-9999")):
        with pytest.raises(requests.HTTPError) as raised:
            call(argument)
        assert raised.value.response.status_code == 404, call.__name__
    with pytest.raises(requests.HTTPError) as raised:
        client.get_service_requests(status="pending")
    assert raised.value.response.status_code == 400


def test_error_bodies_are_georeport_errors(server, post):
    """A 404, a missing api_key (403) and a wrong attribute answer (400) each say what went wrong."""
    response = requests.get(f"{server}/services/nope.json", timeout=10)
    body = response.json()
    assert response.status_code == 404 and errors_of(ERRORS, body) == []
    assert body[0]["code"] == 404 and "nope" in body[0]["description"]
    as_xml = requests.get(f"{server}/services/nope.xml", timeout=10)
    error = xmltodict.parse(as_xml.content)["errors"]["error"]
    assert as_xml.status_code == 404 and error["code"] == "404" and error["description"] == body[0]["description"]

    refused = post("json", **lighting_form(api_key=""))
    assert refused.status_code == 403 and errors_of(ERRORS, refused.json()) == []
    assert refused.json()[0]["code"] == 403 and "api_key" in refused.json()[0]["description"]
    wrong = post("json", **lighting_form(**{"attribute[light_kind]": "neon"}))
    assert wrong.status_code == 400 and errors_of(ERRORS, wrong.json()) == []
    assert "attribute[light_kind]" in wrong.json()[0]["description"] and "neon" in wrong.json()[0]["description"]
    assert db.session.scalar(select(Open311Submission.status)) == "rejected"  # kept, with the reason
