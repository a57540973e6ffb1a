"""Editing the working calendar: office hours, the holiday table and the years entered by hand, checked and saved.

Each edit commits, makes this process forget its calendars and gives clocks to the open tickets that could
not be counted before; it returns how many now are.
"""
from datetime import date

from sqlalchemy import select

from dispatch.errors import Invalid, NotFound
from dispatch.extensions import db
from dispatch.org.models import Community
from dispatch.sla import calendars
from dispatch.sla.calendar import format_office_hours, parse_office_hours
from dispatch.sla.models import CalendarDay, CalendarYear
from dispatch.sla.services import recount_errors


class HoursRefused(Invalid):
    """Office hours refused, with the text to show again (tidied when it could be read)."""

    def __init__(self, message, text):
        super().__init__(message)
        self.text = text


def _saved():
    """Commit an edit; this process forgets its calendars and open tickets without clocks are counted again."""
    db.session.commit()
    calendars.forget_calendars()
    counted, _ = recount_errors()
    return counted


def _community(code):
    """The community with this code, or None."""
    return db.session.scalar(select(Community).where(Community.code == code))


def _office_hours(community, text):
    """Office hours as stored (tidied), None for the district's; HoursRefused naming the community otherwise."""
    if not text:
        return None
    try:
        text = format_office_hours(parse_office_hours(text))
    except ValueError as exc:
        raise HoursRefused(f"{community.name}的办公时间有误：{exc}", text) from None
    if len(text) > 64:
        raise HoursRefused(f"{community.name}的办公时间过长（不超过 64 个字符）", text)
    return text


def set_office_hours(code, text):
    """A community's own office hours, blank for the district's; returns the community and the tickets counted."""
    community = _community(code)
    if community is None:
        raise NotFound("找不到该社区")
    community.office_hours = _office_hours(community, text.strip())
    return community, _saved()


def _day_place(code):
    """The community a holiday row is for: None for the whole district; Invalid when unknown."""
    if not code:
        return None
    community = _community(code)
    if community is None:
        raise Invalid(f"未知的社区「{code}」")
    return community


def _day_row(form):
    """The holiday form, checked: a date, whole district or one community, workday or not, a name."""
    try:
        day = date.fromisoformat((form.get("day") or "").strip())
    except ValueError:
        raise Invalid("请填写日期，格式如 2027-01-01") from None
    community = _day_place((form.get("community") or "").strip())
    if form.get("workday") not in ("1", "0"):
        raise Invalid("请选择这一天是否上班")
    name = (form.get("name") or "").strip()
    if not name or len(name) > 64:
        raise Invalid("请填写名称（不超过 64 字），例如「元旦」或「春节调休上班」")
    same_place = CalendarDay.community_id == community.id if community else CalendarDay.community_id.is_(None)
    if db.session.scalar(select(CalendarDay.id).where(CalendarDay.day == day, same_place)) is not None:
        where = community.name if community else "全区"
        raise Invalid(f"{day:%Y-%m-%d}（{where}）已有设置，如需修改请先删除原有记录")
    return CalendarDay(day=day, community=community, workday=form.get("workday") == "1", name=name)


def add_day(form):
    """A holiday, a 调休 working day, or a local closure of one community; returns the row and the tickets counted."""
    row = _day_row(form)
    db.session.add(row)
    return row, _saved()


def _delete(model, key, missing):
    """Delete one calendar row (NotFound with missing when it is gone); returns the row and the tickets counted."""
    row = db.session.get(model, key)
    if row is None:
        raise NotFound(missing)
    db.session.delete(row)
    return row, _saved()


def delete_day(day_id):
    """Remove one row of the holiday table; returns the row removed and the tickets counted."""
    return _delete(CalendarDay, day_id, "该记录已不存在")


def _year_refused(text, note):
    """Why a year cannot be entered by hand, or None."""
    first, last = calendars.package_years()
    if not text.isdigit() or not 2000 <= int(text) <= 2100:
        return "请填写 2000 到 2100 之间的年份"
    if first <= int(text) <= last:
        return f"{text} 年的节假日安排已由 chinese_calendar 提供，无需手工录入"
    if db.session.get(CalendarYear, int(text)) is not None:
        return f"{text} 年已经录入过"
    if len(note) > 200:
        return "备注不超过 200 字"
    return None


def add_year(text, note):
    """A year chinese_calendar does not know, its holidays all in the table; returns the row and the tickets counted."""
    text, note = text.strip(), note.strip()
    error = _year_refused(text, note)
    if error:
        raise Invalid(error)
    row = CalendarYear(year=int(text), note=note or None)
    db.session.add(row)
    return row, _saved()


def delete_year(year):
    """Take back a year entered by mistake (its dates become unknown again); returns the row and the tickets counted."""
    return _delete(CalendarYear, year, "该年份未录入")
