"""The right buttons for the right person on the ticket page (issue 21, part 3).

The holder sees the holder's buttons; the director of a ticket a volunteer holds sees 改派, 撤回派单 and 代为办结 and
cannot sign for them (the page does not offer it and a POST is refused); a street supervisor's page leads with
催办 / 督办 and the extension decision, and never shows the holder's buttons.
"""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.monitor import refresh
from dispatch.monitor.models import TicketFact
from dispatch.notify.models import Notification
from dispatch.org.principal import Principal
from dispatch.tickets import pipeline
from dispatch.tickets.lifecycle import COMMUNITY, Holder, NotHolder, Status, ActionNotPermitted, decide
from dispatch.tickets.models import Assignment, Ticket, TicketEvent
from dispatch.org.roles import Role
from tests.conftest import csrf_from, login


def fresh(number):
    db.session.expire_all()
    return db.session.scalar(select(Ticket).where(Ticket.number == number))


def post(client, number, path, **form):
    url = f"/tickets/{number}"
    return client.post(f"{url}/{path}", data={"csrf_token": csrf_from(client, url),
                                              "version": fresh(number).version, **form})


def primary_buttons(page):
    """The labels of the blue buttons of the action box."""
    box = page[page.index("card-actions"):page.index("</section>", page.index("card-actions"))]
    return re.findall(r'<button type="submit" class="primary"[^>]*>([^<]+)</button>', box)


@pytest.fixture
def volunteer_held(org, make_ticket):
    """A ticket 盐城路社区 dispatched to 李师傅 (not signed yet)."""
    ticket = make_ticket(resident_phone="13812341234", resident_name="张阿姨")
    director = Principal.from_user(org.director)
    pipeline.act(director, ticket, "accept")
    pipeline.act(director, ticket, "dispatch", assignee="volunteer")
    return ticket.number


# ---- the director on a volunteer's ticket ----

def test_the_director_sees_no_sign_on_a_volunteers_ticket_but_reassign_withdraw_and_resolve_for(
        client, org, volunteer_held):
    login(client, "director")
    page = client.get(f"/tickets/{volunteer_held}").get_data(as_text=True)
    assert "/actions/sign" not in page and ">签收<" not in page and "/actions/return" not in page
    for offered in ("/actions/withdraw", "/reassign", "/actions/resolve_for_holder", "代为办结"):
        assert offered in page, offered
    assert "这张工单现由<strong>李师傅</strong>承办" in page
    assert primary_buttons(page) == []  # nothing of the director's is the next step of this ticket


def test_a_sign_posted_by_the_director_is_refused_and_changes_nothing(client, org, volunteer_held):
    login(client, "director")
    before = fresh(volunteer_held).version
    response = post(client, volunteer_held, "actions/sign")
    assert response.status_code == 403 and "李师傅" in response.get_data(as_text=True)
    ticket = fresh(volunteer_held)
    assert ticket.status is Status.DISPATCHED and ticket.version == before
    assert db.session.scalar(select(Assignment.signed_at).where(Assignment.ticket_id == ticket.id)) is None


@pytest.mark.pure
def test_decide_lets_only_the_holder_sign_and_only_the_director_resolve_for_them():
    volunteer = Holder(user_id=7, name="李师傅")
    director = Principal(label="主任", role=Role.COMMUNITY_DIRECTOR, user_id=1, community_id=1)
    staff = Principal(label="社工", role=Role.COMMUNITY_STAFF, user_id=2, community_id=1)
    with pytest.raises(NotHolder):
        decide("sign", Status.DISPATCHED, director, volunteer)
    assert decide("sign", Status.DISPATCHED, Principal(label="李", role=Role.VOLUNTEER, user_id=7),
                  volunteer) is Status.SIGNED
    assert decide("resolve_for_holder", Status.IN_PROGRESS, director, volunteer) is Status.RESOLVED
    with pytest.raises(ActionNotPermitted):
        decide("resolve_for_holder", Status.IN_PROGRESS, staff, volunteer)
    with pytest.raises(Exception):  # nothing held: the community resolves it as its own, with 办结
        decide("resolve_for_holder", Status.ACCEPTED, director, COMMUNITY)


