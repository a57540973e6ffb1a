"""POST and GET requests, tokens and media through the Open311 door, on the real database and the frozen clock."""
from datetime import timedelta
from io import BytesIO
from urllib.parse import urlparse
from xml.etree import ElementTree

import pytest
from PIL import Image
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.notify.models import Notification
from dispatch.open311 import submissions
from dispatch.open311.models import Open311Submission
from dispatch.org.models import Resident
from dispatch.org.principal import Principal
from dispatch.org.services import revoke_token
from dispatch.sla import policies
from dispatch.storage import storage
from dispatch.tickets import pipeline
from dispatch.tickets.lifecycle import Status
from dispatch.tickets.models import Channel, Ticket, TicketEvent
from tests.open311.conftest import BASE
from tests.open311.georeport_schemas import CREATED, ERRORS, REQUESTS, errors_of


@pytest.fixture(autouse=True)
def sla_rules(org):
    """The default SLA rules, so new tickets get their due times."""
    policies.seed_defaults()


# ---- helpers ----

def ok(response):
    """The JSON body of a 200 answer (the body is shown when it is not a 200)."""
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def created_id(response):
    """The service_request_id of a successful POST."""
    return ok(response)[0]["service_request_id"]


def ticket_numbered(number):
    """The ticket behind a service_request_id, fresh from the database."""
    db.session.expire_all()
    return db.session.scalar(select(Ticket).where(Ticket.number == number))


def last_submission():
    """The most recent Open311Submission row, fresh from the database."""
    db.session.expire_all()
    return db.session.scalar(select(Open311Submission).order_by(Open311Submission.id.desc()))


def ids_of(response):
    """The service_request_ids of a GET requests answer (checked against the REQUESTS schema)."""
    body = ok(response)
    assert errors_of(REQUESTS, body) == []
    return [item["service_request_id"] for item in body]


def get_requests(client, **args):
    """GET requests.json with query arguments."""
    return client.get(f"{BASE}/requests.json", query_string=args)


def assert_error(response, status):
    """A GeoReport error answer: the status, and a body that validates against ERRORS."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert errors_of(ERRORS, body) == [], body
    assert all(item["code"] == status for item in body)
    return " ".join(item["description"] for item in body)


def break_ticket_creation(monkeypatch):
    """Make tickets.pipeline.open_ticket fail as a database outage would (monkeypatch.undo() mends it)."""
    def broken(*args, **kwargs):
        raise RuntimeError("database went away")
    monkeypatch.setattr(pipeline, "open_ticket", broken)


def jpeg_bytes(size=(40, 30)):
    """A small valid JPEG made with Pillow."""
    out = BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(out, "JPEG")
    return out.getvalue()


# ---- A. POST requests that succeed ----

def test_a_post_opens_an_ordinary_ticket_with_its_sla_and_timeline(post_request, org):
    """A successful POST makes a ticket of channel open311, in the key's community, with SLA and a 'created' event."""
    body = ok(post_request(service_code="water_power", description="厨房水管漏水",
                           **{"attribute[someone_home]": "yes"}))
    assert errors_of(CREATED, body) == []
    assert set(body[0]) >= {"service_request_id", "service_notice"} and "token" not in body[0]
    ticket = ticket_numbered(body[0]["service_request_id"])
    assert ticket.channel is Channel.OPEN311
    assert ticket.category.code == "water_power"
    assert ticket.community_id == org.c1.id
    assert ticket.resolution_due_at is not None
    assert ticket.number in body[0]["service_notice"]
    first = db.session.scalar(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id))
    assert first.kind == "created"
    assert "上门：有人在家" in ticket.description


def test_a_post_answers_in_xml_too(post_request):
    """requests.xml answers <service_requests><request> with the id and the notice."""
    response = post_request(fmt="xml", description="路灯不亮")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/xml")
    root = ElementTree.fromstring(response.data)
    assert root.tag == "service_requests"
    request = root.find("request")
    number = request.findtext("service_request_id")
    assert ticket_numbered(number) is not None
    assert number in request.findtext("service_notice")
    assert request.find("token") is None


