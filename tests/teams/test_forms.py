"""The desks' and the dispatch page's forms through their schemas: one version rule, one note limit, text kept."""
from io import BytesIO

import pytest
from sqlalchemy import func, select

from dispatch.extensions import db
from dispatch.forms import MAX_NOTE
from dispatch.teams.models import Volunteer
from dispatch.tickets.models import Assignment
from tests.conftest import csrf_from, login
from tests.console.test_forms import ODD_VERSIONS, events_of
from tests.teams.test_desk import dispatched, fetch, jpeg_bytes, page

LONG = "管" * (MAX_NOTE + 1)


def water_ticket(org, make_ticket):
    return dispatched(org, make_ticket, description="楼下水管漏水", department="water")


def new_ticket(org, make_ticket):
    db.session.add(Volunteer(user=org.volunteer, skills=["electrical"], weekly_hours=["08:00-18:00"] * 7))
    db.session.commit()
    return make_ticket()


def photo():
    return (BytesIO(jpeg_bytes()), "after.jpg")


# Each versioned form: who, their ticket, signed first or not, path, the rest of a good form, multipart.
FORMS = {
    "sign": ("volunteer", dispatched, False, "/desk/tasks/{}/sign", {}, False),
    "decline": ("volunteer", dispatched, False, "/desk/tasks/{}/decline", {"note": "这几天不在青岛"}, False),
    "finish": ("volunteer", dispatched, True, "/desk/tasks/{}/finish", {"note": "已更换灯泡", "photo": photo}, True),
    "resolve": ("dept", water_ticket, True, "/desk/tasks/{}/resolve", {"note": "已修复管道"}, False),
    "extension": ("dept", water_ticket, True, "/desk/tasks/{}/extension",
                  {"extension_days": "3", "note": "管材未到"}, False),
    "return": ("dept", water_ticket, True, "/desk/tasks/{}/return", {"reason": "不属于本单位职责"}, False),
    "dispatch": ("director", new_ticket, False, "/tickets/{}/dispatch", {"target": "assignee:volunteer"}, False),
}


def ready(client, org, make_ticket, name):
    """The form's user logged in with a ticket it can take: (ticket, send(extra fields) → response)."""
    username, make, sign_first, path, fields, multipart = FORMS[name]
    ticket = make(org, make_ticket)
    login(client, username)
    token = csrf_from(client, "/desk/" if path.startswith("/desk") else "/")
    if sign_first:  # through the desk's own form, as its holder would
        client.post(f"/desk/tasks/{ticket.number}/sign", data={"csrf_token": token,
                                                              "version": fetch(ticket.number).version})

    def send(extra):
        data = {key: value() if callable(value) else value for key, value in fields.items()}
        return client.post(path.format(ticket.number), data={"csrf_token": token, **data, **extra},
                           content_type="multipart/form-data" if multipart else None)
    return fetch(ticket.number), send


@pytest.fixture(params=FORMS)
def form(request, client, org, make_ticket):
    """One versioned form, ready to send."""
    return ready(client, org, make_ticket, request.param)


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


def test_a_stale_version_is_409_and_changes_nothing(form, api, clock):
    ticket, send = form
    seen = fetch(ticket.number).version
    clock.advance(minutes=5)
    api.post(f"/api/v1/tickets/{ticket.number}/comments", json={"note": "居民又来电了"})
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
    ticket, send = ready(client, org, make_ticket, name)
    version, count = ticket.version, events_of(ticket)
    response = send({"version": version, "note": LONG})
    body = page(response)
    assert response.status_code == 422 and f"说明最多 {MAX_NOTE} 字，现在是 {MAX_NOTE + 1} 字" in body
    assert LONG in body
    assert unchanged(ticket, version, count)


def test_a_desk_comment_over_the_limit_is_refused_and_kept(client, org, make_ticket):
    ticket = dispatched(org, make_ticket)
    login(client, "volunteer")
    count = events_of(ticket)
    response = client.post(f"/desk/tasks/{ticket.number}/comments",
                           data={"csrf_token": csrf_from(client, "/desk/"), "note": LONG})
    assert response.status_code == 422 and f"备注最多 {MAX_NOTE} 字" in page(response) and LONG in page(response)
    assert events_of(ticket) == count
