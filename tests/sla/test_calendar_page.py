"""The working calendar as a month grid, office hours one row at a time, and the banner for next year's holidays."""
import re
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.sla import calendars
from dispatch.sla.models import CalendarDay, CalendarYear
from tests.conftest import csrf_from, login

BANNER = "明年（2027年）的放假和调休安排还没有录入，节假日期间的时限会算错。"


def page(response):
    return response.get_data(as_text=True)


def cell(body, day):
    """The grid cell of a day: its classes and its link's attributes."""
    found = re.search(rf'<td class="([^"]*)">\s*<a [^>]*data-day="{day}"[^>]*>', body)
    return found.group(1), found.group(0)


def set_day(client, **form):
    return client.post("/sla/calendar/day", data={"csrf_token": csrf_from(client, "/"), **form})


@pytest.fixture
def admin(client, org):
    login(client, "admin")
    return client


def test_the_grid_marks_holidays_and_make_up_working_days(admin):
    body = page(admin.get("/sla/calendar?year=2026"))
    classes, link = cell(body, "2026-10-10")  # a Saturday worked for National Day
    assert "d-workday" in classes and "own" not in classes and 'data-name="国庆节调休上班"' in link
    classes, link = cell(body, "2026-10-01")
    assert "d-holiday" in classes and 'data-name="国庆节"' in link
    assert "d-weekend" in cell(body, "2026-11-21")[0] and "d-plain" in cell(body, "2026-11-23")[0]
    assert body.count("<h3>") >= 12 and "国务院公布的节假日安排（系统内置至 2026 年）" in body
    assert "chinese_calendar" not in body and "SLA_OFFICE_HOURS" not in body


def test_a_click_sets_a_day_off_or_a_worked_weekend_and_can_undo_it(admin):
    response = set_day(admin, day="2027-02-06", kind="workday", name="春节调休上班")
    assert response.status_code == 302 and "year=2027" in response.location
    body = page(admin.get(response.location))
    assert "2027-02-06（周六）设为上班（调休）：春节调休上班" in body
    classes, link = cell(body, "2027-02-06")
    assert "d-workday" in classes and "own" in classes and 'data-name="春节调休上班"' in link
    set_day(admin, day="2027-02-06", kind="holiday", name="春节")
    row = db.session.scalar(select(CalendarDay))
    assert (row.day, row.workday, row.name, row.community_id) == (date(2027, 2, 6), False, "春节", None)
    body = page(admin.get("/sla/calendar?year=2027"))
    assert "d-holiday" in cell(body, "2027-02-06")[0]
    set_day(admin, day="2027-02-06", kind="normal")
    assert db.session.scalar(select(CalendarDay)) is None
    assert "d-weekend" in cell(page(admin.get("/sla/calendar?year=2027")), "2027-02-06")[0]


@pytest.mark.parametrize("form, message", [
    ({"kind": "holiday", "name": "春节"}, "请先在日历上点选一天"),
    ({"day": "2027-02-06", "kind": "maybe", "name": "春节"}, "请选择这一天放假、上班还是恢复平常"),
    ({"day": "2027-02-06", "kind": "holiday", "name": " "}, "请填写名称"),
    ({"day": "2027-02-08", "kind": "normal"}, "2027-02-08 没有本区自己的设置"),
])
def test_a_day_set_wrongly_is_a_400_in_words(admin, form, message):
    response = set_day(admin, **form)
    assert response.status_code == 400 and message in page(response)
    assert db.session.scalar(select(CalendarDay)) is None


def test_office_hours_are_a_searchable_table_edited_one_row_at_a_time(admin):
    body = page(admin.get("/sla/calendar"))
    assert 'id="community-filter"' in body and 'name="office_hours"' not in body
    assert 'href="/sla/calendar?year=2026&amp;edit=yanchenglu#c-yanchenglu">修改</a>' in body
    body = page(admin.get("/sla/calendar?edit=yanchenglu"))
    assert body.count('name="office_hours"') == 1 and 'id="hours-yanchenglu"' in body


def test_from_november_the_admin_is_told_next_years_holidays_are_missing_until_one_is_entered(admin, client, clock):
    clock.at = datetime(2026, 10, 31, 15, 59, tzinfo=timezone.utc)  # 23:59 on 31 October in Shanghai
    assert BANNER not in page(admin.get("/"))
    clock.at = datetime(2026, 11, 2, 1, 0, tzinfo=timezone.utc)
    for url in ("/", "/sla/policies", "/notify/", "/monitor/district"):
        assert BANNER in page(admin.get(url)), url
    assert 'href="/sla/calendar?year=2027">去录入</a>' in page(admin.get("/"))
    set_day(admin, day="2027-02-06", kind="workday", name="春节调休上班")  # a worked day is not the holidays
    assert BANNER in page(admin.get("/"))
    set_day(admin, day="2027-01-01", kind="holiday", name="元旦")
    assert BANNER not in page(admin.get("/"))


def test_the_banner_is_the_admins_alone_and_a_year_declared_complete_counts(client, org, clock):
    clock.at = datetime(2026, 12, 2, 1, 0, tzinfo=timezone.utc)
    login(client, "director")
    assert BANNER not in page(client.get("/"))
    client.post("/logout", data={"csrf_token": csrf_from(client, "/")})
    login(client, "admin")
    assert BANNER in page(client.get("/"))
    assert not calendars.year_entered(2027) and calendars.year_entered(2026)
    db.session.add(CalendarYear(year=2027))
    db.session.commit()
    assert calendars.year_entered(2027) and BANNER not in page(client.get("/"))