def test_a_post_makes_the_phone_a_resident_without_renaming_anyone(post_request, org, make_ticket):
    """The reporter's phone becomes a Resident (notified like a caller); a client's name never renames a resident
    already known by that phone: it is kept on the submission (王 + 小明 → 王小明; Latin: first last)."""
    number = created_id(post_request(phone="13800138000", first_name="小明", last_name="王"))
    resident = db.session.scalar(select(Resident).where(Resident.phone == "13800138000"))
    assert resident is not None and resident.name is None
    assert ticket_numbered(number).resident_id == resident.id
    assert submissions.reporter_name(last_submission()) == "王小明"
    created_id(post_request(phone="13800138000", first_name="Anna", last_name="Schmidt"))
    assert db.session.scalar(select(Resident.name).where(Resident.phone == "13800138000")) is None
    assert submissions.reporter_name(last_submission()) == "Anna Schmidt"


def test_a_post_queues_notifications_for_the_new_ticket(post_request, org):
    """news.announce('created') writes at least one outbox row for the ticket (the director's new_ticket)."""
    ticket = ticket_numbered(created_id(post_request(description="楼道灯坏了")))
    rows = db.session.scalars(select(Notification).where(Notification.ticket_id == ticket.id)).all()
    assert rows, "no notification queued for the new ticket"
    assert any(row.event == "new_ticket" for row in rows)


def test_a_the_submission_is_kept_processed_without_the_api_key(post_request):
    """The Open311Submission row: processed, linked to the ticket, params without api_key, email kept."""
    number = created_id(post_request(email="zhang@example.com", account_id="acc-7", device_id="dev-1"))
    submission = last_submission()
    assert submission.status == "processed" and submission.error is None
    assert submission.ticket_id == ticket_numbered(number).id
    assert "api_key" not in submission.params
    assert submission.params["service_code"] == ["lighting"]
    assert submission.email == "zhang@example.com"
    assert (submission.account_id, submission.device_id) == ("acc-7", "dev-1")
    assert submission.attempts == 1


def test_a_account_id_is_echoed_when_given_and_left_out_otherwise(post_request):
    """The answer carries back the account_id the client sent; without one there is no account_id (not null)."""
    assert ok(post_request(account_id="acc-9"))[0]["account_id"] == "acc-9"
    assert "account_id" not in ok(post_request())[0]


def test_a_lat_long_alone_is_a_location(post_request):
    """lat and long without an address are enough, and are stored on the ticket."""
    number = created_id(post_request(address_string=None, lat="36.06", long="120.38"))
    ticket = ticket_numbered(number)
    assert (ticket.latitude, ticket.longitude) == (36.06, 120.38)


def test_a_address_id_alone_is_a_location(post_request):
    """An address_id alone is kept as the address staff see and read back as address_id."""
    number = created_id(post_request(address_string=None, address_id="A-17"))
    assert ticket_numbered(number).address == "地址编号 A-17"


def test_a_api_key_in_the_query_string_of_a_post_is_accepted(client, key_for):
    """api_key may come in the query string of the POST."""
    response = client.post(f"{BASE}/requests.json?api_key={key_for()}",
                           data={"service_code": "lighting", "address_string": "盐城路8号"})
    assert ticket_numbered(created_id(response)) is not None


# ---- B. POST validation ----

