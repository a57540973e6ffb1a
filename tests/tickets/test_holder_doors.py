"""The holder's actions, through every door, as the holder, a past holder, the director and another volunteer.

Only whoever holds the ticket's open task may sign, start, give back, pause, resume, ask for more time or
resolve it (and, among volunteers and departments, comment and add photos); every other caller is refused
with a 403 (or a 404 where they cannot see it) and the ticket is left exactly as it was.
"""
from io import BytesIO

import pytest
from PIL import Image
from sqlalchemy import func, select

from dispatch.extensions import db
from dispatch.org.principal import Principal
from dispatch.org.services import create_user
from dispatch.tickets import pipeline
from dispatch.tickets.models import Ticket, TicketEvent, TicketPhoto
from tests.conftest import PASSWORD, csrf_from, login

CONSOLE, DESK, API = "console", "desk", "api"


def jpeg():
    out = BytesIO()
    Image.new("RGB", (40, 30), (30, 120, 200)).save(out, "JPEG")
    return out.getvalue()


# action: (the state the holder brings the ticket to first, the form, its console URL, its desk URL or None)
ACTIONS = {
    "sign": ((), {}, "actions/sign", "sign"),
    "start": (("sign",), {}, "actions/start", "start"),
    "return": (("sign",), {"note": "不会修"}, "actions/return", "decline"),
    "wait_for_resident": (("sign",), {"note": "家中无人"}, "actions/wait_for_resident", None),
    "resume": (("sign", "wait_for_resident"), {}, "actions/resume", None),
    "request_extension": (("sign",), {"note": "等配件", "extension_days": "3"}, "actions/request_extension", None),
    "resolve": (("sign", "start"), {"note": "已修好"}, "actions/resolve", "finish"),
    "comment": (("sign",), {"note": "今天下午去"}, "comments", "comments"),
    "photo": (("sign",), {}, "photos", "photos"),
}
NOTES = {"wait_for_resident": "家中无人"}


@pytest.fixture
def people(org):
    """The holder (volunteer), a past holder (volunteer2, withdrawn), the director, a volunteer of another ticket."""
    other, _ = create_user("volunteer3", "volunteer", PASSWORD, "赵师傅", community=org.c1)
    return {"holder": "volunteer", "past holder": "volunteer2", "director": "director", "other volunteer": "volunteer3"}


@pytest.fixture
def held(org, make_ticket, people):
    """held(action) → a ticket dispatched to volunteer2, withdrawn, dispatched to volunteer, brought to the
    state the action starts from by its holder; another ticket is volunteer3's."""
    def make(action):
        director, holder = Principal.from_user(org.director), Principal.from_user(org.volunteer)
        other = make_ticket("5号楼门口路灯不亮")
        pipeline.act(director, other, "accept")
        pipeline.act(director, other, "dispatch", assignee="volunteer3")
        ticket = make_ticket()
        pipeline.act(director, ticket, "accept")
        pipeline.act(director, ticket, "dispatch", assignee="volunteer2")
        pipeline.act(director, ticket, "withdraw", note="改派李师傅")
        pipeline.act(director, ticket, "dispatch", assignee="volunteer")
        for step in ACTIONS[action][0]:
            pipeline.act(holder, ticket, step, note=NOTES.get(step))
        return ticket.number
    return make


def snapshot(number):
    """What a refused action must leave untouched: state, version, timeline and photos."""
    db.session.expire_all()
    ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
    count = lambda model: db.session.scalar(select(func.count()).select_from(model).where(  # noqa: E731
        model.ticket_id == ticket.id))
    return ticket.status, ticket.version, count(TicketEvent), count(TicketPhoto)


def ticket_numbered(number):
    db.session.expire_all()
    return db.session.scalar(select(Ticket).where(Ticket.number == number))


def version_of(number):
    db.session.expire_all()
    return db.session.scalar(select(Ticket.version).where(Ticket.number == number))


def send(client, door, action, number):
    """POST the action through a door as the logged-in user (console, desk) or a community token (API)."""
    _, form, console_path, desk_path = ACTIONS[action]
    data = {**form, "version": version_of(number)}
    if action in ("photo", "resolve") and door == DESK:
        data["photo"] = (BytesIO(jpeg()), "after.jpg")
    if action == "photo":
        data["photo"] = (BytesIO(jpeg()), "p.jpg")
    if door == API:
        body = {"note": form.get("note"), **({"extension_days": 3} if "extension_days" in form else {})}
        path = "comments" if action == "comment" else "transitions"
        return client.post(f"/api/v1/tickets/{number}/{path}", json={**body, "action": action}
                           if path == "transitions" else {"note": form["note"]})
    home = "/desk/" if door == DESK else "/tickets"
    token = csrf_from(client, home)
    url = f"/desk/tasks/{number}/{desk_path}" if door == DESK else f"/tickets/{number}/{console_path}"
    return client.post(url, data={"csrf_token": token, **data}, content_type="multipart/form-data")


