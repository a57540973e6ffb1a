"""The ticket page's forms through their schemas: one version rule, one note limit, and what was typed kept."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from dispatch.extensions import db
from dispatch.forms import MAX_NOTE
from dispatch.tickets.lifecycle import Status
from dispatch.tickets.models import TicketEvent
from tests.conftest import csrf_from, login
from tests.tickets.test_views import fetch, page

ODD_VERSIONS = ["abc", "0", "-1", "1.5", "１", "²", "1_0", " ", "99999999999"]
LONG = "灯" * (MAX_NOTE + 1)


def events_of(ticket):
    return db.session.scalar(select(func.count()).select_from(TicketEvent).where(TicketEvent.ticket_id == ticket.id))


def post(client, ticket, path, data):
    """POST a form of the ticket page with the session's CSRF token (no redirect followed)."""
    return client.post(f"/tickets/{ticket.number}/{path}", data={"csrf_token": csrf_from(client, "/"), **data})


@pytest.fixture
def staff(client, org):
    login(client, "staff")
    return client


@pytest.fixture
def new(make_ticket):
    return make_ticket()


@pytest.fixture
def resolved(api, make_ticket):
    """A ticket accepted and resolved: the call-back form is shown."""
    number = make_ticket().number
    api.post(f"/api/v1/tickets/{number}/accept", json={})
    api.post(f"/api/v1/tickets/{number}/transitions", json={"action": "resolve", "note": "已更换楼道灯泡"})
    return fetch(number)


@pytest.fixture
def drafted(api):
    """A ticket opened by a call without words: the describe form is shown."""
    number = api.post("/api/v1/calls", json={"call_id": "cti-1", "caller": "13812345678",
                                             "community": "yanchenglu"}).get_json()["ticket"]
    return fetch(number)


# Each form of the ticket page that carries the version: (ticket fixture, path, the rest of a good form).
VERSIONED = {
    "action": ("new", "actions/accept", {}),
    "classify": ("new", "classify", {"priority": "high"}),
    "describe": ("drafted", "describe", {"description": "居民来电：楼道灯坏了"}),
    "callback": ("resolved", "callbacks", {"reached": "1"}),
}


@pytest.fixture(params=VERSIONED)
def form(request, staff):
    """(ticket, path, fields) of one versioned form."""
    fixture, path, fields = VERSIONED[request.param]
    return request.getfixturevalue(fixture), path, fields


def test_a_form_without_its_version_is_422_and_changes_nothing(staff, form):
    ticket, path, fields = form
    before, count = ticket.version, events_of(ticket)
    response = post(staff, ticket, path, fields)
    assert response.status_code == 422 and "页面信息不完整，请刷新页面后再操作" in page(response)
    assert fetch(ticket.number).version == before and events_of(ticket) == count


@pytest.mark.parametrize("version", ODD_VERSIONS)
def test_an_odd_version_is_422_and_changes_nothing(staff, form, version):
    ticket, path, fields = form
    before, count = ticket.version, events_of(ticket)
    response = post(staff, ticket, path, {"version": version, **fields})
    assert response.status_code == 422 and "请刷新页面后再操作" in page(response)
    assert fetch(ticket.number).version == before and events_of(ticket) == count


def test_a_stale_version_is_409_with_the_page_as_it_is_now(staff, api, form, clock):
    ticket, path, fields = form
    seen = ticket.version
    clock.advance(minutes=5)
    api.post(f"/api/v1/tickets/{ticket.number}/comments", json={"note": "居民又来电了"})
    count = events_of(ticket)
    response = post(staff, ticket, path, {"version": seen, **fields})
    assert response.status_code == 409 and "已被他人更新" in page(response) and "居民又来电了" in page(response)
    assert fetch(ticket.number).version == seen + 1 and events_of(ticket) == count


def test_the_current_version_passes(staff, form):
    ticket, path, fields = form
    count = events_of(ticket)
    response = post(staff, ticket, path, {"version": f" {ticket.version} ", **fields})
    assert response.status_code == 302 and events_of(ticket) == count + 1


# ---- notes: one limit, refused with a message, never cut ----

def _late(ticket, clock):
    """A ticket past its resolution deadline, so 催办 is offered."""
    ticket.resolution_due_at = clock() - timedelta(hours=1)
    db.session.commit()
    return ticket


@pytest.mark.parametrize("path, fields, label", [
    ("actions/invalidate", {}, "说明"), ("classify", {"priority": "high"}, "说明"),
    ("comments", {}, "备注"), ("chase/urge", {}, "要求")])
def test_a_note_over_the_limit_is_refused_and_kept(client, org, make_ticket, clock, path, fields, label):
    ticket = _late(make_ticket(), clock)
    login(client, "street")
    before, count = ticket.version, events_of(ticket)
    response = post(client, ticket, path, {"version": ticket.version, "note": LONG, **fields})
    body = page(response)
    assert response.status_code == 422
    assert f"{label}最多 {MAX_NOTE} 字，现在是 {MAX_NOTE + 1} 字" in body
    assert LONG in body  # the text is in its box again, whole
    after = fetch(ticket.number)
    assert after.version == before and after.status is Status.NEW and events_of(ticket) == count


def test_a_note_at_the_limit_counts_line_breaks_once_as_the_browser_does(staff, new):
    note = "\r\n".join(["灯" * 99] * 20) + "灯"  # 2000 in the textarea; 2019 as the browser sends it
    response = post(staff, new, "comments", {"note": note})
    assert response.status_code == 302
    assert fetch(new.number).events[-1].note == note.replace("\r\n", "\n")


def test_a_required_note_still_asks_in_words(staff, new):
    response = post(staff, new, "actions/invalidate", {"version": new.version, "note": "  "})
    assert response.status_code == 422 and "需要填写原因或说明" in page(response)
    response = post(staff, new, "comments", {"note": "\r\n"})
    assert response.status_code == 422 and "请填写备注内容" in page(response)


def test_describe_refuses_a_long_address_instead_of_cutting_it(staff, drafted):
    address = "福州南路" + "8" * 200
    response = post(staff, drafted, "describe", {"version": drafted.version, "description": "楼道灯坏了",
                                                 "address": address})
    body = page(response)
    assert response.status_code == 422 and "地址最多 200 字，现在是 204 字" in body
    assert f'value="{address}"' in body and "楼道灯坏了</textarea>" in body
    assert fetch(drafted.number).description_pending


def test_an_unknown_priority_is_named(staff, new):
    response = post(staff, new, "classify", {"version": new.version, "priority": "whenever"})
    assert response.status_code == 422 and "未知的紧急程度「whenever」" in page(response)
    assert fetch(new.number).version == new.version