WATER = {"service_code": "water_power"}
SANITATION = {"service_code": "sanitation"}
INVALID_FORMS = {
    "missing service_code": {"service_code": None},
    "unknown service_code": {"service_code": "no_such_service"},
    "no location": {"address_string": None},
    "lat without long": {"lat": "36.06"},
    "lat 91": {"lat": "91", "long": "120.38"},
    "long abc": {"lat": "36.06", "long": "abc"},
    "description of 4001": {"description": "灯" * 4001},
    "bad email": {"email": "not-an-email"},
    "ftp media_url": {"media_url": "ftp://x"},
    "required attribute missing": {**WATER},
    "singlevaluelist bad key": {**WATER, "attribute[someone_home]": "maybe"},
    "multivaluelist bad key": {**SANITATION, "attribute[problem][]": ["garbage", "noise"]},
    "unknown attribute": {"attribute[colour]": "red"},
    "number attribute abc": {"attribute[floor]": "abc"},
    "datetime attribute tomorrow": {**WATER, "attribute[someone_home]": "yes", "attribute[visit_time]": "tomorrow"},
    "bad phone": {"phone": "call me"},
}


@pytest.mark.parametrize("form", INVALID_FORMS.values(), ids=INVALID_FORMS.keys())
def test_b_an_invalid_post_is_a_400_and_kept_as_rejected(post_request, form):
    """Each mistake is a GeoReport 400, no ticket is opened, and the submission is kept as rejected with why."""
    description = assert_error(post_request(**form), 400)
    assert db.session.scalar(select(Ticket.id)) is None
    submission = last_submission()
    assert submission.status == "rejected" and submission.ticket_id is None
    assert submission.error and description


def test_b_an_unknown_service_code_is_explained_in_terms_of_service_code(post_request):
    """The 400 for an unknown service_code names service_code and the code sent."""
    description = assert_error(post_request(service_code="no_such_service"), 400)
    assert "service_code" in description and "no_such_service" in description


def test_b_a_description_of_4000_characters_is_fine(post_request):
    """4,000 characters is the limit, not past it."""
    assert ticket_numbered(created_id(post_request(description="灯" * 4000))) is not None


def test_b_multivaluelist_takes_several_values(post_request):
    """attribute[problem][]=garbage&attribute[problem][]=smell is stored as a list and shown by name."""
    number = created_id(post_request(service_code="sanitation", **{"attribute[problem][]": ["garbage", "smell"]}))
    assert last_submission().attributes == {"problem": ["garbage", "smell"]}
    assert "问题：垃圾没有清运、异味" in ticket_numbered(number).description


def test_b_number_and_datetime_attributes_are_normalised(post_request):
    """A number attribute becomes a number, a datetime one an ISO time in UTC."""
    created_id(post_request(service_code="water_power", **{"attribute[someone_home]": "no", "attribute[floor]": "3",
                                                            "attribute[visit_time]": "2026-11-22T09:00:00+08:00"}))
    assert last_submission().attributes == {"someone_home": "no", "floor": 3,
                                            "visit_time": "2026-11-22T01:00:00+00:00"}


def test_b_the_answers_are_for_staff_the_description_for_everyone(client, post_request):
    """A maximal description reads back as written (valid GeoReport); the attribute answers appended for staff
    (who lives alone, when nobody is home) are not published."""
    number = created_id(post_request(description="灯" * 4000, **{"attribute[floor]": "3"}))
    body = ok(client.get(f"{BASE}/requests/{number}.json"))
    assert errors_of(REQUESTS, body) == []
    assert body[0]["description"] == "灯" * 4000
    assert "楼层：3" in ticket_numbered(number).description


def test_b_a_media_url_without_host_is_refused_or_reads_back_valid(client, post_request):
    """media_url 'http://' is either a 400 or reads back as a valid uri."""
    response = post_request(media_url="http://")
    if response.status_code == 400:
        return
    body = ok(client.get(f"{BASE}/requests/{created_id(response)}.json"))
    assert errors_of(REQUESTS, body) == []


def test_b_an_out_of_range_datetime_attribute_is_a_400(post_request):
    """attribute[visit_time]=0001-01-01T00:00:00+08:00 is the client's mistake: 400, rejected."""
    response = post_request(service_code="water_power", **{"attribute[someone_home]": "yes",
                                                            "attribute[visit_time]": "0001-01-01T00:00:00+08:00"})
    assert_error(response, 400)
    assert last_submission().status == "rejected"


