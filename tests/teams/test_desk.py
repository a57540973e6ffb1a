"""The volunteer desk and the department desk, through the Flask test client and the real database."""
import re
from io import BytesIO

import pytest
from PIL import Image
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.org.principal import Principal
from dispatch.sla import policies
from dispatch.tickets import pipeline
from dispatch.tickets.lifecycle import Status
from dispatch.tickets.models import Assignment, Ticket, TicketEvent
from tests.conftest import csrf_from, login


def jpeg_bytes(size=(40, 30)):
    """A small valid JPEG made with Pillow."""
    out = BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(out, "JPEG")
    return out.getvalue()


def page(response):
    return response.get_data(as_text=True)


def fetch(number):
    db.session.expire_all()
    return db.session.scalar(select(Ticket).where(Ticket.number == number))


def tasks_of(ticket):
    return db.session.scalars(select(Assignment).where(Assignment.ticket_id == ticket.id)
                              .order_by(Assignment.id)).all()


def dispatched(org, make_ticket, note="请带梯子", description="3号楼2单元走廊灯坏了", **target):
    """A ticket accepted and dispatched by the director (to the volunteer unless a target is given)."""
    ticket = make_ticket(description, address="古田路16号3号楼")
    director = Principal.from_user(org.director)
    pipeline.act(director, ticket, "accept")
    pipeline.act(director, ticket, "dispatch", note=note, **(target or {"assignee": "volunteer"}))
    return ticket


def post(client, url, data=None, follow=True, **kw):
    """POST a desk form with the session's CSRF token."""
    token = csrf_from(client, "/desk/")
    return client.post(url, data={"csrf_token": token, **(data or {})}, follow_redirects=follow, **kw)


def act(client, ticket, name, data=None, **kw):
    """POST one of the desk's actions on a ticket, with the version as it stands now."""
    version = fetch(ticket.number).version
    return post(client, f"/desk/tasks/{ticket.number}/{name}", {"version": version, **(data or {})}, **kw)


@pytest.fixture
def volunteer(client, org):
    login(client, "volunteer")
    return client


@pytest.fixture
def dept(client, org):
    login(client, "dept")
    return client


# ---- the volunteer's list and task page ----

def test_a_volunteer_lands_on_their_task_list(client, org, make_ticket):
    ticket = dispatched(org, make_ticket)
    dispatched(org, make_ticket, description="给别人的活", assignee="volunteer2")
    response = login(client, "volunteer")
    assert response.status_code == 302 and response.location.endswith("/desk/")
    body = page(client.get("/desk/"))
    assert "我的任务" in body and ticket.number in body and "古田路16号3号楼" in body
    assert "社区留言：请带梯子" in body and "前签收" in body and "已派单" in body
    assert "给别人的活" not in body


def test_the_task_page_shows_facts_masked_phone_and_what_can_be_done(volunteer, org, make_ticket):
    ticket = dispatched(org, make_ticket)
    ticket.resident = None
    body = page(volunteer.get(f"/desk/tasks/{ticket.number}"))
    assert "3号楼2单元走廊灯坏了" in body and "社区留言：请带梯子" in body
    assert re.search(r'data-actions="decline sign"', body)
    assert "添加备注" in body and "上传照片" in body


def test_another_volunteer_sees_the_residents_phone_masked(client, org, make_ticket):
    ticket = make_ticket(resident_phone="13812345678")
    director = Principal.from_user(org.director)
    pipeline.act(director, ticket, "accept")
    pipeline.act(director, ticket, "dispatch", assignee="volunteer")
    pipeline.act(director, ticket, "withdraw", note="改派")
    pipeline.act(director, ticket, "dispatch", assignee="volunteer2")
    login(client, "volunteer")  # their task ended: the past page, the number masked
    body = page(client.get(f"/desk/tasks/{ticket.number}"))
    assert "138****5678" in body and "13812345678" not in body