# ---- 代为办结 end to end ----

def test_resolve_on_behalf_closes_the_task_tells_the_resident_and_counts_as_resolved(
        client, org, volunteer_held, clock):
    pipeline.act(Principal.from_user(org.volunteer), fresh(volunteer_held), "sign")
    clock.advance(hours=2)
    login(client, "director")
    refused = post(client, volunteer_held, "actions/resolve_for_holder", note=" ")
    assert refused.status_code == 422 and fresh(volunteer_held).status is Status.SIGNED
    response = post(client, volunteer_held, "actions/resolve_for_holder", note="李师傅已修好，手机没电未能点办结")
    assert response.status_code == 302
    ticket = fresh(volunteer_held)
    assert ticket.status is Status.RESOLVED and ticket.resolved_at == clock()
    task = db.session.scalar(select(Assignment).where(Assignment.ticket_id == ticket.id))
    assert task.ended_at == clock() and task.outcome == "resolved"
    entry = db.session.scalar(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                              .order_by(TicketEvent.id.desc()).limit(1))
    assert entry.kind == "resolve_for_holder" and entry.data["on_behalf_of"] == "365服务队志愿者李师傅"
    page = client.get(f"/tickets/{volunteer_held}").get_data(as_text=True)
    assert "盐城路主任（社区主任）代为办结（代 365服务队志愿者李师傅）" in page
    assert "原因：李师傅已修好，手机没电未能点办结" in page
    told = db.session.scalars(select(Notification).where(Notification.ticket_id == ticket.id,
                                                         Notification.event == "resolved")).all()
    assert told and any(n.audience == "resident" for n in told)
    refresh.run_refresh(clock())
    fact = db.session.get(TicketFact, ticket.id)
    assert fact.resolved and fact.responded


def test_staff_and_the_volunteer_cannot_resolve_on_behalf(client, org, volunteer_held):
    for who in ("staff", "volunteer"):
        login(client, who)
        url = f"/tickets/{volunteer_held}"
        response = client.post(f"{url}/actions/resolve_for_holder", follow_redirects=True, data={
            "csrf_token": csrf_from(client, url), "version": fresh(volunteer_held).version, "note": "代办"})
        assert "不能执行「代为办结」" in response.get_data(as_text=True)
        assert fresh(volunteer_held).status is Status.DISPATCHED


def test_reassign_takes_the_task_back_and_dispatches_it_in_one_go(client, org, volunteer_held):
    volunteer = Principal.from_user(org.volunteer)
    for step in ("sign", "start"):  # even a task under way: the director can take it back and send it elsewhere
        pipeline.act(volunteer, fresh(volunteer_held), step)
    login(client, "director")
    assert "/reassign" in client.get(f"/tickets/{volunteer_held}").get_data(as_text=True)
    response = post(client, volunteer_held, "reassign", target="department:water", note="需要换水表，转供水")
    assert response.status_code == 302
    ticket = fresh(volunteer_held)
    assert ticket.status is Status.DISPATCHED and ticket.department.code == "water" and ticket.assignee is None
    kinds = [e.kind for e in ticket.events][-2:]
    assert kinds == ["withdraw", "dispatch"]
    missing = post(client, volunteer_held, "reassign", target="", note="再改")
    assert missing.status_code == 422 and "请选择派单对象" in missing.get_data(as_text=True)


# ---- the street supervisor ----

@pytest.fixture
def department_late(org, make_ticket, clock):
    """A ticket forwarded to 供水, signed and started by them, now past its deadline."""
    ticket = make_ticket("楼下水管爆了，水漫到楼道", resident_phone="13812341234")
    director, dept = Principal.from_user(org.director), Principal.from_user(org.dept)
    pipeline.act(director, ticket, "accept")
    pipeline.act(director, ticket, "dispatch", department="water")
    pipeline.act(dept, ticket, "sign")
    pipeline.act(dept, ticket, "start")
    ticket.resolution_due_at = clock() - timedelta(days=2)
    db.session.commit()
    return ticket.number