# ---- D. Scope and jurisdiction of a POST ----

def test_d_a_community_key_cannot_post_into_another_community(post_request):
    """jurisdiction_id=fuzhoulu with a 盐城路社区 key is a 403, kept as rejected."""
    assert_error(post_request(jurisdiction_id="fuzhoulu"), 403)
    assert last_submission().status == "rejected"


def test_d_a_street_key_posts_into_the_community_named_by_jurisdiction_id(post_request, key_for, org):
    """A 湛山街道 key with jurisdiction_id=fuzhoulu opens the ticket in 福州路社区."""
    number = created_id(post_request(api_key=key_for("street:zhanshan"), jurisdiction_id="fuzhoulu",
                                     address_string="某路1号"))
    assert ticket_numbered(number).community_id == org.c2.id


def test_d_a_street_key_finds_the_community_by_the_road_in_the_address(post_request, key_for, org):
    """Without jurisdiction_id, 福州路12号 names 福州路社区."""
    number = created_id(post_request(api_key=key_for("street:zhanshan"), address_string="福州路12号"))
    assert ticket_numbered(number).community_id == org.c2.id


def test_d_a_street_key_without_jurisdiction_or_known_road_is_told_to_send_jurisdiction_id(post_request, key_for):
    """No jurisdiction and an address naming no community road: 400 explaining jurisdiction_id."""
    description = assert_error(post_request(api_key=key_for("street:zhanshan"), address_string="人民路1号"), 400)
    assert "jurisdiction_id" in description


def test_d_an_unknown_jurisdiction_is_a_404(post_request):
    """jurisdiction_id naming nothing is a 404."""
    assert_error(post_request(jurisdiction_id="nowhere"), 404)


def test_d_a_street_key_cannot_post_into_another_street(post_request, key_for):
    """A 湛山街道 key with jurisdiction_id=xiangganghuayuan (珠海路街道) is a 403."""
    assert_error(post_request(api_key=key_for("street:zhanshan"), jurisdiction_id="xiangganghuayuan"), 403)
    assert db.session.scalar(select(Ticket.id)) is None


def test_d_a_district_key_may_post_anywhere(post_request, key_for, org):
    """A district key with jurisdiction_id=xiangganghuayuan opens the ticket there."""
    number = created_id(post_request(api_key=key_for("district"), jurisdiction_id="xiangganghuayuan"))
    assert ticket_numbered(number).community_id == org.c3.id


# ---- E. GET requests ----

def test_e_the_default_window_is_the_last_90_days(client, post_request, clock):
    """A request 91 days old is gone by default but found with a start_date/end_date window covering it."""
    number = created_id(post_request())
    assert number in ids_of(get_requests(client))
    clock.advance(days=91)
    assert number not in ids_of(get_requests(client))
    found = ids_of(get_requests(client, start_date="2026-11-19T00:00:00+08:00", end_date="2026-11-21T00:00:00+08:00"))
    assert found == [number]


def test_e_a_start_date_alone_and_an_end_date_alone_open_90_day_windows(client, post_request, clock):
    """start_date alone reaches 90 days forward; end_date alone 90 days back."""
    number = created_id(post_request())
    clock.advance(days=200)
    assert ids_of(get_requests(client, start_date="2026-11-01")) == [number]
    assert ids_of(get_requests(client, end_date="2027-01-01")) == [number]
    assert ids_of(get_requests(client, end_date="2027-03-01")) == []


@pytest.mark.parametrize("args", [
    {"start_date": "2026-08-01T00:00:00+08:00", "end_date": "2026-10-31T00:00:00+08:00"},  # 91 days
    {"start_date": "2026-11-20", "end_date": "2026-11-01"},
    {"start_date": "yesterday"},
    {"end_date": "2026-13-01"},
    {"status": "pending"},
    {"page_size": "0"},
    {"page_size": "1001"},
    {"page": "0"},
    {"page": "-1"},
], ids=["span 91 days", "start after end", "bad start", "bad end", "status pending", "page_size 0",
        "page_size 1001", "page 0", "page -1"])
