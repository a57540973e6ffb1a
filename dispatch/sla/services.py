"""A ticket's two clocks kept up to date through its life: opened, answered, paused, extended, reopened, done."""
from dataclasses import dataclass

from sqlalchemy import select

from dispatch.cache import TtlCache
from dispatch.extensions import db
from dispatch.rows import snapshot
from dispatch.sla import clock
from dispatch.sla.calendar import CalendarUnknown
from dispatch.sla.calendars import calendar_for
from dispatch.sla.models import SlaPolicy, SlaSchedule
from dispatch.sla.policies import choose
from dispatch.tickets.consequences import step
from dispatch.tickets.lifecycle import ACTIONS, OPEN_STATUSES
from dispatch.tickets.store import Beside, beside
from dispatch.tickets.models import Ticket
from dispatch.timeutil import as_utc

CLOCKS = ("response", "resolution")
CLOCK_LABELS = {"response": "响应", "resolution": "办结"}


@dataclass(frozen=True)
class ClockView:
    """One clock as the console and the API show it."""

    name: str
    label: str
    due_at: object
    state: str  # running, warning, overdue, paused, met, missed
    minutes_left: float | None
    working: bool


_policies_by_id = TtlCache("REFERENCE_CACHE_SECONDS")


def policy_of(ticket):
    """The policy a ticket was opened under; policy rows never change their limits, so a snapshot is kept."""
    if not ticket.sla_policy_id:
        return None

    def load():
        found = db.session.get(SlaPolicy, ticket.sla_policy_id)
        return snapshot(found) if found is not None else None
    return _policies_by_id.get(ticket.sla_policy_id, load)


def _limit(policy, name):
    return policy.response_limit if name == "response" else policy.resolution_limit


def opening(community, category_id, priority, now, policy=None):
    """(the SLA columns of a ticket opened now, its first point); a calendar that cannot answer leaves an error."""
    policy = policy or choose(category_id, priority)
    if policy is None:
        return {"sla_error": "没有适用的时限规则，请管理员在「时限规则」中添加默认规则"}, None
    columns = {"sla_policy_id": policy.id}
    try:
        calendar = calendar_for(community)
        for name in CLOCKS:
            points = clock.start(calendar, _limit(policy, name), now, policy.warn_percent)
            columns[f"{name}_warn_at"], columns[f"{name}_due_at"] = points.warn_at, points.due_at
    except CalendarUnknown as exc:
        return {"sla_policy_id": policy.id, "sla_error": str(exc)[:200]}, None
    columns["sla_deadline_at"] = columns["response_due_at"]
    return columns, min(columns["response_warn_at"], columns["resolution_warn_at"])


def schedule_of(ticket):
    """The ticket's sweep schedule; made on the spot for a ticket opened without one (not by the store)."""
    if ticket.id is None:
        db.session.flush()
    schedule = db.session.get(SlaSchedule, ticket.id)
    if schedule is None:
        schedule = SlaSchedule(ticket_id=ticket.id, response_stage=0, resolution_stage=0)
        db.session.add(schedule)
    return schedule


def final_stage(policy):
    """How many points a clock has: warning, deadline, then one per further member of the chain."""
    return 1 + max(1, len(policy.chain))


def running(ticket, name):
    """Whether a clock counts now (not answered/done, not paused, not in error)."""
    if ticket.sla_paused_at is not None or ticket.sla_error or ticket.sla_policy_id is None:
        return False
    if ticket.status not in OPEN_STATUSES:
        return False
    return ticket.responded_at is None if name == "response" else True


def points(ticket, name):
    return clock.Points(getattr(ticket, f"{name}_warn_at"), getattr(ticket, f"{name}_due_at"))


def next_point(ticket, schedule, name, policy, calendar):
    """When the clock's next unfired point falls, or None when it has none left or does not run."""
    stage = getattr(schedule, f"{name}_stage")
    if not running(ticket, name) or stage >= final_stage(policy) or getattr(ticket, f"{name}_due_at") is None:
        return None
    limit = _limit(policy, name)
    # Only escalations need the step; the sweep asks for warnings and deadlines far more often.
    step = clock.escalation_step(calendar, limit, policy.escalation_step_percent) if stage > 1 else None
    return clock.point_at(calendar, limit.unit.working, points(ticket, name), step, stage)


