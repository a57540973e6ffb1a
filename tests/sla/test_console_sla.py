"""The SLA clocks in the console: the queue's 时限 column and sort, both clocks on a ticket, the admin pages."""
import re
from datetime import date

import pytest
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.org.models import Community
from dispatch.org.principal import Principal
from dispatch.sla import calendars, policies
from dispatch.sla.display import css_class, time_left_text
from dispatch.sla.models import CalendarDay, CalendarYear, SlaPolicy
from dispatch.sla.services import ClockView
from dispatch.tickets import pipeline
from dispatch.tickets.models import Priority, Ticket
from tests.conftest import csrf_from, login

EDIT_NOTICE = "修改只对之后新建的工单生效，已有工单按原规则计时"


def page(response):
    return response.get_data(as_text=True)


def post(client, url, data, follow=True):
    """POST a console form with the session's CSRF token."""
    token = csrf_from(client, "/")
    return client.post(url, data={"csrf_token": token, **data}, follow_redirects=follow)


def fetch(number):
    db.session.expire_all()
    return db.session.scalar(select(Ticket).where(Ticket.number == number))


def policy_named(name):
    return db.session.scalar(select(SlaPolicy).where(SlaPolicy.name == name, SlaPolicy.active))


@pytest.fixture
def seeded(org):
    """The default policies (after the org fixture, which loads the categories)."""
    policies.seed_defaults()
    return org


def policy_form(**changes):
    form = {"name": "楼道照明", "category": "lighting", "priority": "", "response_amount": "3",
            "response_unit": "working_hours", "resolution_amount": "3", "resolution_unit": "working_days",
            "warn_percent": "80", "escalation_chain": ["assignee", "director"], "escalation_step_percent": "50"}
    return form | changes


def numbers_in(body):
    return re.findall(r'<tr class="[^"]*"[^>]* data-number="([^"]+)"', body)


# ---- the formatter ----

def view(state, minutes_left, working=False):
    return ClockView("resolution", "办结", None, state, minutes_left, working)


@pytest.mark.parametrize("clock, text, css", [
    (view("running", 180, working=True), "剩余 3 个工作小时", "sla-ok"),
    (view("running", 2 * 450 + 30, working=True), "剩余 2 个工作日", "sla-ok"),
    (view("warning", 40), "剩余 40 分钟", "sla-warning"),
    (view("warning", 40, working=True), "剩余 40 分钟", "sla-warning"),
    (view("running", 5 * 60 + 59), "剩余 5 小时", "sla-ok"),
    (view("running", 3 * 1440 + 100), "剩余 3 天", "sla-ok"),
    (view("running", 0.2), "剩余 1 分钟", "sla-ok"),
    (view("overdue", -1440), "已超时 1 天", "sla-overdue"),
    (view("overdue", -125, working=True), "已超时 2 个工作小时", "sla-overdue"),
    (view("overdue", -450, working=True), "已超时 1 个工作日", "sla-overdue"),
    (view("paused", 2 * 1440), "已暂停（剩余 2 天）", "sla-paused"),
    (view("paused", -30), "已暂停（已超时 30 分钟）", "sla-paused"),
    (view("met", None), "按时完成", "sla-done"),
    (view("missed", None), "超时完成", "sla-done"),
])
def test_time_left_text_and_class(clock, text, css):
    assert time_left_text(clock) == text
    assert css_class(clock) == css


def test_a_working_day_follows_the_calendars_day():
    assert time_left_text(view("running", 480, working=True), day_minutes=480) == "剩余 1 个工作日"
    assert time_left_text(view("running", 479, working=True), day_minutes=480) == "剩余 7 个工作小时"
    assert time_left_text(None) == "无时限"


# ---- the queue and the ticket page ----