def test_another_volunteers_task_is_not_found(client, org, make_ticket):
    ticket = dispatched(org, make_ticket)
    login(client, "volunteer2")
    assert client.get(f"/desk/tasks/{ticket.number}").status_code == 404
    response = act(client, ticket, "sign", follow=False)
    assert response.status_code == 404
    assert fetch(ticket.number).status is Status.DISPATCHED


# ---- sign, start, decline, note, photo, finish ----

def test_sign_then_start(volunteer, org, make_ticket):
    ticket = dispatched(org, make_ticket)
    response = act(volunteer, ticket, "sign", follow=False)
    assert response.status_code == 303 and response.location.endswith(f"/desk/tasks/{ticket.number}")
    body = page(volunteer.get(response.location))
    assert "已签收" in body and 'data-actions="decline finish start"' in body
    assert fetch(ticket.number).status is Status.SIGNED and tasks_of(ticket)[0].signed_at is not None
    body = page(act(volunteer, ticket, "start"))
    assert "已开始办理" in body and fetch(ticket.number).status is Status.IN_PROGRESS


def test_decline_returns_the_ticket_and_clears_the_assignee(volunteer, org, make_ticket):
    ticket = dispatched(org, make_ticket)
    response = act(volunteer, ticket, "decline", {"note": "这几天不在青岛"}, follow=False)
    assert response.status_code == 303
    after = fetch(ticket.number)
    assert after.status is Status.RETURNED and after.assignee is None
    task = tasks_of(ticket)[0]
    assert task.outcome == "declined" and task.reason == "这几天不在青岛" and task.ended_at is not None
    body = page(volunteer.get("/desk/"))
    assert "已谢绝这项任务" in body and "已谢绝" in body and "现在没有需要您办理的任务" in body
    past = page(volunteer.get(f"/desk/tasks/{ticket.number}"))  # a past task's page: what happened, no buttons
    assert "这项任务已结束：已谢绝" in past and "data-actions" not in past


def test_decline_needs_a_reason(volunteer, org, make_ticket):
    ticket = dispatched(org, make_ticket)
    response = act(volunteer, ticket, "decline", {"note": "  "})
    assert response.status_code == 422 and "请写明谢绝的原因" in page(response)
    assert fetch(ticket.number).status is Status.DISPATCHED


def test_comment_and_photo_go_on_the_timeline(volunteer, org, make_ticket):
    ticket = dispatched(org, make_ticket)
    assert "已添加备注" in page(act(volunteer, ticket, "comments", {"note": "已约好明早上门"}))
    photo = (BytesIO(jpeg_bytes()), "before.jpg")
    body = page(act(volunteer, ticket, "photos", {"photo": photo}, content_type="multipart/form-data"))
    assert "照片已上传" in body and "已约好明早上门" in body
    after = fetch(ticket.number)
    assert len(after.photos) == 1 and after.photos[0].thumbnail_key
    assert [e.kind for e in after.events][-2:] == ["comment", "photo_added"]


def test_a_file_that_is_not_a_photo_is_refused(volunteer, org, make_ticket):
    ticket = dispatched(org, make_ticket)
    response = act(volunteer, ticket, "photos", {"photo": (BytesIO(b"not an image"), "x.jpg")},
                   content_type="multipart/form-data")
    assert response.status_code == 422 and not fetch(ticket.number).photos


def test_finish_with_a_photo_and_a_note_resolves(volunteer, org, make_ticket):
    ticket = dispatched(org, make_ticket)
    act(volunteer, ticket, "sign")
    act(volunteer, ticket, "start")
    response = act(volunteer, ticket, "finish", {"note": "已更换灯泡", "photo": (BytesIO(jpeg_bytes()), "after.jpg")},
                   content_type="multipart/form-data")
    assert response.status_code == 200 and "已完成" in page(response)
    after = fetch(ticket.number)
    assert after.status is Status.RESOLVED and len(after.photos) == 1
    assert [e.kind for e in after.events][-2:] == ["photo_added", "resolve"]
    assert after.events[-1].note == "已更换灯泡"
    task = tasks_of(ticket)[0]
    assert task.outcome == "resolved" and task.on_time is True
    assert "已办结" in page(volunteer.get("/desk/"))