def doors_of(action):
    return [door for door in (CONSOLE, DESK) if door == CONSOLE or ACTIONS[action][3]]


CASES = [(action, door) for action in ACTIONS for door in doors_of(action)]


# The desk is the volunteers' and departments' door; managers may always comment and add photos.
REFUSED = [(action, door, who) for action, door in CASES for who in ("past holder", "director", "other volunteer")
           if not (who == "director" and (door == DESK or action in ("comment", "photo")))]


@pytest.mark.parametrize("action, door, who", REFUSED)
def test_only_the_holder_may(client, org, people, held, action, door, who):
    number = held(action)
    before = snapshot(number)
    login(client, people[who])
    response = send(client, door, action, number)
    assert response.status_code in (403, 404, 409), (response.status_code, response.get_data(as_text=True)[:300])
    if response.status_code == 403:
        assert "李师傅" in response.get_data(as_text=True)
    assert snapshot(number) == before


@pytest.mark.parametrize("action, door", CASES)
def test_the_holder_may(client, org, people, held, action, door):
    number = held(action)
    before = snapshot(number)
    login(client, "volunteer")
    response = send(client, door, action, number)
    assert response.status_code in (302, 303), (response.status_code, response.get_data(as_text=True)[:300])
    assert snapshot(number) != before


@pytest.mark.parametrize("action", [a for a in ACTIONS if a not in ("comment", "photo")])
def test_a_token_may_not_act_for_the_holder(api_as, org, people, held, action):
    number = held(action)
    before = snapshot(number)
    response = send(api_as("community:yanchenglu"), API, action, number)
    assert response.status_code == 403 and "李师傅" in response.get_json()["error"]["message"]
    assert snapshot(number) == before


def test_a_reopened_ticket_is_no_longer_the_past_holders_to_resolve(client, org, make_ticket, people):
    """The hole a prober found: dispatched, signed, resolved, reopened by the director; the volunteer's POST to the
    console's resolve route resolved it again, skipping the director's re-dispatch."""
    director, volunteer = Principal.from_user(org.director), Principal.from_user(org.volunteer)
    ticket = make_ticket()
    pipeline.act(director, ticket, "accept")
    pipeline.act(director, ticket, "dispatch", assignee="volunteer")
    for step in ("sign", "start"):
        pipeline.act(volunteer, ticket, step)
    pipeline.act(volunteer, ticket, "resolve", note="已修好")
    pipeline.act(director, ticket, "reopen", note="居民说灯还是不亮")
    before = snapshot(ticket.number)
    login(client, "volunteer")
    token = csrf_from(client, "/desk/")
    for path in ("actions/resolve", "comments"):
        response = client.post(f"/tickets/{ticket.number}/{path}", data={
            "csrf_token": token, "note": "又修好了", "version": version_of(ticket.number)})
        assert response.status_code in (403, 404)
    assert snapshot(ticket.number) == before


def test_the_ticket_page_offers_the_holders_buttons_to_the_holder_only(client, org, held):
    number = held("start")  # signed by the volunteer
    login(client, "director")
    page = client.get(f"/tickets/{number}").get_data(as_text=True)
    assert f'/tickets/{number}/actions/start"' not in page and f'/tickets/{number}/actions/resolve"' not in page
    assert f"/tickets/{number}/actions/withdraw" in page  # the director's own: take it back
    assert "这张工单现由<strong>李师傅</strong>承办" in page  # who holds it, said even beside the director's own
    pipeline.act(Principal.from_user(org.volunteer), ticket_numbered(number), "start")
    page = client.get(f"/tickets/{number}").get_data(as_text=True)
    assert "这张工单现由<strong>李师傅</strong>承办" in page and '/actions/resolve"' not in page
    login(client, "volunteer")
    page = client.get(f"/tickets/{number}").get_data(as_text=True)
    assert f'/tickets/{number}/actions/resolve"' in page and "actions/resolve_for_holder" not in page