def test_e_bad_filters_are_400(client, org, args):
    """Each bad filter is a GeoReport 400."""
    assert_error(get_requests(client, **args), 400)


def test_e_a_90_day_window_is_fine(client, org):
    """Exactly 90 days between start_date and end_date is allowed."""
    ok(get_requests(client, start_date="2026-08-01T00:00:00+08:00", end_date="2026-10-30T00:00:00+08:00"))


def test_e_status_filters_open_closed_and_both(client, post_request, org):
    """status=open, status=closed and status=open,closed select by GeoReport status."""
    open_one, closed_one = created_id(post_request()), created_id(post_request())
    pipeline.act(Principal.from_user(org.director), ticket_numbered(closed_one), "invalidate", note="重复提交")
    assert ids_of(get_requests(client, status="open")) == [open_one]
    assert ids_of(get_requests(client, status="closed")) == [closed_one]
    assert set(ids_of(get_requests(client, status="open,closed"))) == {open_one, closed_one}


def test_e_service_code_takes_a_list(client, post_request):
    """service_code=lighting,sanitation selects both and leaves the others out."""
    lighting = created_id(post_request(service_code="lighting"))
    sanitation = created_id(post_request(service_code="sanitation", **{"attribute[problem]": "garbage"}))
    created_id(post_request(service_code="property"))
    assert set(ids_of(get_requests(client, service_code="lighting,sanitation"))) == {lighting, sanitation}
    assert ids_of(get_requests(client, service_code="sanitation")) == [sanitation]


def test_e_service_request_id_overrides_the_other_filters(client, post_request, clock):
    """A list of ids is answered whatever the window, status or service say."""
    first, second = created_id(post_request()), created_id(post_request())
    clock.advance(days=200)
    found = ids_of(get_requests(client, service_request_id=f"{first},{second}", service_code="sanitation",
                                status="closed"))
    assert set(found) == {first, second}


def test_e_page_and_page_size(client, post_request, clock):
    """Newest first; page_size=2 splits five requests into pages of 2, 2 and 1."""
    numbers = []
    for _ in range(5):
        numbers.append(created_id(post_request()))
        clock.advance(minutes=1)
    newest_first = numbers[::-1]
    pages = [ids_of(get_requests(client, page_size="2", page=str(p))) for p in (1, 2, 3, 4)]
    assert pages == [newest_first[:2], newest_first[2:4], newest_first[4:], []]
    assert ids_of(get_requests(client)) == newest_first


def test_e_jurisdiction_id_filters(client, post_request, key_for):
    """jurisdiction_id=fuzhoulu lists only 福州路社区; the street lists both of its communities."""
    street = key_for("street:zhanshan")
    yancheng = created_id(post_request(api_key=street, jurisdiction_id="yanchenglu"))
    fuzhou = created_id(post_request(api_key=street, jurisdiction_id="fuzhoulu"))
    assert ids_of(get_requests(client, jurisdiction_id="fuzhoulu")) == [fuzhou]
    assert set(ids_of(get_requests(client, jurisdiction_id="zhanshan"))) == {yancheng, fuzhou}
    assert ids_of(get_requests(client, jurisdiction_id="zhuhailu")) == []
    assert_error(client.get(f"{BASE}/requests/{yancheng}.json", query_string={"jurisdiction_id": "fuzhoulu"}), 404)


def test_e_without_a_key_only_open311_tickets_are_visible(client, post_request, make_ticket):
    """An anonymous reader sees Open311 tickets, not a phone ticket, even by its id."""
    open311 = created_id(post_request())
    phone = make_ticket().number
    assert ids_of(get_requests(client)) == [open311]
    assert ids_of(get_requests(client, service_request_id=phone)) == []
    assert_error(client.get(f"{BASE}/requests/{phone}.json"), 404)
    assert ids_of(client.get(f"{BASE}/requests/{open311}.json")) == [open311]