def test_queue_shows_the_current_clock_and_sorts_by_time_left(client, seeded, make_ticket, clock):
    general = make_ticket("3号楼走廊灯坏了")  # 一般事项: answer within 1 working day
    urgent = make_ticket("楼道里闻到煤气味", priority=Priority.URGENT)  # 紧急事项: answer within 2 hours
    done = make_ticket("已经办好的路灯")
    admin = Principal.from_user(seeded.admin)
    pipeline.act(admin, done, "accept")
    pipeline.act(admin, done, "resolve", note="已修好")
    login(client, "staff")

    body = page(client.get("/?view=all&sort=newest"))
    assert '<th scope="col" class="c-clock">时限</th>' in body
    assert "剩余 2 小时" in body and "剩余 1 个工作日" in body and "按时完成" in body
    assert 'class="sla sla-ok"' in body
    assert numbers_in(body) == [done.number, urgent.number, general.number]  # newest first when asked

    body = page(client.get("/?sort=time_left"))
    assert numbers_in(body) == [urgent.number, general.number, done.number]  # no running clock: last
    assert '<option value="time_left" selected>按剩余时间</option>' in body
    assert [t.number for t in db.session.scalars(select(Ticket).order_by(
        Ticket.sla_deadline_at.is_(None), Ticket.sla_deadline_at))] == numbers_in(body)

    clock.advance(hours=3)
    body = page(client.get("/?sort=time_left"))
    assert "已超时 1 小时" in body and 'class="sla sla-overdue"' in body

    clock.advance(days=3)  # the working-day clock is late too: a list says how late in calendar time
    body = page(client.get("/?sort=time_left"))
    assert len(re.findall(r"已超时 ", body)) == 2 and not re.search(r"已超时 \d+ 个工作", body)


def test_queue_sort_keeps_other_filters_and_refuses_an_unknown_sort(client, seeded, make_ticket):
    make_ticket("3号楼走廊灯坏了")
    login(client, "staff")
    body = page(client.get("/?sort=time_left&q=走廊"))
    assert "3号楼走廊灯坏了" in body and "剩余 1 个工作日" in body
    assert re.search(r'href="/\?[^"]*sort=time_left[^"]*" data-view="[a-z]+"\s+class="tab', body)  # tabs keep the order
    response = client.get("/?sort=bogus")
    assert response.status_code == 200 and "「排序」的取值无效（bogus）" in page(response)


def test_ticket_page_shows_both_clocks(client, seeded, make_ticket):
    ticket = make_ticket("3号楼走廊灯坏了")  # 一般事项: 1 working day to answer, 7 days to resolve
    login(client, "staff")
    body = page(client.get(f"/tickets/{ticket.number}"))
    response = re.search(r'data-clock="response">(.*?)</div>', body, re.S).group(1)
    resolution = re.search(r'data-clock="resolution">(.*?)</div>', body, re.S).group(1)
    assert "响应时限" in response and "2026-11-23 10:00" in response and "剩余 1 个工作日" in response
    assert "办结时限" in resolution and "2026-11-27 10:00" in resolution and "剩余 7 天" in resolution
    assert "时限无法计算" not in body


def test_paused_and_answered_clocks_read_so(client, seeded, make_ticket, clock):
    ticket = make_ticket("3号楼走廊灯坏了")
    admin = Principal.from_user(seeded.admin)
    pipeline.act(admin, ticket, "accept")
    clock.advance(hours=1)
    pipeline.act(admin, fetch(ticket.number), "wait_for_resident", note="请居民补充照片")
    login(client, "staff")
    body = page(client.get(f"/tickets/{ticket.number}"))
    assert "按时完成" in body  # the response clock stopped at 受理
    assert "已暂停（剩余 6 天）" in body and 'class="sla sla-paused"' in body


def test_a_ticket_whose_clock_cannot_be_counted_shows_a_warning(client, seeded, make_ticket):
    ticket = make_ticket("3号楼走廊灯坏了")
    ticket.sla_error = "2027 年的节假日安排尚未录入，无法计算 2027-01-04 是否为工作日"
    db.session.commit()
    login(client, "staff")
    body = page(client.get(f"/tickets/{ticket.number}"))
    assert "data-sla-error" in body and "时限无法计算" in body and "2027 年的节假日安排尚未录入" in body
    assert 'data-clock="response"' not in body
    assert "无法计时" in page(client.get("/"))
    login(client, "admin")
    body = page(client.get("/sla/policies"))
    section = body.split("时限无法计算的工单", 1)[1]
    assert f'href="/tickets/{ticket.number}"' in section and "2027 年的节假日安排尚未录入" in section


