"""Editing the working calendar: office hours, the holiday table and the years entered by hand, checked and saved.

Each edit commits, makes this process forget its calendars and gives clocks to the open tickets that could
not be counted before; it returns how many now are.
"""
import calendar as months
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
    day = _date(form, "请填写日期，格式如 2027-01-01")
    community = _day_place((form.get("community") or "").strip())
    if form.get("workday") not in ("1", "0"):
        raise Invalid("请选择这一天是否上班")
    name = _name(form)
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
        return f"{text} 年的节假日安排系统已内置（国务院公布的安排），无需手工录入"
    if db.session.get(CalendarYear, int(text)) is not None:
        return f"{text} 年已经录入过"
    if len(note) > 200:
        return "备注不超过 200 字"
    return None


def add_year(text, note):
    """A year the system does not carry, its holidays all in the table; returns the row and the tickets counted."""
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


# ---- the month grid: one click sets a day ----

KINDS = {"holiday": "放假", "workday": "上班（调休）", "normal": "恢复平常"}
WEEKDAYS = "一二三四五六日"


def _name(form):
    name = (form.get("name") or "").strip()
    if not name or len(name) > 64:
        raise Invalid("请填写名称（不超过 64 字），例如「元旦」或「春节调休上班」")
    return name


def _date(form, missing):
    """The form's day, refused with `missing` when it is not a date and outside 2000–2100."""
    try:
        day = date.fromisoformat((form.get("day") or "").strip())
    except ValueError:
        raise Invalid(missing) from None
    if not 2000 <= day.year <= 2100:
        raise Invalid("只能设置 2000 到 2100 年的日子")
    return day


def set_day(form):
    """A day of the whole district made 放假, 上班 (调休) or back to normal; returns (what was done, tickets counted)."""
    day, kind = _date(form, "请先在日历上点选一天"), form.get("kind")
    if kind not in KINDS:
        raise Invalid("请选择这一天放假、上班还是恢复平常")
    row = db.session.scalar(select(CalendarDay).where(CalendarDay.day == day, CalendarDay.community_id.is_(None)))
    if kind == "normal":
        if row is None:
            raise Invalid(f"{day:%Y-%m-%d} 没有本区自己的设置，已是国家安排或平常的工作日/周末")
        db.session.delete(row)
        return f"{day:%Y-%m-%d} 已恢复平常（按国家安排）", _saved()
    name = _name(form)
    if row is None:
        row = CalendarDay(day=day, community=None)
        db.session.add(row)
    row.workday, row.name = kind == "workday", name
    return f"{day:%Y-%m-%d}（周{WEEKDAYS[day.weekday()]}）设为{KINDS[kind]}：{name}", _saved()


def _mark(day, package, rows):
    """One cell: the day, its kind (holiday / workday / weekend / plain), its name, whether it is the district's own."""
    own = rows.get(day)
    workday, name = (own.workday, own.name) if own else package.get(day, (None, ""))
    if workday is None:
        kind = "weekend" if day.weekday() >= 5 else "plain"
    else:
        kind = "workday" if workday else "holiday"
    return {"day": day, "kind": kind, "name": name, "own": own is not None}


def year_grid(year):
    """Twelve months of weeks of cells (None outside the month), with the year's holidays and 调休 days marked."""
    package = calendars.package_days(year)
    rows = {row.day: row for row in db.session.scalars(select(CalendarDay).where(
        CalendarDay.community_id.is_(None), CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31)))}
    weeks = months.Calendar(firstweekday=0)
    return [(month, [[_mark(day, package, rows) if day.month == month else None for day in week]
                     for week in weeks.monthdatescalendar(year, month)]) for month in range(1, 13)]