def reschedule(ticket, schedule, policy=None, calendar=None):
    """Set the schedule's next_at (the sweep's key) and sla_deadline_at (the queue's sort key) from the clocks."""
    policy = policy or policy_of(ticket)
    if policy is None or ticket.sla_error:
        schedule.next_at = ticket.sla_deadline_at = None
        return
    calendar = calendar or calendar_for(ticket.community)
    upcoming = [p for p in (next_point(ticket, schedule, n, policy, calendar) for n in CLOCKS) if p is not None]
    schedule.next_at = min(upcoming) if upcoming else None
    deadline = next((n for n in CLOCKS if running(ticket, n)), None)
    ticket.sla_deadline_at = getattr(ticket, f"{deadline}_due_at") if deadline else None


def _restart_resolution(ticket, schedule, policy, calendar, now):
    started = clock.start(calendar, policy.resolution_limit, now, policy.warn_percent)
    ticket.resolution_warn_at, ticket.resolution_due_at = started.warn_at, started.due_at
    schedule.resolution_stage = 0


def _pause(ticket, now):
    ticket.sla_paused_at = now
    return {"sla": "paused"}


def _resume(ticket, policy, calendar, now):
    """Move every point still ahead by the paused time (in each clock's measure) and record the pause."""
    paused_at = ticket.sla_paused_at
    ticket.sla_paused_at = None
    if paused_at is None:
        return {}
    for name in CLOCKS:
        if getattr(ticket, f"{name}_due_at") is None:
            continue
        working = _limit(policy, name).unit.working
        moved = clock.resume(calendar, working, points(ticket, name), paused_at, now)
        setattr(ticket, f"{name}_warn_at", moved.warn_at)
        setattr(ticket, f"{name}_due_at", moved.due_at)
    seconds = int((as_utc(now) - as_utc(paused_at)).total_seconds())
    ticket.sla_paused_seconds = (ticket.sla_paused_seconds or 0) + seconds
    return {"sla": "resumed", "paused_seconds": seconds,
            "resolution_due_at": as_utc(ticket.resolution_due_at).isoformat()}


def extension_minutes(policy, calendar, days):
    """An extension of N days in the resolution clock's measure: working days for a working clock."""
    unit = clock.Unit.WORKING_DAYS if policy.resolution_limit.unit.working else clock.Unit.DAYS
    return clock.Limit(days, unit).minutes(calendar)


def _extend(ticket, schedule, policy, calendar, now, days):
    if not days or ticket.resolution_due_at is None:
        return {}
    before = ticket.resolution_due_at
    moved = clock.extend(calendar, policy.resolution_limit.unit.working, points(ticket, "resolution"),
                         extension_minutes(policy, calendar, days), now, policy.warn_percent)
    ticket.resolution_warn_at, ticket.resolution_due_at = moved.warn_at, moved.due_at
    schedule.resolution_stage = 1 if as_utc(moved.warn_at) <= as_utc(now) else 0
    return {"sla": "extended", "extension_days": days, "resolution_due_before": as_utc(before).isoformat(),
            "resolution_due_at": as_utc(moved.due_at).isoformat()}


def _clocked(change, adjust):
    """Run a change to the clocks where they can be counted; a calendar that cannot answer stops them, noted."""
    ticket = change.ticket
    policy = policy_of(ticket)
    if policy is None or ticket.sla_error:
        return {}
    schedule = schedule_of(ticket)
    try:
        return adjust(ticket, schedule, policy, calendar_for(ticket.community)) or {}
    except CalendarUnknown as exc:
        ticket.sla_error = str(exc)[:200]
        schedule.next_at = ticket.sla_deadline_at = None
        return {"sla": "calendar_unknown"}


@step("sla.clock", "clock")
def keep_in_step(change, _):
    """After every state change: an answer stops the response clock; the sweep's next point is set again."""
    ticket = change.ticket
    if ACTIONS[change.command.action].answers and ticket.responded_at is None:
        ticket.responded_at = change.now
    return _clocked(change, lambda ticket, schedule, policy, calendar: reschedule(ticket, schedule, policy, calendar))


