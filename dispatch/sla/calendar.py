"""The working calendar as pure functions: office hours on working days, Asia/Shanghai, no database.

Instants are aware datetimes (stored as UTC); days and office hours are local. Shanghai has no daylight
saving, so a local day is always 24 hours. Which dates are working days comes from a function the caller
passes in (chinese_calendar plus the holiday table, see sla/calendars.py); it raises CalendarUnknown for a
date nobody can answer for, and that error travels up to the admin instead of being guessed.
"""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Callable

from dispatch.localtime import SHANGHAI, as_utc

DEFAULT_OFFICE_HOURS = ((time(8, 30), time(12, 0)), (time(13, 30), time(17, 30)))
MAX_DAYS = 3 * 366  # no clock runs longer; a calendar without working days must not loop forever


class CalendarUnknown(Exception):
    """A date the calendar cannot tell to be a working day or not (a year nobody has entered yet)."""

    def __init__(self, day, reason=None):
        self.day = day
        super().__init__(reason or f"{day.year} 年的节假日安排尚未录入，无法计算 {day:%Y-%m-%d} 是否为工作日")


def parse_office_hours(text):
    """'08:30-12:00,13:30-17:30' → ((08:30, 12:00), (13:30, 17:30)); ValueError with a reason otherwise."""
    periods = []
    for part in (text or "").replace("，", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            start, end = (time.fromisoformat(x.strip()) for x in part.replace("–", "-").split("-"))
        except ValueError:
            raise ValueError(f"「{part}」不是有效的时段，应写成 08:30-12:00") from None
        if start >= end:
            raise ValueError(f"时段「{part}」的结束时间应晚于开始时间")
        if periods and start < periods[-1][1]:
            raise ValueError(f"时段「{part}」与前一个时段重叠或顺序颠倒")
        periods.append((start, end))
    if not periods:
        raise ValueError("至少需要一个办公时段，例如 08:30-12:00,13:30-17:30")
    return tuple(periods)


def format_office_hours(periods):
    """The inverse of parse_office_hours."""
    return ",".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in periods)


@dataclass(frozen=True)
class WorkingCalendar:
    """Office hours on the days is_workday accepts."""

    is_workday: Callable[[date], bool]
    periods: tuple = DEFAULT_OFFICE_HOURS

    @property
    def day_minutes(self):
        """Working minutes in one full working day (what '1 working day' means)."""
        return sum((b.hour * 60 + b.minute) - (a.hour * 60 + a.minute) for a, b in self.periods)

    def intervals(self, day):
        """The open intervals of one local date, as aware instants; none on a closed day."""
        if not self.is_workday(day):
            return ()
        return tuple((datetime.combine(day, a, SHANGHAI), datetime.combine(day, b, SHANGHAI))
                     for a, b in self.periods)


def _local_day(instant):
    return as_utc(instant).astimezone(SHANGHAI).date()


def _days_from(day):
    for offset in range(MAX_DAYS):
        yield day + timedelta(days=offset)
    raise CalendarUnknown(day, f"{day:%Y-%m-%d} 之后 {MAX_DAYS} 天内没有工作日，请检查节假日设置")


def add_working(calendar, start, minutes):
    """The instant when `minutes` working minutes have passed since start (never inside a closed period)."""
    if minutes <= 0:
        return as_utc(start)
    remaining = timedelta(minutes=minutes)
    start = as_utc(start)
    for day in _days_from(_local_day(start)):
        for opens, closes in calendar.intervals(day):
            if closes <= start:
                continue
            begin = max(opens, start)
            if remaining <= closes - begin:
                return as_utc(begin + remaining)
            remaining -= closes - begin


def _overlap(calendar, day, start, end):
    """Working time of one day between start and end."""
    total = timedelta()
    for opens, closes in calendar.intervals(day):
        overlap = min(closes, end) - max(opens, start)
        if overlap > timedelta():
            total += overlap
    return total


def working_minutes_between(calendar, start, end):
    """Working minutes from start to end (0 when end is not after start); fractions kept."""
    start, end = as_utc(start), as_utc(end)
    if end <= start:
        return 0.0
    first, last = _local_day(start), _local_day(end)
    if first == last:
        return _overlap(calendar, first, start, end).total_seconds() / 60
    # Whole days in between count a full day each: no instants to build (a year overdue stays cheap).
    middle = sum(1 for offset in range(1, (last - first).days) if calendar.is_workday(first + timedelta(days=offset)))
    edges = _overlap(calendar, first, start, end) + _overlap(calendar, last, start, end)
    return edges.total_seconds() / 60 + middle * calendar.day_minutes


def is_open(calendar, instant):
    """True when the instant lies within office hours of a working day (boundaries included)."""
    instant = as_utc(instant)
    return any(opens <= instant <= closes for opens, closes in calendar.intervals(_local_day(instant)))


def next_working_day_opens(calendar, instant):
    """When the first working day after the instant's local date opens (a resident's once-a-day limit)."""
    for day in _days_from(_local_day(instant) + timedelta(days=1)):
        opening = calendar.intervals(day)
        if opening:
            return as_utc(opening[0][0])
