"""The desks' and the dispatch page's forms through their schemas: one version rule, one note limit, text kept."""
from io import BytesIO

import pytest
from sqlalchemy import func, select

from dispatch.extensions import db
from dispatch.forms import MAX_NOTE
from dispatch.org.principal import Principal
from dispatch.teams.models import Volunteer
from dispatch.tickets import services
from dispatch.tickets.models import Assignment
from tests.conftest import csrf_from, login
from tests.console.test_forms import ODD_VERSIONS, events_of
from tests.teams.test_desk import dispatched, fetch, jpeg_bytes, page

LONG = "管" * (MAX_NOTE + 1)


def signed(org, ticket, username):
    """The holder has signed the task."""
    services.transition(Principal.from_user(getattr(org, username)), fetch(ticket.number), "sign")
    return ticket


def volunteer_ticket(org, make_ticket):
    return dispatched(org, make_ticket)


def department_ticket(org, make_ticket):
    return signed(org, dispatched(org, make_ticket, description="楼下水管漏水", department="water"), "dept")


def new_ticket(org, make_ticket):
    db.session.add(Volunteer(user=org.volunteer, skills=["electrical"], weekly_hours=["08:00-18:00"] * 7))
    db.session.commit()
    return make_ticket()


def photo():
    return (BytesIO(jpeg_bytes()), "after.jpg")


# Each versioned form: (who, ticket maker, path under the ticket, the rest of a good form, multipart).
FORMS = {
    "sign": ("volunteer", volunteer_ticket, "/desk/tasks/{}/sign", {}, False),
    "decline": ("volunteer", volunteer_ticket, "/desk/tasks/{}/decline", {"note": "这几天不在青岛"}, False),
    "finish": ("volunteer", lambda org, make: signed(org, volunteer_ticket(org, make), "volunteer"),
               "/desk/tasks/{}/finish", {"note": "已更换灯泡", "photo": photo}, True),
    "resolve": ("dept", department_ticket, "/desk/tasks/{}/resolve", {"note": "已修复管道"}, False),
    "extension": ("dept", department_ticket, "/desk/tasks/{}/extension",
                  {"extension_days": "3", "note": "管材未到"}, False),
    "return": ("dept", department_ticket, "/desk/tasks/{}/return", {"reason": "不属于本单位职责"}, False),
    "dispatch": ("director", new_ticket, "/tickets/{}/dispatch", {"target": "assignee:volunteer"}, False),
}


@pytest.fixture(params=FORMS)
def form(request, client, org, make_ticket):
    """A logged-in holder and a ticket ready for one form: (ticket, send(data) → response)."""
    username, make, path, fields, multipart = FORMS[request.param]
    ticket = make(org, make_ticket)
    login(client, username)

    def send(extra):
        data = {k: v() if callable(v) else v for k, v in fields.items()}
        data = {"csrf_token": csrf_from(client, "/desk/" if path.startswith("/desk") else "/"), **data, **extra}
        return client.post(path.format(ticket.number), data=data,
                           content_type="multipart/form-data" if multipart else None)
    return ticket, send


def tasks():
    return db.session.scalar(select(func.count(Assignment.id)))


def unchanged(ticket, version, count):
    """The ticket as it was: same version, no new timeline entry, no photo kept."""
    after = fetch(ticket.number)
    return after.version == version and events_of(ticket) == count and not after.photos


def test_a_form_without_its_version_is_422_and_changes_nothing(form):
    ticket, send = form
    version, count = ticket.version, events_of(ticket)
    response = send({})
    assert response.status_code == 422 and "页面信息不完整，请刷新页面后再操作" in page(response)
    assert unchanged(ticket, version, count)


@pytest.mark.parametrize("odd", ODD_VERSIONS)
def test_an_odd_version_is_422_and_changes_nothing(form, odd):
    ticket, send = form
    version, count = ticket.version, events_of(ticket)
    response = send({"version": odd})
    assert response.status_code == 422 and "请刷新页面后再操作" in page(response)
    assert unchanged(ticket, version, count)


def test_a_stale_version_is_409_and_changes_nothing(form, org, clock):
    ticket, send = form
    seen = fetch(ticket.number).version
    clock.advance(minutes=5)
    services.comment(Principal.from_user(org.director), fetch(ticket.number), "居民又来电了")
    count, assigned = events_of(ticket), tasks()
    response = send({"version": seen})
    assert response.status_code == 409
    assert unchanged(ticket, seen + 1, count) and tasks() == assigned


def test_the_current_version_passes(form):
    ticket, send = form
    count = events_of(ticket)
    response = send({"version": fetch(ticket.number).version})
    assert response.status_code == 303 and events_of(ticket) > count


# ---- notes over the limit: refused with the limit and the length, the text kept, nothing changed ----

@pytest.mark.parametrize("name", ["decline", "resolve", "extension", "return", "dispatch"])
def test_a_note_over_the_limit_is_refused_and_kept(client, org, make_ticket, name):
    username, make, path, fields, _ = FORMS[name]
    ticket = make(org, make_ticket)
    login(client, username)
    version, count = fetch(ticket.number).version, events_of(ticket)
    url = path.format(ticket.number)
    response = client.post(url, data={"csrf_token": csrf_from(client, "/desk/" if url.startswith("/desk") else "/"),
                                      **fields, "version": version, "note": LONG})
    body = page(response)
    assert response.status_code == 422 and f"说明最多 {MAX_NOTE} 字，现在是 {MAX_NOTE + 1} 字" in body
    assert LONG in body
    assert unchanged(ticket, version, count)


def test_a_desk_comment_over_the_limit_is_refused_and_kept(client, org, make_ticket):
    ticket = volunteer_ticket(org, make_ticket)
    login(client, "volunteer")
    count = events_of(ticket)
    response = client.post(f"/desk/tasks/{ticket.number}/comments",
                           data={"csrf_token": csrf_from(client, "/desk/"), "note": LONG})
    assert response.status_code == 422 and f"备注最多 {MAX_NOTE} 字" in page(response) and LONG in page(response)
    assert events_of(ticket) == count
