"""Issue 21, parts 5 and 6: holders reach the resident (whole number while holding, logged), and desks that
put the urgent ticket first, say how late it is, and never end on a 404 or a 405."""
import re
from datetime import timedelta
from io import BytesIO

import pytest
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.org.access_log import AccessLog
from dispatch.org.principal import Principal
from dispatch.tickets import pipeline
from dispatch.tickets.models import Priority
from dispatch.timeutil import now
from tests.conftest import login
from tests.teams.test_desk import act, fetch, jpeg_bytes, page

PHONE = "13812345678"


def handed(org, make_ticket, description="3号楼2单元走廊灯坏了", priority=None, **target):
    """A ticket with a resident's phone, accepted and dispatched (to the volunteer unless told)."""
    ticket = make_ticket(description, resident_phone=PHONE, priority=priority)
    director = Principal.from_user(org.director)
    pipeline.act(director, ticket, "accept")
    pipeline.act(director, ticket, "dispatch", **(target or {"assignee": "volunteer"}))
    return ticket


def logged(user=None):
    db.session.expire_all()
    query = select(AccessLog).order_by(AccessLog.id)
    return db.session.scalars(query.where(AccessLog.user_id == user.id) if user else query).all()


def due(ticket, **delta):
    """Set the resolution deadline relative to the frozen clock's now."""
    row = fetch(ticket.number)
    row.resolution_due_at = now() + timedelta(**delta)
    db.session.commit()


# ---- part 5: the holder's whole number, logged; masked when the task ends ----

def test_the_holding_volunteer_sees_the_whole_number_to_call_and_the_view_is_logged(client, org, make_ticket, clock):
    ticket = handed(org, make_ticket)
    login(client, "volunteer")
    assert logged(org.volunteer) == []
    body = page(client.get(f"/desk/tasks/{ticket.number}"))
    assert f'href="tel:{PHONE}"' in body and "拨打居民电话" in body and "138****5678" not in body
    [row] = logged(org.volunteer)
    assert (row.what, row.why, row.ticket_id) == ("phone", "承办工单", ticket.id)
    assert row.resident_id == fetch(ticket.number).resident_id and row.at == clock.at


@pytest.mark.parametrize("ending", ["decline", "withdraw", "finish"])
def test_the_number_is_masked_again_once_the_task_ends(client, org, make_ticket, ending):
    ticket = handed(org, make_ticket)
    login(client, "volunteer")
    if ending == "decline":
        act(client, ticket, "decline", {"note": "不在青岛"})
    elif ending == "withdraw":
        pipeline.act(Principal.from_user(org.director), fetch(ticket.number), "withdraw", note="改派")
    else:
        act(client, ticket, "sign")
        act(client, ticket, "finish", {"note": "已修好", "photo": (BytesIO(jpeg_bytes()), "a.jpg")},
            content_type="multipart/form-data")
    before = len(logged(org.volunteer))
    body = page(client.get(f"/desk/tasks/{ticket.number}"))
    assert "这项任务已结束" in body and "138****5678" in body and PHONE not in body and "tel:138" not in body
    assert len(logged(org.volunteer)) == before  # a masked number is not a view of it


def test_a_department_holding_the_ticket_calls_from_its_desk_and_the_console(client, org, make_ticket):
    ticket = handed(org, make_ticket, department="water")
    login(client, "dept")
    body = page(client.get("/desk/"))
    assert f'href="tel:{PHONE}"' in body and "拨打居民电话" in body
    detail = page(client.get(f"/tickets/{ticket.number}"))
    assert f'href="tel:{PHONE}"' in detail
    assert {r.why for r in logged(org.dept)} == {"承办工单"} and len(logged(org.dept)) == 2
    act(client, ticket, "sign")
    act(client, ticket, "resolve", {"note": "已修复"})
    before = len(logged(org.dept))
    detail = page(client.get(f"/tickets/{ticket.number}"))
    assert "138****5678" in detail and PHONE not in detail and len(logged(org.dept)) == before


def test_whoever_sees_a_whole_number_is_logged_and_a_masked_one_is_not(client, org, make_ticket):
    ticket = handed(org, make_ticket)
    login(client, "director")
    assert PHONE in page(client.get(f"/tickets/{ticket.number}"))
    assert [r.why for r in logged(org.director)] == ["本社区工作人员"]
    login(client, "street")
    body = page(client.get(f"/tickets/{ticket.number}"))
    assert "138****5678" in body and PHONE not in body and logged(org.street) == []


# ---- part 6: the desks ----

def test_declining_returns_to_the_task_list_with_a_message(client, org, make_ticket):
    ticket = handed(org, make_ticket)
    login(client, "volunteer")
    response = act(client, ticket, "decline", {"note": "这几天不在青岛"}, follow=False)
    assert response.status_code == 303 and response.location.endswith("/desk/")
    body = page(client.get(response.location))
    assert "已谢绝这项任务，社区会另行安排" in body and "我的任务" in body
    past = client.get(f"/desk/tasks/{ticket.number}").get_data(as_text=True)
    assert 'data-status="declined">已谢绝<' in past  # what became of my task, not where the ticket is now