def test_e_a_community_key_sees_its_community_not_another(client, post_request, make_ticket, key_for, org):
    """A 盐城路社区 key sees its phone tickets too, and a 香港花园社区 ticket is a 404 by id."""
    open311 = created_id(post_request())
    phone = make_ticket().number
    other = make_ticket(community=org.c3).number
    key = key_for()
    assert set(ids_of(get_requests(client, api_key=key))) == {open311, phone}
    assert ids_of(client.get(f"{BASE}/requests/{phone}.json", query_string={"api_key": key})) == [phone]
    assert_error(client.get(f"{BASE}/requests/{other}.json", query_string={"api_key": key}), 404)


def test_e_a_wrong_api_key_on_get_is_a_403(client, post_request):
    """A GET with a wrong api_key is refused rather than treated as anonymous."""
    number = created_id(post_request())
    assert_error(get_requests(client, api_key="o311_wrong"), 403)
    assert_error(client.get(f"{BASE}/requests/{number}.json", query_string={"api_key": "nope"}), 403)


def test_e_public_read_policy_all_and_none(app, client, post_request, make_ticket, monkeypatch):
    """OPEN311_PUBLIC_READ=all shows phone tickets to anonymous readers; none makes a key necessary (403)."""
    created_id(post_request())
    phone = make_ticket().number
    monkeypatch.setitem(app.config, "OPEN311_PUBLIC_READ", "all")
    assert phone in ids_of(get_requests(client))
    monkeypatch.setitem(app.config, "OPEN311_PUBLIC_READ", "none")
    assert_error(get_requests(client), 403)
    assert_error(client.get(f"{BASE}/requests/{phone}.json"), 403)


def test_e_a_read_back_request_has_its_georeport_fields(client, post_request):
    """The request reads back open, with its service, address, agency and times in +08:00."""
    number = created_id(post_request(description="3号楼楼道灯坏了", lat="36.06", long="120.38"))
    item = ok(client.get(f"{BASE}/requests/{number}.json"))[0]
    assert item["status"] == "open" and item["service_code"] == "lighting"
    assert item["address"] == "盐城路8号" and item["agency_responsible"] == "盐城路社区"
    assert item["requested_datetime"] == "2026-11-20T10:00:00+08:00"
    assert item["expected_datetime"] and item["expected_datetime"].endswith("+08:00")
    assert (item["lat"], item["long"]) == (36.06, 120.38)


# ---- F. Status mapping ----

def test_f_an_invalidated_ticket_is_closed_with_its_note(client, post_request, org):
    """invalidate with a note → closed, the note in status_notes, no service_notice."""
    number = created_id(post_request())
    pipeline.act(Principal.from_user(org.director), ticket_numbered(number), "invalidate", note="非本社区辖区")
    item = ok(client.get(f"{BASE}/requests/{number}.json"))[0]
    assert item["status"] == "closed"
    assert "非本社区辖区" in item["status_notes"]
    assert item["service_notice"] is None


def test_f_a_merged_ticket_is_closed_naming_the_other(client, post_request, org):
    """merge into another → closed, and status_notes names the surviving ticket's number."""
    duplicate, survivor = created_id(post_request()), created_id(post_request())
    pipeline.act(Principal.from_user(org.director), ticket_numbered(duplicate), "merge", into=survivor)
    item = ok(client.get(f"{BASE}/requests/{duplicate}.json"))[0]
    assert item["status"] == "closed"
    assert survivor in item["status_notes"]
    assert ok(client.get(f"{BASE}/requests/{survivor}.json"))[0]["status"] == "open"


