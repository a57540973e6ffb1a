"""The pure clock: hand-worked deadlines across 2026's National Day and 调休 days, and properties (hypothesis)."""
from datetime import date, datetime, time, timedelta, timezone

import chinese_calendar
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dispatch.sla import clock
from dispatch.sla.calendar import (CalendarUnknown, WorkingCalendar, add_working, is_open, parse_office_hours,
                                   working_minutes_between)
from dispatch.sla.calendars import workday_rule
from dispatch.localtime import SHANGHAI

pytestmark = pytest.mark.pure

CHINA = WorkingCalendar(is_workday=workday_rule({}, frozenset(), None))


def sh(text):
    """A Shanghai wall-clock time, e.g. sh('2026-09-30 16:00')."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def as_sh(instant):
    return instant.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


# Worked by hand with office hours 08:30–12:00 and 13:30–17:30 (450 minutes a day). 2026: Mid-Autumn
# 9/25 (Fri) to 9/27 off; National Day 10/1–10/7 off; Sunday 9/20 and Saturday 10/10 are working days (调休).
HAND_WORKED = [
    # start, minutes, due: Wednesday afternoon before the holiday, 2 working hours → Thursday 10/8 after it
    ("2026-09-30 16:00", 120, "2026-10-08 09:00"),
    # Friday 17:00 + 1 working day: the make-up Sunday 9/20 counts as a working day
    ("2026-09-18 17:00", 450, "2026-09-20 17:00"),
    # 3 working days from Thursday 9/24 10:00 across the Mid-Autumn holiday and its weekend
    ("2026-09-24 10:00", 1350, "2026-09-30 10:00"),
    # reported on a holiday: the clock starts at the first opening after it
    ("2026-10-03 09:00", 480, "2026-10-09 09:00"),
    # Friday 10/9 15:00 + 2 working days: the make-up Saturday 10/10 works, Sunday 10/11 rests
    ("2026-10-09 15:00", 900, "2026-10-12 15:00"),
    # lunch break: 11:30 + 60 minutes → 30 before noon, 30 after 13:30
    ("2026-10-12 11:30", 60, "2026-10-12 14:00"),
    # exactly filling the morning ends at noon, not at 13:30
    ("2026-10-12 08:30", 210, "2026-10-12 12:00"),
]


@pytest.mark.parametrize("start,minutes,due", HAND_WORKED)
def test_hand_worked_deadlines(start, minutes, due):
    assert as_sh(add_working(CHINA, sh(start), minutes)) == due
    assert working_minutes_between(CHINA, sh(start), sh(due)) == minutes


def test_the_package_agrees_with_the_hand_worked_calendar():
    assert chinese_calendar.is_workday(date(2026, 9, 20)) and chinese_calendar.is_workday(date(2026, 10, 10))
    assert not any(chinese_calendar.is_workday(date(2026, 10, d)) for d in range(1, 8))


def test_measuring_across_the_national_day_week():
    # 9/30 all day and 10/8 all day; nothing in between
    assert working_minutes_between(CHINA, sh("2026-09-30 08:30"), sh("2026-10-08 17:30")) == 900


def test_limits_in_each_unit():
    start = sh("2026-09-30 16:00")
    assert as_sh(clock.start(CHINA, clock.Limit(2, clock.Unit.HOURS), start, 75).due_at) == "2026-09-30 18:00"
    assert as_sh(clock.start(CHINA, clock.Limit(7, clock.Unit.DAYS), start, 75).due_at) == "2026-10-07 16:00"
    points = clock.start(CHINA, clock.Limit(2, clock.Unit.WORKING_DAYS), start, 75)
    assert as_sh(points.due_at) == "2026-10-09 16:00"  # 90 on 9/30, 450 on 10/8, 360 on 10/9
    assert as_sh(points.warn_at) == "2026-10-09 10:45"  # 675 of 900: 90 + 450 + 135


def test_a_pause_over_the_holiday_moves_the_deadline_by_the_working_time_left():
    points = clock.start(CHINA, clock.Limit(8, clock.Unit.WORKING_HOURS), sh("2026-09-29 08:30"), 75)
    assert as_sh(points.due_at) == "2026-09-30 09:00"  # 450 on 9/29, 30 on 9/30
    moved = clock.resume(CHINA, True, points, sh("2026-09-29 16:00"), sh("2026-10-08 08:00"))
    assert as_sh(moved.due_at) == "2026-10-08 10:30"  # 120 working minutes were left at the pause


def test_an_extension_moves_the_deadline_and_the_warning():
    points = clock.start(CHINA, clock.Limit(1, clock.Unit.WORKING_DAYS), sh("2026-09-30 08:30"), 75)
    moved = clock.extend(CHINA, True, points, 450, sh("2026-09-30 16:00"), 75)
    assert as_sh(moved.due_at) == "2026-10-08 17:30"
    assert sh("2026-09-30 16:00") < moved.warn_at < moved.due_at


def test_escalation_points_follow_the_deadline_in_the_clocks_measure():
    points = clock.start(CHINA, clock.Limit(8, clock.Unit.WORKING_HOURS), sh("2026-09-30 08:30"), 75)
    step = clock.escalation_step(CHINA, clock.Limit(8, clock.Unit.WORKING_HOURS), 25)
    assert step == 120
    assert as_sh(clock.point_at(CHINA, True, points, step, 1)) == "2026-10-08 09:00"
    assert as_sh(clock.point_at(CHINA, True, points, step, 2)) == "2026-10-08 11:00"


def test_remaining_is_negative_when_overdue():
    due = sh("2026-09-30 17:30")
    assert clock.remaining(CHINA, True, due, sh("2026-09-30 16:30")) == 60
    assert clock.remaining(CHINA, True, due, sh("2026-10-08 09:30")) == -60


def test_a_year_nobody_entered_is_an_explicit_error():
    with pytest.raises(CalendarUnknown, match="2027 年的节假日安排尚未录入"):
        add_working(CHINA, sh("2026-12-31 17:00"), 450)


def test_a_year_entered_by_hand_counts_weekdays_and_its_listed_holidays():
    rule = workday_rule({(date(2027, 1, 1), None): False}, frozenset({2027}), None)
    calendar = WorkingCalendar(is_workday=rule)
    assert as_sh(add_working(calendar, sh("2026-12-31 17:00"), 450)) == "2027-01-04 17:00"


def test_a_community_closure_overrides_the_district_calendar():
    rule = workday_rule({(date(2026, 10, 12), 7): False}, frozenset(), 7)
    assert not rule(date(2026, 10, 12))
    assert workday_rule({(date(2026, 10, 12), 7): False}, frozenset(), 8)(date(2026, 10, 12))


@pytest.mark.parametrize("text,error", [("25:00-26:00", "不是有效的时段"), ("12:00-08:00", "晚于开始"),
                                        ("08:00-12:00,11:00-13:00", "重叠"), ("", "至少需要")])
def test_office_hours_are_validated(text, error):
    with pytest.raises(ValueError, match=error):
        parse_office_hours(text)


# --- properties -------------------------------------------------------------------------------------------

instants = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 10, 31),
                        timezones=st.just(timezone.utc))
minutes = st.integers(min_value=1, max_value=15 * 450)
office_hours = st.sampled_from(["08:30-12:00,13:30-17:30", "09:00-17:00", "08:00-11:30,14:00-18:00,19:00-21:00"])


def calendar_with(hours):
    return WorkingCalendar(is_workday=CHINA.is_workday, periods=parse_office_hours(hours))


@settings(max_examples=300, deadline=None)
@given(instants, minutes, office_hours)
def test_adding_then_measuring_gives_the_same_amount(start, amount, hours):
    calendar = calendar_with(hours)
    assert working_minutes_between(calendar, start, add_working(calendar, start, amount)) == pytest.approx(amount)


@settings(max_examples=300, deadline=None)
@given(instants, minutes, office_hours)
def test_due_times_never_fall_inside_a_closed_period(start, amount, hours):
    calendar = calendar_with(hours)
    assert is_open(calendar, add_working(calendar, start, amount))


@settings(max_examples=300, deadline=None)
@given(instants, st.integers(1, 120), st.integers(0, 20 * 24 * 60), st.integers(0, 30 * 24 * 60), st.booleans())
def test_a_pause_never_shortens_a_deadline(start, amount, pause_after, pause_for, working):
    points = clock.start(CHINA, clock.Limit(amount, clock.Unit.WORKING_HOURS if working else clock.Unit.HOURS),
                         start, 75)
    paused_at = start + timedelta(minutes=pause_after)
    resumed_at = paused_at + timedelta(minutes=pause_for)
    assume(resumed_at < datetime(2026, 11, 10, tzinfo=timezone.utc))
    moved = clock.resume(CHINA, working, points, paused_at, resumed_at)
    assert moved.due_at >= points.due_at and moved.warn_at >= points.warn_at
    if working and points.due_at > paused_at:
        # the working time that was left at the pause is exactly what is left after it
        left_before = working_minutes_between(CHINA, paused_at, points.due_at)
        assert working_minutes_between(CHINA, resumed_at, moved.due_at) == pytest.approx(left_before)


@settings(max_examples=200, deadline=None)
@given(instants, minutes, minutes)
def test_adding_is_monotonic_and_additive(start, first, second):
    middle = add_working(CHINA, start, first)
    assert add_working(CHINA, middle, second) == add_working(CHINA, start, first + second)


@given(st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31)), st.sampled_from([time(8, 0), time(12, 30)]))
def test_is_open_matches_the_intervals(day, at):
    instant = datetime.combine(day, at, SHANGHAI)
    assert not is_open(CHINA, instant)  # before opening, and in the lunch break
