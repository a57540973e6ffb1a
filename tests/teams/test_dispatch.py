"""The director's dispatch page: ranked suggestions with reasons, two clicks to send, tasks that follow."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.org.principal import Principal
from dispatch.teams import services as teams
from dispatch.teams.models import Volunteer
from dispatch.tickets import pipeline
from dispatch.tickets.models import Assignment, Category, TicketEvent
from tests.conftest import csrf_from, login

WEEKDAYS = ["08:00-18:00"] * 5 + ["", ""]


@pytest.fixture
def team(org):
    """Profiles for the two fixture volunteers: 李师傅 (c1, electrician), 王师傅 (c2, street team, plumber)."""
    li = Volunteer(user=org.volunteer, skills=["electrical"], weekly_hours=WEEKDAYS, max_tasks=3)
    wang = Volunteer(user=org.volunteer2, skills=["electrical", "plumbing"], weekly_hours=WEEKDAYS, max_tasks=2,
                     serves_street=True)
    db.session.add_all([li, wang])
    db.session.scalar(select(Category).where(Category.code == "lighting")).required_skills = ["electrical"]
    db.session.commit()
    return li, wang


def _dispatch_form(client, number, target, note=""):
    url = f"/tickets/{number}/dispatch"
    page = client.get(url).get_data(as_text=True)
    version = page.split('name="version" value="')[1].split('"')[0]
    return client.post(url, data={"csrf_token": csrf_from(client, url), "version": version, "target": target,
                                  "note": note})


def test_the_page_ranks_who_fits_and_says_why(client, org, team, make_ticket):
    ticket = make_ticket("3号楼2单元走廊灯坏了")  # lighting: needs an electrician
    login(client, "director")
    page = client.get(f"/tickets/{ticket.number}/dispatch").get_data(as_text=True)
    li, wang = page.index('data-volunteer="volunteer"'), page.index('data-volunteer="volunteer2"')
    assert li < wang
    li_row = page[li:wang]
    assert 'data-standing="on">在岗' in li_row and "有「电工维修」" in li_row and "在办 0/3" in li_row and "本社区" in li_row
    assert "街道服务队" in page


def test_two_clicks_send_a_new_ticket_and_open_its_task(client, org, team, make_ticket, clock):
    ticket = make_ticket()
    login(client, "director")
    response = _dispatch_form(client, ticket.number, "assignee:volunteer", note="居民下午在家")
    assert response.status_code == 303
    db.session.refresh(ticket)
    assert ticket.status.value == "dispatched" and ticket.assignee_id == org.volunteer.id
    task = db.session.scalar(select(Assignment).where(Assignment.ticket_id == ticket.id))
    assert task.note == "居民下午在家" and task.ended_at is None
    assert task.sign_due_at == clock() + timedelta(minutes=30)
    kinds = db.session.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket.id)).all()
    assert kinds == ["created", "accept", "dispatch"]


def test_forwarding_to_a_department(client, org, team, make_ticket):
    ticket = make_ticket("楼下水管爆了一直在漏水")
    login(client, "director")
    assert _dispatch_form(client, ticket.number, "department:water").status_code == 303
    db.session.refresh(ticket)
    assert ticket.department_id == org.water.id
    task = db.session.scalar(select(Assignment).where(Assignment.ticket_id == ticket.id))
    assert task.department_id == org.water.id and task.sign_due_at is None


def test_a_stale_page_loses_with_409_and_a_refreshed_view(client, org, team, make_ticket):
    ticket = make_ticket()
    login(client, "director")
    url = f"/tickets/{ticket.number}/dispatch"
    token = csrf_from(client, url)
    pipeline.act(Principal.from_user(org.staff), ticket, "accept")  # someone else moved first
    response = client.post(url, data={"csrf_token": token, "version": "1", "target": "assignee:volunteer"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "工单刚被他人处理" in page and "已受理" in page
    assert db.session.scalar(select(Assignment.id)) is None


def test_bad_target_is_422_and_nothing_changes(client, org, team, make_ticket):
    ticket = make_ticket()
    login(client, "director")
    for target in ("", "assignee:nobody", "department:nowhere", "boss:volunteer"):
        assert _dispatch_form(client, ticket.number, target).status_code == 422, target
    db.session.refresh(ticket)
    assert ticket.status.value == "new" and db.session.scalar(select(Assignment.id)) is None


def test_a_volunteer_cannot_open_the_dispatch_page(client, org, team, make_ticket):
    ticket = make_ticket()
    login(client, "volunteer")
    assert client.get(f"/tickets/{ticket.number}/dispatch").status_code in (403, 404)


def test_who_declined_is_not_suggested_again(org, team, make_ticket, clock):
    ticket = make_ticket()
    director = Principal.from_user(org.director)
    teams.assign(director, ticket, clock(), volunteer="volunteer")
    pipeline.act(Principal.from_user(org.volunteer), ticket, "return", note="今天在外地")
    task = db.session.scalar(select(Assignment))
    assert (task.outcome, task.reason) == ("declined", "今天在外地")
    assert ticket.status.value == "returned" and ticket.assignee is None
    assert [s.candidate.username for s in teams.suggestions(ticket, clock())] == ["volunteer2"]


def test_an_unsigned_task_is_taken_back_when_its_time_is_up(org, team, make_ticket, clock):
    ticket = make_ticket()
    teams.assign(Principal.from_user(org.director), ticket, clock(), volunteer="volunteer")
    assert teams.take_back_overdue(clock.advance(minutes=29)) == []
    assert teams.take_back_overdue(clock.advance(minutes=1)) == [ticket.number]
    db.session.refresh(ticket)
    assert ticket.status.value == "returned" and ticket.assignee is None
    assert db.session.scalar(select(Assignment.outcome)) == "timed_out"
    event = db.session.scalars(select(TicketEvent).order_by(TicketEvent.id.desc())).first()
    assert event.kind == "take_back" and "未在时限内签收" in event.note
    assert teams.take_back_overdue(clock.advance(hours=1)) == []


def test_a_signed_task_is_not_taken_back_and_resolution_records_on_time(org, team, make_ticket, clock):
    ticket = make_ticket()
    teams.assign(Principal.from_user(org.director), ticket, clock(), volunteer="volunteer")
    volunteer = Principal.from_user(org.volunteer)
    pipeline.act(volunteer, ticket, "sign", now=clock.advance(minutes=10))
    assert teams.take_back_overdue(clock.advance(hours=2)) == []
    pipeline.act(volunteer, ticket, "resolve", note="已换灯泡", now=clock())
    task = db.session.scalar(select(Assignment))
    assert (task.outcome, task.on_time, task.signed_at is not None) == ("resolved", True, True)
    assert ticket.assignee_id == org.volunteer.id  # who did the work stays on the ticket


def test_withdraw_ends_the_task_and_frees_the_ticket(org, team, make_ticket, clock):
    ticket = make_ticket()
    director = Principal.from_user(org.director)
    teams.assign(director, ticket, clock(), volunteer="volunteer")
    pipeline.act(director, ticket, "withdraw", note="居民已自行修好")
    assert ticket.status.value == "accepted" and ticket.assignee is None
    assert db.session.scalar(select(Assignment.outcome)) == "withdrawn"
    teams.assign(director, ticket, clock(), volunteer="volunteer2")
    assert len(db.session.scalars(select(Assignment)).all()) == 2


def test_auto_assign_takes_the_top_suggestion_only_when_it_fits(org, team, make_ticket, clock):
    lighting = db.session.scalar(select(Category).where(Category.code == "lighting"))
    lighting.auto_assign = True
    db.session.commit()
    ticket = make_ticket("3号楼走廊灯坏了")
    assert teams.auto_assign(clock()) == [(ticket.number, "volunteer")]
    assert ticket.status.value == "dispatched"
    event = db.session.scalars(select(TicketEvent).where(TicketEvent.kind == "dispatch")).one()
    assert event.actor_label == "系统" and event.note.startswith("自动派单：楼道及路灯 ✓")
    saturday = clock.advance(days=1)
    later = make_ticket("5号楼楼道灯不亮")
    assert teams.auto_assign(saturday) == []  # nobody on duty: left for the director
    assert later.status.value == "new"


def test_track_record_is_refreshed_from_recent_tasks_and_shown(org, team, make_ticket, clock):
    director = Principal.from_user(org.director)
    first, second = make_ticket(), make_ticket("5号楼楼道灯不亮")
    teams.assign(director, first, clock(), volunteer="volunteer")
    pipeline.act(Principal.from_user(org.volunteer), first, "return", note="不在家")
    teams.assign(director, second, clock(), volunteer="volunteer")
    pipeline.act(Principal.from_user(org.volunteer), second, "sign")
    pipeline.act(Principal.from_user(org.volunteer), second, "resolve", note="已修好")
    assert teams.refresh_rates(clock()) == 2
    li = db.session.scalar(select(Volunteer).where(Volunteer.user_id == org.volunteer.id))
    assert (li.accept_rate, li.on_time_rate) == (0.5, 1.0)
    third = make_ticket("2号楼走廊灯坏了")
    [top] = [s for s in teams.suggestions(third, clock()) if s.candidate.username == "volunteer"]
    assert "接单率50% 按时100%" in top.reason
    assert teams.refresh_rates(clock.advance(days=91)) == 2  # ninety days on, nothing recent is left
    db.session.refresh(li)
    assert li.accept_rate is None