def test_finish_without_a_photo_changes_nothing(volunteer, org, make_ticket):
    ticket = dispatched(org, make_ticket)
    act(volunteer, ticket, "sign")
    before = fetch(ticket.number).version
    response = act(volunteer, ticket, "finish", {"note": "已更换灯泡"}, content_type="multipart/form-data")
    body = page(response)
    assert response.status_code == 422 and "需要上传一张办好后的现场照片" in body
    assert "已更换灯泡" in body  # what was typed is kept
    after = fetch(ticket.number)
    assert after.status is Status.SIGNED and after.version == before and not after.photos


def test_finish_without_a_note_keeps_no_photo(volunteer, org, make_ticket):
    ticket = dispatched(org, make_ticket)
    act(volunteer, ticket, "sign")
    response = act(volunteer, ticket, "finish", {"photo": (BytesIO(jpeg_bytes()), "after.jpg")},
                   content_type="multipart/form-data")
    assert response.status_code == 422 and "请写明办理结果" in page(response)
    assert fetch(ticket.number).status is Status.SIGNED and not fetch(ticket.number).photos


# ---- races and refusals ----

def test_a_stale_version_gets_the_refreshed_page_with_409(volunteer, org, make_ticket, clock):
    ticket = dispatched(org, make_ticket)
    seen = fetch(ticket.number).version
    clock.advance(minutes=5)  # a comment touches updated_at: a new version
    pipeline.act(Principal.from_user(org.director), fetch(ticket.number), "comment", "居民来电催了")
    response = post(volunteer, f"/desk/tasks/{ticket.number}/sign", {"version": seen})
    body = page(response)
    assert response.status_code == 409 and "已被他人更新" in body
    assert "居民来电催了" in body and f'value="{seen + 1}"' in body
    assert fetch(ticket.number).status is Status.DISPATCHED


def test_an_action_the_state_no_longer_allows_is_409_with_a_chinese_message(volunteer, org, make_ticket):
    ticket = dispatched(org, make_ticket)
    response = act(volunteer, ticket, "start")
    assert response.status_code == 409 and "不能执行「开始办理」" in page(response)


def test_a_task_withdrawn_meanwhile_is_gone_from_the_desk(volunteer, org, make_ticket):
    ticket = dispatched(org, make_ticket)
    seen = fetch(ticket.number).version
    pipeline.act(Principal.from_user(org.director), fetch(ticket.number), "withdraw", note="改派他人")
    response = post(volunteer, f"/desk/tasks/{ticket.number}/sign", {"version": seen})
    assert response.status_code == 409  # a lost race, answered with the refreshed list and why
    body = page(response)
    assert "工单刚被他人处理" in body and "社区已撤回" in body and "我的任务" in body
    assert f'data-task="{ticket.number}"' not in body


def test_a_ticket_that_was_never_theirs_is_still_not_found(volunteer, org, make_ticket):
    other = dispatched(org, make_ticket, assignee="volunteer2")
    response = post(volunteer, f"/desk/tasks/{other.number}/sign", {"version": fetch(other.number).version})
    assert response.status_code == 404


# ---- who may come in ----

def test_managers_go_to_the_console_and_anonymous_to_login(client, org):
    assert "/login" in client.get("/desk/").location
    login(client, "director")
    assert client.get("/desk/").location.endswith("/")


def test_a_manager_cannot_post_to_the_desk(client, org, make_ticket):
    ticket = dispatched(org, make_ticket)
    login(client, "director")
    token = csrf_from(client, "/")
    response = client.post(f"/desk/tasks/{ticket.number}/sign", data={"csrf_token": token})
    assert response.status_code == 403