@step("sla.pause", "clock")
def pause(change, _):
    """Waiting for the resident: the clocks stand still."""
    return _clocked(change, lambda ticket, *_: _pause(ticket, change.now))


@step("sla.resume", "clock")
def resume(change, _):
    """The resident answered: the clocks go on, every point moved by the pause."""
    return _clocked(change, lambda ticket, schedule, policy, calendar: _resume(ticket, policy, calendar, change.now))


@step("sla.extend", "clock")
def extend(change, _):
    """An extension granted: the resolution deadline moves by its days."""
    days = change.data.get("extension_days")
    return _clocked(change, lambda ticket, schedule, policy, calendar: _extend(
        ticket, schedule, policy, calendar, change.now, days))


@step("sla.restart", "clock")
def restart(change, _):
    """A reopened ticket: the resolution clock starts again."""
    def adjust(ticket, schedule, policy, calendar):
        _restart_resolution(ticket, schedule, policy, calendar, change.now)
        return {"sla": "restarted", "resolution_due_at": as_utc(ticket.resolution_due_at).isoformat()}
    return _clocked(change, adjust)


@beside
def clocks_of_new_ticket(community, category_id, priority, now):
    """A new ticket's clocks (its columns) and its row in the sweep's schedule."""
    columns, first_point = opening(community, category_id, priority, now)
    return Beside(columns, ((SlaSchedule.__table__, {"next_at": first_point}),))


def recount_errors(limit=1000):
    """After holidays or a year were entered: give clocks to open tickets the calendar could not count.

    Clocks start again from the ticket's opening; the sweep then fires the points already passed.
    Returns (counted, still failing).
    """
    tickets = db.session.scalars(select(Ticket).where(Ticket.sla_error.is_not(None),
                                                      Ticket.status.in_(OPEN_STATUSES)).limit(limit)).all()
    counted = 0
    for ticket in tickets:
        columns, first_point = opening(ticket.community, ticket.category_id, ticket.priority, ticket.created_at,
                                       policy=policy_of(ticket))
        for name, value in {"sla_error": None, **columns}.items():
            setattr(ticket, name, value)
        schedule = schedule_of(ticket)
        schedule.response_stage = schedule.resolution_stage = 0
        schedule.next_at = first_point
        counted += ticket.sla_error is None
    db.session.commit()
    return counted, len(tickets) - counted


def views(ticket, now):
    """Both clocks as shown to people: due time, state and minutes left in the clock's own measure."""
    policy = policy_of(ticket)
    if policy is None or ticket.sla_error:
        return []
    try:
        calendar = calendar_for(ticket.community)
        return [_view(ticket, name, policy, calendar, now) for name in CLOCKS]
    except CalendarUnknown:
        return []


def _view(ticket, name, policy, calendar, now):
    due = getattr(ticket, f"{name}_due_at")
    working = _limit(policy, name).unit.working
    label = CLOCK_LABELS[name]
    finished = _finished_at(ticket, name)
    if finished is not None:
        met = due is not None and as_utc(finished) <= as_utc(due)
        return ClockView(name, label, due, "met" if met else "missed", None, working)
    at = ticket.sla_paused_at or now
    left = clock.remaining(calendar, working, due, at)
    if ticket.sla_paused_at is not None:
        state = "paused"
    elif left < 0:
        state = "overdue"
    elif as_utc(now) >= as_utc(getattr(ticket, f"{name}_warn_at")):
        state = "warning"
    else:
        state = "running"
    return ClockView(name, label, due, state, left, working)


def _finished_at(ticket, name):
    """When a clock stopped for good: answered (response), or the ticket left the open states."""
    ended = None if ticket.status in OPEN_STATUSES else (ticket.resolved_at or ticket.closed_at or ticket.updated_at)
    if name == "response":
        return ticket.responded_at or ended
    return ended


def current_view(ticket, now):
    """The clock that matters now (response until answered, then resolution), for lists."""
    shown = views(ticket, now)
    for view in shown:
        if view.state in ("running", "warning", "overdue", "paused"):
            return view
    return shown[-1] if shown else None