@pytest.mark.parametrize("action, note, status", [
    ("resolve", "已更换灯泡", "closed"),  # 办结: closed, with how it was resolved
    ("wait_for_resident", "请提供具体楼号", "open"),  # open, with what the resident should add
])
def test_f_the_note_of_the_last_step_is_in_status_notes(client, post_request, org, action, note, status):
    """After accept and a step with a note: open or closed as GeoReport counts it, that note in status_notes."""
    number = created_id(post_request())
    director = Principal.from_user(org.director)
    pipeline.act(director, ticket_numbered(number), "accept")
    pipeline.act(director, ticket_numbered(number), action, note=note)
    item = ok(client.get(f"{BASE}/requests/{number}.json"))[0]
    assert item["status"] == status and note in item["status_notes"]


def test_f_an_accepted_ticket_is_still_open(client, post_request, org):
    """accept → still open, with the accepted note."""
    number = created_id(post_request())
    pipeline.act(Principal.from_user(org.director), ticket_numbered(number), "accept")
    item = ok(client.get(f"{BASE}/requests/{number}.json"))[0]
    assert item["status"] == "open" and item["status_notes"] == "社区已受理，正在安排处理"


def test_f_status_notes_come_from_the_event_that_set_the_current_status(client, post_request, org):
    """Returned with a reason, dispatched again, then taken back without one: the old reason is not shown."""
    number = created_id(post_request())
    director, admin = Principal.from_user(org.director), Principal.from_user(org.admin)
    pipeline.act(director, ticket_numbered(number), "accept")
    pipeline.act(director, ticket_numbered(number), "dispatch", assignee="volunteer")
    pipeline.act(Principal.from_user(org.volunteer), ticket_numbered(number), "return", note="不是我负责的片区")
    pipeline.act(director, ticket_numbered(number), "dispatch", assignee="volunteer")
    pipeline.act(admin, ticket_numbered(number), "take_back")
    assert ticket_numbered(number).status is Status.RETURNED
    item = ok(client.get(f"{BASE}/requests/{number}.json"))[0]
    assert "不是我负责的片区" not in item["status_notes"]


# ---- G. tokens ----

def test_g_the_token_of_a_processed_submission_gives_its_id(client, post_request):
    """GET tokens/{token}.json of a processed submission → [{service_request_id, token}]."""
    number = created_id(post_request())
    token = last_submission().token
    body = ok(client.get(f"{BASE}/tokens/{token}.json"))
    assert errors_of(CREATED, body) == []
    assert body == [{"service_request_id": number, "token": token}]
    root = ElementTree.fromstring(client.get(f"{BASE}/tokens/{token}.xml").data)
    assert root.find("request").findtext("service_request_id") == number


def test_g_an_unknown_token_is_a_404(client, org):
    """A token that names no submission is a 404."""
    assert_error(client.get(f"{BASE}/tokens/{'0' * 32}.json"), 404)


def test_g_a_rejected_submission_token_is_a_404(client, post_request):
    """The token of a rejected submission does not stand for a request."""
    post_request(service_code="no_such_service")
    assert_error(client.get(f"{BASE}/tokens/{last_submission().token}.json"), 404)


def test_g_a_server_failure_answers_a_token_and_the_retry_job_opens_the_ticket(client, post_request, clock,
                                                                               monkeypatch):
    """create_ticket failing once: 200 with a token, submission failed; run_retries opens it; the token gives the id."""
    break_ticket_creation(monkeypatch)
    body = ok(post_request(account_id="acc-1"))
    assert errors_of(CREATED, body) == []
    assert "service_request_id" not in body[0] and body[0]["token"]
    assert body[0]["account_id"] == "acc-1"
    token = body[0]["token"]
    submission = last_submission()
    assert (submission.status, submission.token) == ("failed", token)
    assert "RuntimeError" in submission.error
    assert ok(client.get(f"{BASE}/tokens/{token}.json")) == [{"token": token}]

    monkeypatch.undo()
    assert submissions.run_retries(clock()) == 0  # not before a pause
    assert submissions.run_retries(clock.advance(minutes=2)) == 1
    submission = last_submission()
    assert submission.status == "processed"
    number = db.session.scalar(select(Ticket.number).where(Ticket.id == submission.ticket_id))
    assert ok(client.get(f"{BASE}/tokens/{token}.json")) == [{"service_request_id": number, "token": token}]
    assert submissions.run_retries(clock()) == 0