def test_each_desk_keeps_to_its_own_actions(client, org, make_ticket):
    ticket = dispatched(org, make_ticket)
    login(client, "volunteer")
    assert act(client, ticket, "resolve", {"note": "x"}).status_code == 403
    forwarded = dispatched(org, make_ticket, description="水管漏水", department="water")
    login(client, "dept")
    assert act(client, forwarded, "finish", {"note": "x"}).status_code == 403
    response = client.get(f"/desk/tasks/{forwarded.number}")  # a department's open task is a card on its desk
    assert response.status_code == 302 and response.location.endswith(f"/desk/#t-{forwarded.number}")


def test_csrf_is_required(volunteer, org, make_ticket):
    ticket = dispatched(org, make_ticket)
    response = volunteer.post(f"/desk/tasks/{ticket.number}/sign", data={"version": 3})
    assert response.status_code == 400 and fetch(ticket.number).status is Status.DISPATCHED


# ---- the department desk ----

def water_ticket(org, make_ticket):
    return dispatched(org, make_ticket, note="请核实管道归属", description="楼下水管漏水", department="water")


def test_a_department_user_lands_on_the_department_desk(client, org):
    response = login(client, "dept")
    assert response.status_code == 302 and response.location.endswith("/desk/")


def test_the_department_desk_lists_forwarded_tickets_with_the_note(dept, org, make_ticket):
    ticket = water_ticket(org, make_ticket)
    other = dispatched(org, make_ticket, description="给志愿者的活")
    body = page(dept.get("/desk/"))
    assert "转办工单" in body and ticket.number in body and "社区留言：请核实管道归属" in body
    assert other.number not in body and 'data-actions="return sign"' in body
    for reason in ("不属于本单位职责", "重复工单"):
        assert reason in body


def test_department_sign_then_resolve(dept, org, make_ticket):
    ticket = water_ticket(org, make_ticket)
    response = act(dept, ticket, "sign", follow=False)
    assert response.status_code == 303 and response.location.endswith("/desk/")
    assert fetch(ticket.number).status is Status.SIGNED
    assert 'data-actions="extension resolve return"' in page(dept.get("/desk/"))
    assert act(dept, ticket, "resolve", {"note": " "}).status_code == 422
    body = page(act(dept, ticket, "resolve", {"note": "已修复漏点"}))
    assert "已办结" in body and fetch(ticket.number).status is Status.RESOLVED
    assert tasks_of(ticket)[0].outcome == "resolved"


def test_department_return_stores_the_reason_and_the_text(dept, org, make_ticket):
    ticket = water_ticket(org, make_ticket)
    act(dept, ticket, "sign")
    body = page(act(dept, ticket, "return", {"reason": "不属于本单位职责", "note": "该管线由物业维护"}))
    assert "已退回社区" in body
    after = fetch(ticket.number)
    assert after.status is Status.RETURNED and after.department is None
    assert after.events[-1].note == "不属于本单位职责：该管线由物业维护"
    task = tasks_of(ticket)[0]
    assert task.outcome == "returned" and task.reason == "不属于本单位职责：该管线由物业维护"


def test_department_return_needs_a_reason_from_the_list(dept, org, make_ticket):
    ticket = water_ticket(org, make_ticket)
    response = act(dept, ticket, "return", {"reason": "随便写的", "note": "x"})
    assert response.status_code == 422 and "请从列表中选择退单原因" in page(response)
    response = act(dept, ticket, "return", {"reason": "其他"})
    assert response.status_code == 422 and "请写明退单原因" in page(response)
    assert fetch(ticket.number).status is Status.DISPATCHED
    body = page(act(dept, ticket, "return", {"reason": "重复工单"}))
    assert fetch(ticket.number).events[-1].note == "重复工单" and "已退回社区" in body


@pytest.fixture
def with_policies(org):
    """The default SLA policies, so tickets have a resolution deadline."""
    policies.seed_defaults()
    return org