def test_without_any_policy_the_ticket_says_why(client, org, make_ticket):
    ticket = make_ticket("3号楼走廊灯坏了")
    login(client, "staff")
    body = page(client.get(f"/tickets/{ticket.number}"))
    assert "没有适用的时限规则" in body and "请联系区管理员" in body


# ---- who may use the admin pages ----

@pytest.mark.parametrize("username", ["street", "director", "staff", "dept", "volunteer"])
def test_admin_pages_are_for_district_admins_only(client, seeded, username):
    login(client, username)
    for url in ("/sla/policies", "/sla/calendar"):
        assert client.get(url).status_code == 403
    token = csrf_from(client, "/")
    response = client.post("/sla/policies", data={"csrf_token": token, **policy_form()})
    assert response.status_code == 403 and "只有区管理员" in page(response)
    response = client.post("/sla/calendar/years", data={"csrf_token": token, "year": "2030"})
    assert response.status_code == 403
    assert policy_named("楼道照明") is None and db.session.get(CalendarYear, 2030) is None
    body = page(client.get("/"))
    assert "/sla/policies" not in body and "/sla/calendar" not in body


def test_admin_pages_need_a_login_and_admins_see_the_links(client, seeded):
    assert "/login" in client.get("/sla/policies").headers["Location"]
    login(client, "admin")
    body = page(client.get("/"))
    assert 'href="/sla/policies">时限规则</a>' in body and 'href="/sla/calendar">工作日历</a>' in body


def test_post_without_csrf_token_is_refused(client, seeded):
    login(client, "admin")
    assert client.post("/sla/policies", data=policy_form()).status_code == 400
    assert policy_named("楼道照明") is None


# ---- policies ----

def test_admin_sees_the_policies(client, seeded):
    login(client, "admin")
    body = page(client.get("/sla/policies"))
    assert EDIT_NOTICE in body
    row = re.search(r'<tr data-policy="\d+">\s*<td>紧急事项</td>(.*?)</tr>', body, re.S).group(1)
    assert "全部" in row and "紧急" in row and "2 小时" in row and "24 小时" in row and "75%" in row
    assert "承办人 → 社区书记/主任 → 街道督办" in row and "25%" in row
    row = re.search(r'<tr data-policy="\d+">\s*<td>政策咨询</td>(.*?)</tr>', body, re.S).group(1)
    assert "1 个工作日" in row and "3 个工作日" in row


def test_admin_adds_a_policy(client, seeded, make_ticket):
    login(client, "admin")
    body = page(post(client, "/sla/policies", policy_form()))
    assert "已添加时限规则「楼道照明」" in body
    policy = policy_named("楼道照明")
    assert policy.category.code == "lighting" and policy.priority is None
    assert str(policy.response_limit) == "3 个工作小时" and str(policy.resolution_limit) == "3 个工作日"
    assert policy.warn_percent == 80 and policy.chain == ("assignee", "director")
    assert policy.escalation_step_percent == 50 and policy.created_by == "admin"
    assert "3 个工作小时" in body and "承办人 → 社区书记/主任" in body
    assert make_ticket("3号楼走廊灯坏了").sla_policy_id == policy.id  # category beats 一般事项


