"""One dispatch guard for every door: sending to a volunteer on leave, off shift or without the skill asks first,
says why, and the timeline keeps that it was sent anyway; with nobody skilled the page offers the closest."""
import pytest
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.org.principal import Principal
from dispatch.teams.models import Volunteer
from dispatch.tickets import pipeline
from dispatch.tickets.models import Assignment, Category, TicketEvent
from tests.conftest import csrf_from, login

WEEKDAYS = ["08:00-18:00"] * 5 + ["", ""]
QUESTION = "李师傅 今天请假（到11月20日）；没有「电工维修」技能。仍要派给李师傅吗？"
REASONS = ["今天请假（到11月20日）", "没有「电工维修」技能"]


@pytest.fixture
def team(org):
    """李师傅 (c1) cuts hair and is on leave today (Friday 20 November); 王师傅 (c2, street team) is a plumber.
    Corridor lights need an electrician: nobody has the skill."""
    li = Volunteer(user=org.volunteer, skills=["haircut"], weekly_hours=WEEKDAYS, max_tasks=3,
                   leave=[["2026-11-19", "2026-11-20"]])
    wang = Volunteer(user=org.volunteer2, skills=["plumbing"], weekly_hours=WEEKDAYS, max_tasks=2, serves_street=True)
    db.session.add_all([li, wang])
    db.session.scalar(select(Category).where(Category.code == "lighting")).required_skills = ["electrical"]
    db.session.commit()
    return li, wang


def _version(page):
    return page.split('name="version" value="')[1].split('"')[0]


def _accepted(api, ticket):
    url = f"/api/v1/tickets/{ticket.number}"
    assert api.post(url + "/accept", json={}).status_code == 200
    return url


def _dispatch_event(ticket):
    return db.session.scalars(select(TicketEvent).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "dispatch")).one()


def test_nobody_skilled_the_page_offers_the_closest_with_a_warning(client, org, team, make_ticket):
    ticket = make_ticket("3号楼2单元楼道灯坏了")
    login(client, "director")
    page = client.get(f"/tickets/{ticket.number}/dispatch").get_data(as_text=True)
    assert "没有志愿者有「电工维修」技能，以下是最接近的人选" in page
    li, wang = page.index('data-volunteer="volunteer"'), page.index('data-volunteer="volunteer2"')
    assert li < wang  # the ticket's own community first, even on leave
    assert 'data-standing="leave">请假（到11月20日）' in page and "缺「电工维修」" in page and "在办 0/3" in page
    assert "派给李师傅…" in page  # the button says a confirmation follows
    assert 'data-department="power"' in page or "data-departments" in page  # departments are still offered


def test_the_dispatch_page_asks_then_sends_and_the_timeline_says_so(client, org, team, make_ticket):
    ticket = make_ticket()
    login(client, "director")
    url = f"/tickets/{ticket.number}/dispatch"
    form = {"csrf_token": csrf_from(client, url), "version": _version(client.get(url).get_data(as_text=True)),
            "target": "assignee:volunteer", "note": "居民下午在家"}
    refused = client.post(url, data=form)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert QUESTION in page and "data-confirm" in page and "仍然派给李师傅" in page
    assert 'name="confirm" value="1"' in page and 'name="note" value="居民下午在家"' in page
    db.session.refresh(ticket)
    assert ticket.status.value == "new" and db.session.scalar(select(Assignment.id)) is None
    sent = client.post(url, data=form | {"confirm": "1"})
    assert sent.status_code == 303
    db.session.refresh(ticket)
    assert ticket.status.value == "dispatched" and ticket.assignee_id == org.volunteer.id
    assert _dispatch_event(ticket).data["despite"] == REASONS
    detail = client.get(f"/tickets/{ticket.number}").get_data(as_text=True)
    assert "提醒后仍派出：今天请假（到11月20日）；没有「电工维修」技能" in detail


def test_the_ticket_page_lists_standing_asks_then_sends(client, org, team, make_ticket):
    ticket = make_ticket()
    pipeline.act(Principal.from_user(org.director), ticket, "accept")
    login(client, "director")
    page = client.get(f"/tickets/{ticket.number}").get_data(as_text=True)
    wang = page.index("王师傅（福州路社区） · 在岗 · 缺「电工维修」 · 在办 0/2")  # the street's shared team too
    li = page.index("李师傅 · 请假 · 缺「电工维修」 · 在办 0/3")  # the drop-down says where each one stands
    assert wang < li  # on shift before on leave
    url = f"/tickets/{ticket.number}/actions/dispatch"
    form = {"csrf_token": csrf_from(client, f"/tickets/{ticket.number}"), "version": _version(page),
            "target": "assignee:volunteer", "note": ""}
    refused = client.post(url, data=form)
    assert refused.status_code == 422
    shown = refused.get_data(as_text=True)
    assert QUESTION in shown and "data-confirm" in shown and "仍然派给李师傅" in shown
    assert db.session.scalar(select(Assignment.id)) is None
    assert client.post(url, data=form | {"confirm": "1"}).status_code == 302
    db.session.refresh(ticket)
    assert ticket.status.value == "dispatched" and _dispatch_event(ticket).data["despite"] == REASONS


def test_the_api_answers_422_with_the_reasons_unless_confirmed(api, org, team, make_ticket):
    url = _accepted(api, make_ticket())
    refused = api.post(url + "/transitions", json={"action": "dispatch", "assignee": "volunteer"})
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["message"] == QUESTION and error["fields"]["confirm"] == REASONS
    assert db.session.scalar(select(Assignment.id)) is None
    sent = api.post(url + "/transitions", json={"action": "dispatch", "assignee": "volunteer", "confirm": True})
    assert sent.status_code == 200
    body = sent.get_json()
    assert body["status"] == "dispatched"
    assert [e["data"].get("despite") for e in body["timeline"] if e["kind"] == "dispatch"] == [REASONS]


def test_off_shift_asks_too_and_who_fits_is_sent_without_a_question(api, org, team, make_ticket, clock):
    li, _ = team
    li.skills, li.leave = ["electrical"], []
    db.session.commit()
    url = _accepted(api, make_ticket())
    assert api.post(url + "/transitions", json={"action": "dispatch", "assignee": "volunteer"}).status_code == 200
    clock.advance(days=1)  # Saturday: not on shift
    saturday = _accepted(api, make_ticket("5号楼楼道灯不亮"))
    refused = api.post(saturday + "/transitions", json={"action": "dispatch", "assignee": "volunteer"})
    assert refused.status_code == 422
    assert refused.get_json()["error"]["fields"]["confirm"] == ["现在不在班（2天后上班）"]


def test_a_department_or_a_volunteer_without_a_profile_is_not_judged(api, org, make_ticket):
    url = _accepted(api, make_ticket())
    sent = api.post(url + "/transitions", json={"action": "dispatch", "assignee": "volunteer"})
    assert sent.status_code == 200  # no profile: nothing recorded to warn about
    other = _accepted(api, make_ticket("楼下水管爆了"))
    assert api.post(other + "/transitions", json={"action": "dispatch", "department": "water"}).status_code == 200
