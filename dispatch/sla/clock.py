"""The SLA clock as pure functions of `now`: limits, warning and due points, escalation steps, pauses.

A clock counts either calendar time or working time (sla/calendar.py). Its points in order are:
stage 0 → the warning point, 1 → the deadline (breach, told to the first of the escalation chain),
2.. → one escalation step after another up the chain. `stage` is how many points have fired.
"""
import enum
from dataclasses import dataclass
from datetime import timedelta

from dispatch.sla.calendar import add_working, working_minutes_between
from dispatch.localtime import as_utc


class Unit(str, enum.Enum):
    """How a limit is counted."""

    HOURS = "hours"
    DAYS = "days"
    WORKING_HOURS = "working_hours"
    WORKING_DAYS = "working_days"

    @property
    def working(self):
        return self in (Unit.WORKING_HOURS, Unit.WORKING_DAYS)

    @property
    def label(self):
        return UNIT_LABELS[self]


UNIT_LABELS = {Unit.HOURS: "小时", Unit.DAYS: "天", Unit.WORKING_HOURS: "个工作小时", Unit.WORKING_DAYS: "个工作日"}


@dataclass(frozen=True)
class Limit:
    """A time limit such as 2 hours or 15 working days."""

    amount: int
    unit: Unit

    def minutes(self, calendar):
        """The limit in minutes of its own measure (a working day is the calendar's day of office hours)."""
        per = {Unit.HOURS: 60, Unit.DAYS: 1440, Unit.WORKING_HOURS: 60, Unit.WORKING_DAYS: calendar.day_minutes}
        return self.amount * per[self.unit]

    def __str__(self):
        return f"{self.amount} {self.unit.label}"


def add(calendar, working, start, minutes):
    """start + minutes, in working or calendar time."""
    if working:
        return add_working(calendar, start, minutes)
    return as_utc(start) + timedelta(minutes=minutes)


def between(calendar, working, start, end):
    """Minutes from start to end in working or calendar time (0 when end is not later)."""
    if working:
        return working_minutes_between(calendar, start, end)
    return max(0.0, (as_utc(end) - as_utc(start)).total_seconds() / 60)


@dataclass(frozen=True)
class Points:
    """Where a running clock's warning and deadline fall."""

    warn_at: object
    due_at: object


def start(calendar, limit, at, warn_percent):
    """The points of a clock started at `at` with this limit; the warning at warn_percent of it."""
    budget = limit.minutes(calendar)
    working = limit.unit.working
    return Points(warn_at=add(calendar, working, at, budget * warn_percent / 100),
                  due_at=add(calendar, working, at, budget))


def escalation_step(calendar, limit, step_percent):
    """Minutes between one escalation and the next (a share of the limit, at least 30 minutes)."""
    return max(30.0, limit.minutes(calendar) * step_percent / 100)


def point_at(calendar, working, points, step_minutes, stage):
    """When point number `stage` falls: 0 warning, 1 deadline, 1+k the k-th escalation (only those read the step)."""
    if stage == 0:
        return points.warn_at
    if stage == 1:
        return points.due_at
    return add(calendar, working, points.due_at, (stage - 1) * step_minutes)


def shift_for_pause(calendar, working, point, paused_at, resumed_at):
    """A point after a pause: the time it still had at the pause is counted again from the resumption."""
    point, paused_at = as_utc(point), as_utc(paused_at)
    if point <= paused_at:
        return point  # already reached before the pause: history does not move
    return add(calendar, working, resumed_at, between(calendar, working, paused_at, point))


def resume(calendar, working, points, paused_at, resumed_at):
    """Both points of a clock after a pause from paused_at to resumed_at; neither ever moves earlier."""
    return Points(warn_at=shift_for_pause(calendar, working, points.warn_at, paused_at, resumed_at),
                  due_at=shift_for_pause(calendar, working, points.due_at, paused_at, resumed_at))


def extend(calendar, working, points, minutes, now, warn_percent):
    """An approved extension: the deadline moves by `minutes`; the warning falls at warn_percent of what is left."""
    due_at = add(calendar, working, points.due_at, minutes)
    left = between(calendar, working, now, due_at)
    return Points(warn_at=add(calendar, working, now, left * warn_percent / 100) if left else due_at, due_at=due_at)


def remaining(calendar, working, due_at, now):
    """Minutes left until the deadline (negative when overdue), in the clock's own measure."""
    if as_utc(now) <= as_utc(due_at):
        return between(calendar, working, now, due_at)
    return -between(calendar, working, due_at, now)