def test_edit_makes_a_new_row_and_open_tickets_keep_the_old_one(client, seeded, make_ticket):
    before = make_ticket("3号楼走廊灯坏了")
    old = policy_named("一般事项")
    assert before.sla_policy_id == old.id
    login(client, "admin")
    body = page(post(client, f"/sla/policies/{old.id}", policy_form(
        name="一般事项", category="", resolution_amount="5", resolution_unit="days")))
    assert "已修改时限规则「一般事项」" in body and EDIT_NOTICE in body
    db.session.expire_all()
    new = policy_named("一般事项")
    old = db.session.get(SlaPolicy, old.id)
    assert new.id != old.id and not old.active and old.replaced_by_id == new.id
    assert str(new.resolution_limit) == "5 天" and new.category is None
    assert fetch(before.number).sla_policy_id == old.id
    after = make_ticket("5号楼走廊灯坏了")
    assert after.sla_policy_id == new.id
    assert fetch(before.number).resolution_due_at != after.resolution_due_at
    # the old row's form is gone: a second edit of it is refused without a 500
    body = page(post(client, f"/sla/policies/{old.id}", policy_form(name="一般事项", category="")))
    assert "找不到有效的时限规则" in body


def test_invalid_policy_input_is_shown_not_a_500(client, seeded):
    login(client, "admin")
    response = post(client, "/sla/policies", policy_form(response_amount="0"), follow=False)
    body = page(response)
    assert response.status_code == 400
    assert "时限规则填写有误" in body and "响应时限：应为 1 到 1000 之间的整数" in body
    assert 'value="楼道照明"' in body  # what was typed stays
    assert policy_named("楼道照明") is None

    response = post(client, "/sla/policies", policy_form(response_amount="三", warn_percent="100",
                                                         escalation_chain=[]), follow=False)
    assert response.status_code == 400 and "响应时限：请填写整数" in page(response)

    old = policy_named("一般事项")
    response = post(client, f"/sla/policies/{old.id}", policy_form(name="一般事项", resolution_amount="0"),
                    follow=False)
    assert response.status_code == 400 and "办结时限：应为 1 到 1000 之间的整数" in page(response)
    response = post(client, f"/sla/policies/{old.id}", policy_form(name="一般事项", warn_percent="100"),
                    follow=False)
    assert response.status_code == 400 and "预警点应在 1% 到 99% 之间" in page(response)
    db.session.expire_all()
    assert db.session.get(SlaPolicy, old.id).active


def test_retire_a_policy(client, seeded, make_ticket):
    urgent = make_ticket("煤气泄漏", priority=Priority.URGENT)
    policy = policy_named("紧急事项")
    login(client, "admin")
    body = page(post(client, f"/sla/policies/{policy.id}/retire", {}))
    assert "已停用时限规则「紧急事项」" in body
    db.session.expire_all()
    assert not db.session.get(SlaPolicy, policy.id).active
    assert fetch(urgent.number).sla_policy_id == policy.id
    later = make_ticket("3号楼走廊灯坏了", priority=Priority.URGENT)
    assert later.sla_policy_id == policy_named("一般事项").id
    assert "找不到有效的时限规则" in page(post(client, f"/sla/policies/{policy.id}/retire", {}))


# ---- the working calendar ----

@pytest.fixture
def forgotten(monkeypatch):
    """How many times the pages told the calendars to forget."""
    calls = []
    real = calendars.forget_calendars
    monkeypatch.setattr(calendars, "forget_calendars", lambda: calls.append(1) or real())
    return calls


def test_calendar_page_shows_office_hours_and_package_years(client, seeded):
    login(client, "admin")
    body = page(client.get("/sla/calendar"))
    first, last = calendars.package_years()
    assert "08:30-12:00,13:30-17:30" in body and "SLA_OFFICE_HOURS" not in body and "chinese_calendar" not in body
    assert f"国务院公布的节假日安排（系统内置至 {last} 年）" in body
    assert "盐城路社区" in body and "香港花园社区" in body


