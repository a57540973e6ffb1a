"""Someone is always on duty: urgent tickets at night go to the person on call, by WeChat, SMS and a call-back
task, up the chain when nobody signs; never to someone off duty; a take-back tells the director."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.intake import replies
from dispatch.notify import delivery
from dispatch.notify.models import Notification
from dispatch.notify.templates import load_defaults
from dispatch.org.principal import Principal
from dispatch.org.services import create_user
from dispatch.scheduler import JOBS
from dispatch.teams import duty, routing
from dispatch.teams import services as teams
from dispatch.teams.models import DutyAlert, DutyShift, Volunteer
from dispatch.tickets import pipeline
from dispatch.tickets.models import Category, TicketEvent
from dispatch.timeutil import SHANGHAI, as_utc
from tests.conftest import PASSWORD, csrf_from, login

DAYTIME = ["08:00-18:00"] * 7  # the volunteer's shift starts at 08:00, every day
FALL = "我母亲在家摔倒了起不来，古田路16号3号楼"


def at(day, hhmm):
    """An instant from a Shanghai date (2026-11-dd) and time."""
    hour, minute = map(int, hhmm.split(":"))
    return as_utc(datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI))


@pytest.fixture
def night(org, clock):
    """Monday 23 November 2026, 04:30 in Shanghai; 刘芳, a second director of 盐城路社区, is on duty from Sunday
    17:30 to Monday 08:30; 李师傅, the volunteer, has every skill and starts at 08:00."""
    liu = create_user("liu", "community_director", PASSWORD, "刘芳", community=org.c1)[0]
    liu.phone = "13900000001"
    db.session.add(Volunteer(user=org.volunteer, skills=["electrical", "elderly", "plumbing"], weekly_hours=DAYTIME,
                             max_tasks=3))
    db.session.add(DutyShift(community_id=org.c1.id, user_id=liu.id, starts_at=at(22, "17:30"),
                             ends_at=at(23, "08:30")))
    for category in db.session.scalars(select(Category)):
        category.auto_assign, category.required_skills = True, []
    db.session.commit()
    load_defaults()
    clock.at = at(23, "04:30")
    return liu


def _events(ticket, kind):
    return db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == kind)
                              .order_by(TicketEvent.id)).all()


def _outbox(event, user):
    return db.session.scalars(select(Notification).where(Notification.event == event,
                                                         Notification.user_id == user.id)).all()


def test_an_urgent_ticket_at_half_past_four_goes_to_the_person_on_duty(org, night, make_ticket, clock):
    ticket = make_ticket(FALL)
    assert ticket.priority.value == "urgent"
    assert teams.run_auto_assign(clock()) == 0  # not the volunteer whose shift starts at 08:00
    assert ticket.status.value == "new"
    assert duty.run_duty(clock()) == 1
    db.session.refresh(ticket)
    assert ticket.status.value == "dispatched" and ticket.assignee_id == night.id
    event = _events(ticket, "duty_dispatch")[0]
    assert event.actor_label == "系统" and "今晚值班的刘主任" in event.note
    assert len(_outbox("duty_alert", night)) == 1 and len(_outbox("duty_sms", night)) == 1
    alert = db.session.scalars(select(DutyAlert)).one()
    assert (alert.user_id, alert.escalate_at) == (night.id, clock() + timedelta(minutes=10))


def test_the_sms_and_the_wechat_message_go_out_through_their_own_channels(org, night, make_ticket, clock):
    make_ticket(FALL)
    duty.run_duty(clock())
    delivery.drain(clock())
    channels = {row.event: (row.channel, row.status) for row in db.session.scalars(select(Notification).where(
        Notification.user_id == night.id))}
    assert channels["duty_sms"] == ("sms", "failed")  # no SMS provider installed in tests: a visible failure
    assert channels["duty_alert"][0] == "wechat_template"


def test_nobody_signs_so_it_goes_up_the_chain_after_the_configured_minutes(app, org, night, make_ticket, clock):
    app.config["DUTY_ESCALATE_MINUTES"] = 5
    try:
        ticket = make_ticket(FALL)
        duty.run_duty(clock())
        assert duty.run_duty(clock.advance(minutes=4)) == 0
        assert teams.run_take_back(clock.advance(minutes=1)) == 0  # the duty job's, not the take-back's
        assert duty.run_duty(clock()) == 1
    finally:
        app.config["DUTY_ESCALATE_MINUTES"] = 10
    db.session.refresh(ticket)
    assert ticket.assignee_id == org.director.id and ticket.status.value == "dispatched"
    step = _events(ticket, "duty_escalate")[0]
    assert step.note == "刘主任 5 分钟内未签收，升级给盐城路主任"
    assert len(_outbox("duty_sms", org.director)) == 1
    alerts = db.session.scalars(select(DutyAlert).order_by(DutyAlert.id)).all()
    assert [(a.user_id, a.outcome) for a in alerts] == [(night.id, "escalated"), (org.director.id, None)]


def test_a_signed_ticket_stays_where_it_is(org, night, make_ticket, clock):
    ticket = make_ticket(FALL)
    duty.run_duty(clock())
    pipeline.act(Principal.from_user(night), ticket, "sign", now=clock.advance(minutes=3))
    assert duty.run_duty(clock.advance(minutes=10)) == 0
    assert ticket.assignee_id == night.id and ticket.status.value == "signed"
    assert db.session.scalars(select(DutyAlert.outcome)).one() == "signed"


def test_the_chain_ends_with_the_street_supervisor_then_the_director_hears_of_the_take_back(
        org, night, make_ticket, clock):
    ticket = make_ticket(FALL)
    duty.run_duty(clock())
    duty.run_duty(clock.advance(minutes=10))  # → the community's director
    duty.run_duty(clock.advance(minutes=10))  # → the street's supervisor
    assert ticket.assignee_id == org.street.id
    assert duty.run_duty(clock.advance(minutes=10)) == 0  # nobody left: the alert ends
    assert teams.run_take_back(clock()) == 1
    assert ticket.status.value == "returned"
    assert {n.user_id for n in db.session.scalars(select(Notification).where(
        Notification.event == "taken_back_director"))} == {org.director.id, night.id}


def test_a_take_back_always_tells_the_director(org, make_ticket, clock):
    ticket = make_ticket()  # Friday 10:00: an ordinary day
    teams.assign(Principal.from_user(org.director), ticket, clock(), volunteer="volunteer")
    assert teams.run_take_back(clock.advance(minutes=30)) == 1
    told = db.session.scalars(select(Notification).where(Notification.event == "taken_back_director")).all()
    assert [(n.user_id, n.audience) for n in told] == [(org.director.id, "director")]
    assert "已收回并提醒社区主任" in _events(ticket, "take_back")[0].note


def test_the_residents_reply_says_who_will_call_and_to_call_120_first(org, night, make_ticket, account, clock):
    ticket = make_ticket(FALL)
    text = replies.ticket_opened(account, ticket, clock())
    assert "今晚值班的刘主任会尽快给您打电话" in text
    assert text.startswith("有人受伤、昏迷或起不来，请先拨打 120 叫救护车！")
    gas = replies.ticket_opened(account, make_ticket("楼道里有很重的煤气味"), clock())
    assert "119" in gas and "120" not in gas


def test_in_office_hours_the_reply_names_nobody(org, night, make_ticket, account, clock):
    clock.at = at(23, "10:00")
    text = replies.ticket_opened(account, make_ticket(FALL), clock())
    assert "值班" not in text and "120" in text
    assert duty.run_duty(clock()) == 0


def test_after_hours_auto_assign_picks_a_volunteer_on_the_roster_not_one_off_duty(org, night, make_ticket, clock):
    ticket = make_ticket("3号楼走廊灯坏了")  # not urgent
    db.session.add(DutyShift(community_id=org.c1.id, user_id=org.volunteer.id, starts_at=at(23, "00:00"),
                             ends_at=at(23, "08:00")))
    db.session.commit()
    assert teams.auto_assign(clock()) == [(ticket.number, "volunteer")]


def test_after_hours_with_no_volunteer_the_roster_gets_it_without_sms(org, night, make_ticket, clock):
    ticket = make_ticket("3号楼走廊灯坏了")
    assert teams.auto_assign(clock()) == []
    assert ticket.assignee_id == night.id and _events(ticket, "duty_dispatch")
    assert _outbox("duty_alert", night) and not _outbox("duty_sms", night)
    assert db.session.scalar(select(DutyAlert)) is None


def test_the_duty_job_is_declared():
    assert "dispatch.teams.duty:run_duty" in {job.target for job in JOBS}


@pytest.mark.pure
def test_outside_office_hours_only_someone_on_shift_or_on_the_roster_is_picked():
    job = routing.Job(community_id=1, category_name="楼道及路灯", required_skills=frozenset({"electrical"}))

    def person(uid, hours):
        return routing.Candidate(uid, f"v{uid}", f"v{uid}", 1, frozenset({"electrical"}), tuple([hours] * 7), (), 0, 3)
    night = datetime(2026, 11, 23, 4, 30, tzinfo=SHANGHAI)
    ranked = routing.rank(job, [person(1, ((480, 1080),)), person(2, ())], night)
    assert routing.auto_pick_on_call(job, ranked, set()) is None
    assert routing.auto_pick_on_call(job, ranked, {2}).candidate.user_id == 2


# ---- the roster page ----

def test_the_director_sees_tonight_first_and_adds_a_shift(client, org, night, clock):
    login(client, "director")
    page = client.get("/duty").get_data(as_text=True)
    assert page.index("现在值班") < page.index("近 7 天的班次") and "刘芳" in page and "tel:13900000001" in page
    response = client.post("/duty/shifts", data={"csrf_token": csrf_from(client, "/duty"), "roster": "yanchenglu",
                                                 "user": str(org.staff.id), "starts": "2026-11-23T17:30",
                                                 "ends": "2026-11-24T08:30"})
    assert response.status_code == 302
    shift = db.session.scalars(select(DutyShift).where(DutyShift.user_id == org.staff.id)).one()
    assert (shift.starts_at, shift.ends_at) == (at(23, "17:30"), at(24, "08:30"))
    assert "盐城路社工" in client.get("/duty").get_data(as_text=True)


def test_bad_shifts_are_refused_with_what_to_fix(client, org, night):
    login(client, "director")
    token = csrf_from(client, "/duty")
    base = {"csrf_token": token, "roster": "yanchenglu", "user": str(org.staff.id)}
    ends_first = client.post("/duty/shifts", data=base | {"starts": "2026-11-24T08:30", "ends": "2026-11-23T17:30"})
    assert ends_first.status_code == 422 and "结束时间应晚于开始时间" in ends_first.get_data(as_text=True)
    stranger = client.post("/duty/shifts", data=base | {"user": str(org.staff3.id), "starts": "2026-11-23T17:30",
                                                         "ends": "2026-11-24T08:30"})
    assert stranger.status_code == 422 and "请从名单里选择值班人员" in stranger.get_data(as_text=True)
    assert client.post("/duty/shifts", data=base | {"starts": "明天", "ends": ""}).status_code == 422
    assert db.session.scalars(select(DutyShift).where(DutyShift.user_id == org.staff.id)).all() == []


def test_staff_and_volunteers_may_look_only_editors_edit_and_other_rosters_are_hidden(client, org, night):
    login(client, "staff")
    assert client.get("/duty").status_code == 200
    token = csrf_from(client, "/duty")
    assert client.post("/duty/shifts", data={"csrf_token": token, "roster": "yanchenglu"}).status_code == 403
    client.post("/logout", data={"csrf_token": token})
    login(client, "director")
    assert client.get("/duty?roster=xiangganghuayuan").status_code == 404
    client.post("/logout", data={"csrf_token": csrf_from(client, "/duty")})
    login(client, "volunteer")
    roster = client.get("/duty")
    assert roster.status_code == 200 and "/duty/shifts" not in roster.get_data(as_text=True)  # no add form
    token = csrf_from(client, "/desk/")
    assert client.post("/duty/shifts", data={"csrf_token": token, "roster": "yanchenglu"}).status_code == 403
    assert 'href="/duty"' in client.get("/desk/").get_data(as_text=True)


def test_the_supervisor_keeps_the_streets_roster_and_removes_a_shift(client, org, night, clock):
    login(client, "street")
    page = client.get("/duty").get_data(as_text=True)
    assert "湛山街道（全街道）" in page and "盐城路社区" in page and "福州路社区" in page
    shift = db.session.scalars(select(DutyShift)).one()
    token = csrf_from(client, "/duty?roster=yanchenglu")
    response = client.post(f"/duty/shifts/{shift.id}/delete", data={"csrf_token": token, "roster": "yanchenglu"})
    assert response.status_code == 302 and db.session.scalars(select(DutyShift)).all() == []
    assert client.get("/duty/shifts").status_code == 302