@pytest.mark.parametrize("action", ["sign", "start", "decline", "finish", "comments", "photos"])
def test_a_get_on_a_volunteer_action_goes_to_the_task(client, org, make_ticket, action):
    ticket = handed(org, make_ticket)
    login(client, "volunteer")
    response = client.get(f"/desk/tasks/{ticket.number}/{action}")
    assert response.status_code == 303 and response.location.endswith(f"/desk/tasks/{ticket.number}")
    assert client.get(response.location).status_code == 200


@pytest.mark.parametrize("action", ["sign", "return", "extension", "resolve"])
def test_a_get_on_a_department_action_goes_to_its_card_on_the_desk(client, org, make_ticket, action):
    ticket = handed(org, make_ticket, department="water")
    login(client, "dept")
    response = client.get(f"/desk/tasks/{ticket.number}/{action}", follow_redirects=True)
    assert response.status_code == 200 and response.request.path == "/desk/"
    assert f'id="t-{ticket.number}"' in page(response)


def test_a_get_on_an_action_of_a_ticket_never_theirs_is_still_not_found(client, org, make_ticket):
    ticket = handed(org, make_ticket, assignee="volunteer2")
    login(client, "volunteer")
    assert client.get(f"/desk/tasks/{ticket.number}/sign", follow_redirects=True).status_code == 404


def test_a_ticket_with_two_past_tasks_is_listed_once_and_links_to_its_page(client, org, make_ticket):
    ticket = handed(org, make_ticket)
    director = Principal.from_user(org.director)
    login(client, "volunteer")
    act(client, ticket, "decline", {"note": "今天不行"})
    pipeline.act(director, fetch(ticket.number), "dispatch", assignee="volunteer")
    act(client, ticket, "decline", {"note": "明天也不行"})
    body = page(client.get("/desk/"))
    ended = body.split("data-ended-tasks", 1)[1]
    assert ended.count(f'data-past="{ticket.number}"') == 1
    assert f'href="/desk/tasks/{ticket.number}"' in ended


def test_a_ticket_back_in_hand_is_not_also_listed_as_ended(client, org, make_ticket):
    ticket = handed(org, make_ticket)
    login(client, "volunteer")
    act(client, ticket, "decline", {"note": "今天不行"})
    pipeline.act(Principal.from_user(org.director), fetch(ticket.number), "dispatch", assignee="volunteer")
    body = page(client.get("/desk/"))
    assert f'data-task="{ticket.number}"' in body and f'data-past="{ticket.number}"' not in body


def test_volunteer_cards_say_urgent_and_how_late_most_urgent_first(client, org, make_ticket):
    light = handed(org, make_ticket, "走廊灯坏了")
    fall = handed(org, make_ticket, "我母亲在家摔倒了起不来", priority=Priority.URGENT)
    due(light, hours=5, minutes=30)
    due(fall, days=-6, hours=-2)
    login(client, "volunteer")
    body = page(client.get("/desk/"))
    cards = re.findall(r'data-task="([^"]+)"', body)
    assert cards == [fall.number, light.number]
    fall_card, light_card = body.split(f'data-task="{light.number}"')
    assert "紧急" in fall_card and "已超时 6 天" in fall_card
    assert "还剩 5 小时" in light_card and "紧急" not in light_card


def test_department_cards_say_how_late(client, org, make_ticket):
    ticket = handed(org, make_ticket, department="water")
    due(ticket, days=-6)
    login(client, "dept")
    body = page(client.get("/desk/"))
    assert "已超时 6 天" in body and "desk-clock-late" in body


def order(client, query=""):
    return re.findall(r'data-ticket="([^"]+)"', page(client.get(f"/desk/{query}")))


def test_the_department_desk_sorts_and_filters(client, org, make_ticket, clock):
    old_urgent = handed(org, make_ticket, "燃气味很大", priority=Priority.URGENT, department="water")
    clock.advance(hours=1)
    soon = handed(org, make_ticket, "水压低", department="water")
    clock.advance(hours=1)
    newest = handed(org, make_ticket, "水表漏水", priority=Priority.LOW, department="water")
    due(old_urgent, days=3)
    due(soon, days=-2)
    due(newest, days=1)
    login(client, "dept")
    a, b, c = old_urgent.number, soon.number, newest.number
    assert order(client) == [a, b, c]  # most urgent first: 紧急, then the least time left
    assert order(client, "?sort=due") == [b, c, a]
    assert order(client, "?sort=newest") == [c, b, a]
    act(client, soon, "sign")
    assert order(client, "?show=pending") == [a, c]
    assert order(client, "?show=working") == [b]
    assert order(client, "?show=late&sort=newest") == [b]
    assert "已超时（1）" in page(client.get("/desk/")) and "待签收（2）" in page(client.get("/desk/"))
    assert order(client, "?sort=bogus&show=bogus") == [a, b, c]  # an odd value is the default, not an error


def test_past_department_tickets_link_to_a_page_that_opens(client, org, make_ticket):
    ticket = handed(org, make_ticket, department="water")
    login(client, "dept")
    act(client, ticket, "return", {"reason": "不属于本单位职责", "note": ""})
    body = page(client.get("/desk/"))
    assert f'href="/desk/tasks/{ticket.number}"' in body
    past = client.get(f"/desk/tasks/{ticket.number}")
    assert past.status_code == 200 and "已退单" in page(past) and PHONE not in page(past)

