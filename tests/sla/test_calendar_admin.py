"""The services behind the SLA admin pages: the calendar's edits and the policy form, on the real database."""
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from dispatch.errors import Invalid, NotFound
from dispatch.extensions import db
from dispatch.org.models import Community
from dispatch.sla import calendar_admin, calendars, policies
from dispatch.sla.models import CalendarDay, CalendarYear
from dispatch.tickets.models import Priority, Ticket


def refusal(call, *args, kind=Invalid):
    """The message a service refuses with."""
    with pytest.raises(kind) as caught:
        call(*args)
    return caught.value.message


def day_form(**changes):
    return MultiDict({"day": "2026-12-24", "community": "yanchenglu", "workday": "0", "name": "社区活动闭馆"} | changes)


def test_office_hours_are_tidied_refused_with_the_text_to_show_or_put_back(org):
    community, counted = calendar_admin.set_office_hours("yanchenglu", " 09:00-12:00， 14:00-17:00 ")
    assert community.office_hours == "09:00-12:00,14:00-17:00" and counted == 0
    with pytest.raises(calendar_admin.HoursRefused) as caught:
        calendar_admin.set_office_hours("yanchenglu", " 25:00-26:00 ")
    assert caught.value.message == "盐城路社区的办公时间有误：「25:00-26:00」不是有效的时段，应写成 08:30-12:00"
    assert caught.value.text == "25:00-26:00" and caught.value.status == 422
    six = ",".join(f"{h:02d}-{h + 1:02d}" for h in range(8, 20, 2))  # six periods: short typed, 71 characters tidied
    with pytest.raises(calendar_admin.HoursRefused) as caught:
        calendar_admin.set_office_hours("yanchenglu", six)
    assert caught.value.message == "盐城路社区的办公时间过长（不超过 64 个字符）"
    assert caught.value.text.startswith("08:00-09:00,10:00-11:00") and len(caught.value.text) == 71
    assert refusal(calendar_admin.set_office_hours, "nowhere", "", kind=NotFound) == "找不到该社区"
    db.session.expire_all()
    assert db.session.get(Community, org.c1.id).office_hours == "09:00-12:00,14:00-17:00"
    community, _ = calendar_admin.set_office_hours("yanchenglu", "  ")
    assert community.office_hours is None


def test_holiday_rows_are_checked_added_and_deleted(org, monkeypatch):
    forgotten = []
    monkeypatch.setattr(calendars, "forget_calendars", lambda: forgotten.append(1))
    row, counted = calendar_admin.add_day(day_form())
    assert (row.day, row.community.code, row.workday, row.name, counted) == (
        date(2026, 12, 24), "yanchenglu", False, "社区活动闭馆", 0)
    assert forgotten == [1]
    assert refusal(calendar_admin.add_day, day_form(day="12/24")) == "请填写日期，格式如 2027-01-01"
    assert refusal(calendar_admin.add_day, day_form(community="nowhere")) == "未知的社区「nowhere」"
    assert refusal(calendar_admin.add_day, day_form(workday="")) == "请选择这一天是否上班"
    for name in ("  ", "名" * 65):
        assert refusal(calendar_admin.add_day, day_form(name=name)) == \
            "请填写名称（不超过 64 字），例如「元旦」或「春节调休上班」"
    assert refusal(calendar_admin.add_day, day_form(name="重复")) == \
        "2026-12-24（盐城路社区）已有设置，如需修改请先删除原有记录"
    district, _ = calendar_admin.add_day(day_form(community="", workday="1", name="补班"))
    assert district.community is None and district.workday
    assert refusal(calendar_admin.add_day, day_form(community="", name="又一次")) == \
        "2026-12-24（全区）已有设置，如需修改请先删除原有记录"

    gone, _ = calendar_admin.delete_day(row.id)
    assert (gone.day, gone.name) == (date(2026, 12, 24), "社区活动闭馆") and len(forgotten) == 3
    assert refusal(calendar_admin.delete_day, row.id, kind=NotFound) == "该记录已不存在"
    assert db.session.scalars(select(CalendarDay.name)).all() == ["补班"]


def test_years_are_checked_and_entering_one_gives_waiting_tickets_their_clocks(org, make_ticket, clock):
    policies.seed_defaults()
    first, last = calendars.package_years()
    later = last + 1
    clock.at = datetime(later, 1, 4, 2, 0, tzinfo=timezone.utc)  # a Monday, 10:00 in Shanghai
    ticket = make_ticket()
    assert ticket.sla_error
    assert refusal(calendar_admin.add_year, "明年", "") == "请填写 2000 到 2100 之间的年份"
    assert refusal(calendar_admin.add_year, "2101", "") == "请填写 2000 到 2100 之间的年份"
    assert refusal(calendar_admin.add_year, str(last), "") == \
        f"{last} 年的节假日安排系统已内置（国务院公布的安排），无需手工录入"
    assert refusal(calendar_admin.add_year, str(later), "注" * 201) == "备注不超过 200 字"
    row, counted = calendar_admin.add_year(f" {later} ", " 依据国务院办公厅通知录入 ")
    assert (row.year, row.note, counted) == (later, "依据国务院办公厅通知录入", 1)
    assert db.session.get(Ticket, ticket.id).sla_error is None
    assert refusal(calendar_admin.add_year, str(later), "") == f"{later} 年已经录入过"

    gone, counted = calendar_admin.delete_year(later)
    assert (gone.year, counted) == (later, 0)
    assert db.session.get(CalendarYear, later) is None
    assert refusal(calendar_admin.delete_year, later, kind=NotFound) == "该年份未录入"


def policy_form(**changes):
    form = {"name": "楼道照明", "category": "lighting", "priority": "urgent", "response_amount": "3",
            "response_unit": "working_hours", "resolution_amount": "3", "resolution_unit": "working_days",
            "warn_percent": "80", "escalation_chain": ["assignee", "director"], "escalation_step_percent": "50"}
    return MultiDict(form | changes)  # a list is the field's several values


def test_the_policy_form_is_read_or_refused_field_by_field(org):
    data = policies.read_form(policy_form(name=" 楼道照明 "))
    assert (data.name, data.category.code, data.priority, data.response_amount, data.escalation_chain) == (
        "楼道照明", "lighting", Priority.URGENT, 3, ("assignee", "director"))
    assert policies.read_form(policy_form(category="", priority="")).category is None
    with pytest.raises(Invalid) as caught:
        policies.read_form(policy_form(name="名" * 65, category="nope", priority="soon", response_amount="三",
                                       resolution_unit="weeks", warn_percent="100"))
    assert caught.value.message == "时限规则填写有误"
    assert caught.value.fields == {
        "name": ["不超过 64 字"], "category": ["未知的分类「nope」"], "priority": ["请从列表中选择"],
        "response_amount": ["请填写整数"], "resolution_unit": ["请从列表中选择"],
        "warn_percent": ["预警点应在 1% 到 99% 之间"]}
    assert list(caught.value.fields) == [name for name in policies.FORM_FIELDS if name in caught.value.fields]