def test_community_office_hours(client, seeded, make_ticket, forgotten):
    login(client, "admin")
    url = "/sla/calendar/communities/yanchenglu/office-hours"
    response = post(client, url, {"office_hours": "25:00-26:00"}, follow=False)
    body = page(response)
    assert response.status_code == 400
    assert "盐城路社区的办公时间有误" in body and "「25:00-26:00」不是有效的时段" in body
    assert 'value="25:00-26:00"' in body and not forgotten
    response = post(client, url, {"office_hours": "12:00-09:00"}, follow=False)
    assert response.status_code == 400 and "结束时间应晚于开始时间" in page(response)

    body = page(post(client, url, {"office_hours": "09:00-12:00， 14:00-17:00"}))
    assert "已更新盐城路社区的办公时间：09:00-12:00,14:00-17:00" in body and forgotten
    assert db.session.scalar(select(Community.office_hours).where(Community.code == "yanchenglu")) \
        == "09:00-12:00,14:00-17:00"
    assert calendars.calendar_for(seeded.c1).day_minutes == 360
    assert calendars.calendar_for(seeded.c2).day_minutes == 450

    body = page(post(client, url, {"office_hours": ""}))
    assert "已更新盐城路社区的办公时间：按全区统一时间" in body
    db.session.expire_all()
    assert db.session.get(Community, seeded.c1.id).office_hours is None


def test_holiday_table_add_and_delete(client, seeded, forgotten):
    login(client, "admin")
    body = page(post(client, "/sla/calendar/days", {"day": "2026-11-23", "community": "yanchenglu",
                                                     "workday": "0", "name": "社区搬迁闭馆"}))
    assert "已添加 2026-11-23（盐城路社区，休息）：社区搬迁闭馆" in body
    row = db.session.scalar(select(CalendarDay))
    assert row.day == date(2026, 11, 23) and row.community.code == "yanchenglu" and not row.workday
    assert re.search(r'<tr data-day="2026-11-23">.*?盐城路社区.*?<td>闭馆休息</td>.*?社区搬迁闭馆', body, re.S)
    assert len(forgotten) == 1
    assert not calendars.calendar_for(seeded.c1).is_workday(date(2026, 11, 23))
    assert calendars.calendar_for(seeded.c2).is_workday(date(2026, 11, 23))

    response = post(client, "/sla/calendar/days", {"day": "2026-11-23", "community": "yanchenglu",
                                                   "workday": "1", "name": "重复"}, follow=False)
    assert response.status_code == 400 and "已有设置" in page(response)
    body = page(post(client, "/sla/calendar/days", {"day": "2026-11-28", "community": "", "workday": "1",
                                                    "name": "调休上班"}))
    assert "已添加 2026-11-28（全区，上班）：调休上班" in body
    response = post(client, "/sla/calendar/days", {"day": "2026-11-28", "community": "", "workday": "1",
                                                   "name": "又一次"}, follow=False)
    assert response.status_code == 400 and "2026-11-28（全区）已有设置" in page(response)
    response = post(client, "/sla/calendar/days", {"day": "11/28", "workday": "1", "name": "x"}, follow=False)
    assert response.status_code == 400 and "请填写日期" in page(response)

    body = page(post(client, f"/sla/calendar/days/{row.id}/delete", {}))
    assert "已删除 2026-11-23 社区搬迁闭馆" in body and len(forgotten) == 3
    assert db.session.scalar(select(CalendarDay.day)) == date(2026, 11, 28)


def test_years_entered_by_hand(client, seeded, forgotten):
    first, last = calendars.package_years()
    later = last + 1
    login(client, "admin")
    body = page(post(client, "/sla/calendar/years", {"year": str(later), "note": "依据国务院办公厅通知录入"}))
    assert f"已确认 {later} 年的安排录完" in body and forgotten
    assert re.search(r'data-year-entered>.*?依据国务院办公厅通知录入', body, re.S)
    assert db.session.get(CalendarYear, later).note == "依据国务院办公厅通知录入"
    response = post(client, "/sla/calendar/years", {"year": str(later)}, follow=False)
    assert response.status_code == 400 and "已经录入过" in page(response)
    response = post(client, "/sla/calendar/years", {"year": str(last)}, follow=False)
    assert response.status_code == 400 and "系统已内置" in page(response)
    response = post(client, "/sla/calendar/years", {"year": "明年"}, follow=False)
    assert response.status_code == 400 and "请填写 2000 到 2100 之间的年份" in page(response)
    body = page(post(client, f"/sla/calendar/years/{later}/delete", {}))
    assert f"已撤销「{later} 年已录完」的确认" in body and "data-year-missing" in body
    assert db.session.get(CalendarYear, later) is None