def test_g_failed_attempts_are_counted_and_retries_stop_at_the_limit(client, post_request, clock, monkeypatch):
    """Each failed attempt counts, the pauses grow (2, 6, 14, 30 minutes after it came); after MAX_ATTEMPTS the
    submission is abandoned, and its token says to send it again."""
    break_ticket_creation(monkeypatch)
    token = ok(post_request())[0]["token"]
    assert last_submission().attempts == 1
    for minutes, attempts in ((2, 2), (5, 2), (6, 3), (14, 4), (30, 5)):
        clock.at = last_submission().received_at + timedelta(minutes=minutes)
        submissions.run_retries(clock())
        assert last_submission().attempts == attempts, minutes
    submissions.run_retries(clock.advance(hours=1))
    assert (last_submission().status, last_submission().attempts) == ("abandoned", submissions.MAX_ATTEMPTS)
    assert "重新提交" in assert_error(client.get(f"{BASE}/tokens/{token}.json"), 404)


def test_g_a_submission_cut_off_mid_way_is_picked_up(post_request, clock, monkeypatch):
    """A submission left 'received' (the worker died between storing and processing) is processed by the job."""
    monkeypatch.setattr(submissions, "process", lambda principal, submission: None)
    post_request()
    monkeypatch.undo()
    assert last_submission().status == "received"
    assert submissions.run_retries(clock.advance(minutes=1)) == 0  # it may still be in the works
    assert submissions.run_retries(clock.advance(minutes=1)) == 1
    assert last_submission().status == "processed"


def test_g_a_submission_accepted_before_its_key_was_revoked_is_still_opened(client, post_request, clock,
                                                                            monkeypatch):
    """The client was told it was received while the key was live: revoking the key later does not lose it."""
    break_ticket_creation(monkeypatch)
    token = ok(post_request())[0]["token"]
    monkeypatch.undo()
    revoke_token("o311-community-yanchenglu", "open311")
    assert submissions.run_retries(clock.advance(minutes=2)) == 1
    assert last_submission().status == "processed"
    assert "service_request_id" in ok(client.get(f"{BASE}/tokens/{token}.json"))[0]


# ---- H. Media ----

def test_h_a_photo_is_served_by_a_signed_media_url(app, client, post_request, org):
    """The first photo's media_url is a signed link under /open311/v2/media/ serving the image; a wrong sig is a 404."""
    number = created_id(post_request(media_url="https://example.com/a.jpg"))
    data = jpeg_bytes()
    pipeline.act(Principal.from_user(org.director), ticket_numbered(number), "photo",
                 note="添加照片", data=data, storage=storage(app), max_bytes=1024 * 1024)
    body = ok(client.get(f"{BASE}/requests/{number}.json"))
    assert errors_of(REQUESTS, body) == []
    parts = urlparse(body[0]["media_url"])
    assert parts.path.startswith(f"{BASE}/media/") and "sig=" in parts.query
    image = client.get(f"{parts.path}?{parts.query}")
    assert image.status_code == 200 and image.data == data
    assert image.content_type == "image/jpeg"
    for wrong in (f"{parts.path}?sig={'0' * 32}", parts.path, f"{BASE}/media/ab/nothing.jpg?{parts.query}"):
        response = client.get(wrong)
        assert response.status_code == 404
        assert ElementTree.fromstring(response.data).findtext("error/code") == "404"


def test_h_without_a_photo_the_clients_media_url_is_read_back(client, post_request):
    """A request without photos reads back the media_url the client sent."""
    number = created_id(post_request(media_url="https://example.com/a.jpg"))
    assert ok(client.get(f"{BASE}/requests/{number}.json"))[0]["media_url"] == "https://example.com/a.jpg"