def test_extension_before_the_deadline_waits_for_the_street(client, with_policies, org, make_ticket):
    ticket = water_ticket(org, make_ticket)
    login(client, "dept")
    act(client, ticket, "sign")
    assert act(client, ticket, "extension", {"note": "需要更换主管道", "extension_days": "61"}).status_code == 422
    body = page(act(client, ticket, "extension", {"note": "需要更换主管道", "extension_days": "5"}))
    assert "已申请延期 5 天" in body
    after = fetch(ticket.number)
    assert after.status is Status.EXTENSION_REQUESTED and after.events[-1].data["extension_days"] == 5
    due = after.resolution_due_at
    login(client, "street")
    client.post(f"/tickets/{ticket.number}/actions/approve_extension",
                data={"csrf_token": csrf_from(client, "/"), "version": after.version})
    approved = fetch(ticket.number)
    assert approved.status is Status.SIGNED and approved.resolution_due_at > due


def test_extension_after_the_deadline_is_refused(dept, with_policies, org, make_ticket, clock):
    ticket = water_ticket(org, make_ticket)
    act(dept, ticket, "sign")
    due = fetch(ticket.number).resolution_due_at
    assert due is not None
    clock.at = due
    response = act(dept, ticket, "extension", {"note": "需要更换主管道", "extension_days": "5"})
    assert response.status_code == 422 and "已超过办结时限" in page(response)
    assert fetch(ticket.number).status is Status.SIGNED
    assert not db.session.scalars(select(TicketEvent).where(TicketEvent.kind == "request_extension")).all()


def test_a_department_race_answers_409_with_the_desk(dept, org, make_ticket, clock):
    ticket = water_ticket(org, make_ticket)
    seen = fetch(ticket.number).version
    clock.advance(minutes=5)
    pipeline.act(Principal.from_user(org.director), fetch(ticket.number), "comment", "请今天处理")
    response = post(dept, f"/desk/tasks/{ticket.number}/sign", {"version": seen})
    assert response.status_code == 409 and "已被他人更新" in page(response)
    assert fetch(ticket.number).status is Status.DISPATCHED


# ---- found in review: past holders, odd numbers, missing versions ----

def test_a_past_holder_cannot_close_a_reopened_ticket(volunteer, org, make_ticket):
    ticket = dispatched(org, make_ticket)
    director = Principal.from_user(org.director)
    volunteer_p = Principal.from_user(org.volunteer)
    for name in ("sign", "start"):
        pipeline.act(volunteer_p, fetch(ticket.number), name)
    pipeline.act(volunteer_p, fetch(ticket.number), "resolve", note="已修好")
    pipeline.act(director, fetch(ticket.number), "reopen", note="居民说灯又不亮了")
    response = act(volunteer, ticket, "finish", {"note": "再次修好", "photo": (BytesIO(jpeg_bytes()), "a.jpg")},
                   content_type="multipart/form-data")
    assert response.status_code == 409 and "已经结束或已交给他人" in page(response)
    assert fetch(ticket.number).status is Status.REOPENED


@pytest.mark.parametrize("version", ["", "abc", "²", "１"])
def test_a_missing_or_odd_version_is_refused_not_applied(volunteer, org, make_ticket, version):
    ticket = dispatched(org, make_ticket)
    response = post(volunteer, f"/desk/tasks/{ticket.number}/sign", {"version": version})
    assert response.status_code == 422 and "请刷新页面后再操作" in page(response)
    assert fetch(ticket.number).status is Status.DISPATCHED


@pytest.mark.parametrize("days", ["²", "abc", "0", "61"])
def test_odd_extension_days_are_a_422(dept, org, make_ticket, days):
    ticket = water_ticket(org, make_ticket)
    act(dept, ticket, "sign")
    response = act(dept, ticket, "extension", {"extension_days": days, "note": "管材未到"})
    assert response.status_code == 422 and "1 到 60" in page(response)
