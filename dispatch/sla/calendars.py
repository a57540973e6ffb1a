"""The working calendar of a community, from chinese_calendar, the holiday table and the years entered by hand."""
import functools
from datetime import date

import chinese_calendar
from flask import current_app
from sqlalchemy import select

from dispatch.cache import TtlCache
from dispatch.extensions import db
from dispatch.sla.calendar import (DEFAULT_OFFICE_HOURS, CalendarUnknown, WorkingCalendar,
                                   format_office_hours, parse_office_hours)
from dispatch.sla.models import CalendarDay, CalendarYear

_calendars = TtlCache("REFERENCE_CACHE_SECONDS")


def _known_by_package(day):
    """chinese_calendar's answer for a date, or None for a year it has no data for."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return None


def package_years():
    """The first and last year chinese_calendar knows."""
    known = chinese_calendar.holidays.keys()
    return min(known).year, max(known).year


def workday_rule(overrides, entered_years, community_id):
    """is_workday for one community: its own days, the district's, chinese_calendar, then the years entered."""

    @functools.lru_cache(maxsize=4096)
    def is_workday(day):
        for key in ((day, community_id), (day, None)):
            if key in overrides:
                return overrides[key]
        known = _known_by_package(day)
        if known is not None:
            return known
        if day.year in entered_years:
            return day.weekday() < 5  # the year's holidays and 调休 days are all in the table
        raise CalendarUnknown(day)
    return is_workday


def default_office_hours():
    """The district's office hours (SLA_OFFICE_HOURS), parsed."""
    text = current_app.config.get("SLA_OFFICE_HOURS")
    return parse_office_hours(text) if text else DEFAULT_OFFICE_HOURS


def _load_calendar(community_id, office_hours):
    overrides = {(row.day, row.community_id): row.workday for row in db.session.scalars(
        select(CalendarDay).where((CalendarDay.community_id.is_(None)) | (CalendarDay.community_id == community_id)))}
    years = frozenset(db.session.scalars(select(CalendarYear.year)))
    periods = parse_office_hours(office_hours) if office_hours else default_office_hours()
    return WorkingCalendar(is_workday=workday_rule(overrides, years, community_id), periods=periods)


def calendar_for(community):
    """The working calendar of a community (cached per process for REFERENCE_CACHE_SECONDS)."""
    key = (community.id, community.office_hours)
    return _calendars.get(key, lambda: _load_calendar(community.id, community.office_hours))


def forget_calendars():
    """After an edit of holidays or office hours: this process sees it at once, others within the TTL."""
    _calendars.forget()


def office_hours_text(community):
    """The community's office hours as shown to people."""
    return community.office_hours or format_office_hours(default_office_hours())


# ---- what the calendar page shows ----

HOLIDAY_NAMES = {"New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节",
                 "Labour Day": "劳动节", "Dragon Boat Festival": "端午节", "National Day": "国庆节",
                 "Mid-autumn Festival": "中秋节", "Anti-Fascist 70th Day": "抗战胜利纪念日"}


def package_days(year):
    """{day: (workday, name)} of the national arrangement the system carries for a year: holidays and 调休 workdays."""
    days = {day: (False, HOLIDAY_NAMES.get(name, name)) for day, name in chinese_calendar.holidays.items()
            if day.year == year and name}
    days |= {day: (True, HOLIDAY_NAMES.get(name, name) + "调休上班")
             for day, name in chinese_calendar.workdays.items() if day.year == year and name}
    return days


def year_entered(year):
    """Whether a year's holidays are known: carried by the system, declared complete, or one holiday recorded."""
    first, last = package_years()
    if first <= year <= last or db.session.get(CalendarYear, year) is not None:
        return True
    holiday = select(CalendarDay.id).where(CalendarDay.community_id.is_(None), CalendarDay.workday.is_(False),
                                           CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
    return db.session.scalar(holiday.limit(1)) is not None