def test_the_supervisors_page_leads_with_urge_and_supervise_and_shows_no_holder_buttons(
        client, org, department_late):
    login(client, "street")
    page = client.get(f"/tickets/{department_late}").get_data(as_text=True)
    box = page[page.index("card-actions"):]
    assert "data-chase" in box and "催办：提醒承办人尽快处理；督办：街道正式督办，记入考核" in box
    for holders in ("/actions/start", '/actions/resolve"', "/actions/request_extension", "/actions/wait_for_resident",
                    "/actions/return", "/actions/resolve_for_holder"):
        assert holders not in page, holders
    assert primary_buttons(page) == ["催办"]


def test_a_pending_extension_puts_approve_and_refuse_first_for_the_supervisor(client, org, department_late):
    pipeline.act(Principal.from_user(org.dept), fresh(department_late), "request_extension", note="等配件",
                 extension_days=3)
    login(client, "street")
    page = client.get(f"/tickets/{department_late}").get_data(as_text=True)
    box = page[page.index("card-actions"):]
    assert primary_buttons(page) == ["批准延期"]
    assert "供水（职能部门）申请延期 3 天</strong>：等配件" in page and "批准后，办结时限从" in page
    assert box.index("actions/approve_extension") < box.index("actions/refuse_extension") < box.index("data-chase")


def test_the_supervisor_on_a_ticket_the_community_holds_sees_no_community_handling(client, org, make_ticket):
    ticket = make_ticket()
    pipeline.act(Principal.from_user(org.director), ticket, "accept")
    login(client, "street")
    page = client.get(f"/tickets/{ticket.number}").get_data(as_text=True)
    assert '/actions/resolve"' not in page and "/actions/wait_for_resident" not in page
    assert primary_buttons(page) == [] and "工单未超时，暂不需要催办或督办" in page
    login(client, "director")
    page = client.get(f"/tickets/{ticket.number}").get_data(as_text=True)
    assert primary_buttons(page) == [] and 'class="button primary" data-link="suggestions"' in page  # the one blue


def test_reassign_to_a_volunteer_on_leave_asks_first_like_any_dispatch(client, org, volunteer_held):
    from dispatch.teams.models import Volunteer
    db.session.add(Volunteer(user=org.volunteer2, skills=[], weekly_hours=["08:00-18:00"] * 7, max_tasks=3,
                             leave=[["2026-11-19", "2026-11-21"]]))
    db.session.commit()
    login(client, "director")
    asked = post(client, volunteer_held, "reassign", target="assignee:volunteer2", note="李师傅忙不过来")
    page = asked.get_data(as_text=True)
    assert asked.status_code == 422 and "请假" in page and "仍然派给" in page
    assert 'action="/tickets/%s/reassign"' % volunteer_held in page
    assert fresh(volunteer_held).assignee.username == "volunteer"  # nothing changed yet
    sent = post(client, volunteer_held, "reassign", target="assignee:volunteer2", note="李师傅忙不过来", confirm="1")
    assert sent.status_code == 302 and fresh(volunteer_held).assignee.username == "volunteer2"


def test_what_the_scheduler_does_is_never_a_button_nor_an_api_action(client, org, volunteer_held, api):
    from dispatch.tickets.lifecycle import ACTIONS, allowed_actions
    jobs = {name for name, action in ACTIONS.items() if action.job}
    assert {"take_back", "duty_dispatch", "duty_escalate"} <= jobs
    assert not jobs & {a.name for a in allowed_actions(Status.DISPATCHED, Role.DISTRICT_ADMIN)}
    login(client, "admin")
    page = client.get(f"/tickets/{volunteer_held}").get_data(as_text=True)
    assert "超时收回" not in page and "值班升级" not in page and "/actions/take_back" not in page
    refused = api.post(f"/api/v1/tickets/{volunteer_held}/transitions", json={"action": "take_back"})
    assert refused.status_code == 422 and fresh(volunteer_held).status is Status.DISPATCHED
