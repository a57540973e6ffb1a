"""How a clock reads on screen: the time left in words, in the clock's own measure, and a colour class.

Pure functions of a ClockView (sla/services.py). The words always say what the colour says, so the
colour is never the only signal: 剩余 / 已超时 / 已暂停 / 按时完成 / 超时完成.
"""
import math

from dispatch.localtime import as_utc

DAY_MINUTES = 450  # one working day of the default office hours (08:30-12:00, 13:30-17:30)

CSS_CLASSES = {"running": "sla-ok", "warning": "sla-warning", "overdue": "sla-overdue", "paused": "sla-paused",
               "met": "sla-done", "missed": "sla-done"}


def amount_text(minutes, working, day_minutes=DAY_MINUTES):
    """A span of minutes in words: 40 分钟, 5 小时, 3 天, or 3 个工作小时, 2 个工作日 for a working clock.

    Minutes round up (never 0 分钟 while a clock still counts); hours and days round down, so the
    time left is never overstated.
    """
    whole = max(1, math.ceil(abs(minutes) - 1e-9))
    if whole < 60:
        return f"{whole} 分钟"
    if working:
        day = day_minutes or DAY_MINUTES
        if whole < day:
            return f"{whole // 60} 个工作小时"
        return f"{whole // day} 个工作日"
    if whole < 1440:
        return f"{whole // 60} 小时"
    return f"{whole // 1440} 天"


def _left_or_late(view, day_minutes):
    text = amount_text(view.minutes_left, view.working, day_minutes)
    return f"已超时 {text}" if view.minutes_left < 0 else f"剩余 {text}"


def late_text(due_at, now):
    """已超时 3 天: how long past a deadline in calendar time (how long the resident has waited past the promise),
    as every list of tickets says it (queue, desks, monitor); the ticket page keeps the clock's own measure."""
    return f"已超时 {amount_text((as_utc(now) - as_utc(due_at)).total_seconds() / 60, working=False)}"


def time_left_text(view, day_minutes=DAY_MINUTES):
    """剩余 3 个工作小时, 已超时 1 天, 已暂停（剩余 2 天）, 按时完成, 超时完成; 无时限 without a clock."""
    if view is None:
        return "无时限"
    if view.state == "met":
        return "按时完成"
    if view.state == "missed":
        return "超时完成"
    if view.minutes_left is None:
        return "无时限"
    if view.state == "paused":
        return f"已暂停（{_left_or_late(view, day_minutes)}）"
    return _left_or_late(view, day_minutes)


def css_class(view):
    """sla-ok, sla-warning, sla-overdue, sla-paused or sla-done (a clock that has stopped)."""
    if view is None:
        return "sla-done"
    return CSS_CLASSES.get(view.state, "sla-done")
