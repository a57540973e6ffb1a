"""Someone is always on duty (值班): the roster, who is on call now, urgent tickets outside office hours put to
them at once (WeChat, SMS and a call-back task), escalated up the chain while nobody signs, and what the
resident is told. The rules that need no database (danger words, how a person is named) are plain functions."""
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, or_, select

from dispatch.errors import Invalid
from dispatch.extensions import db
from dispatch.intake import replies
from dispatch.notify.outbox import publish
from dispatch.notify.rules import News
from dispatch.org.models import User
from dispatch.org.principal import SYSTEM
from dispatch.org.roles import Role
from dispatch.sla.calendar import CalendarUnknown, is_open
from dispatch.sla.calendars import calendar_for
from dispatch.teams.models import DutyAlert, DutyShift
from dispatch.tickets import pipeline
from dispatch.tickets.consequences import step
from dispatch.tickets.lifecycle import Status
from dispatch.tickets.models import Priority, Ticket
from dispatch.tickets.news import facts
from dispatch.tickets.pipeline import Command
from dispatch.tickets.tasks import open_task
from dispatch.timeutil import local

WITHIN = timedelta(days=1)  # older NEW tickets are the director's to look at in the morning

TITLED = ("主任", "书记", "社工", "督办", "师傅", "阿姨", "老师")


def called(user):
    """How a resident hears of the person on call: 刘主任, 志愿者王师傅, 湛山街道督办."""
    name = user.display_name or user.username
    if any(word in name for word in TITLED):
        return name
    if user.role is Role.COMMUNITY_DIRECTOR:
        return f"{name[0]}主任" if len(name) in (2, 3) else f"{name}主任"
    return {Role.VOLUNTEER: "志愿者", Role.COMMUNITY_STAFF: "社工", Role.STREET_SUPERVISOR: "街道督办"}.get(
        user.role, "") + name


def when_word(at):
    """今晚 from 18:00 to 06:00, else 今天 (a weekend or holiday day)."""
    hour = local(at).hour
    return "今晚" if hour >= 18 or hour < 6 else "今天"


def escalate_minutes():
    """DUTY_ESCALATE_MINUTES: how long the person on call has to sign before it goes up the chain."""
    return max(1, int(current_app.config.get("DUTY_ESCALATE_MINUTES", 10)))


# --- who is on duty -----------------------------------------------------------------------------

def office_open(community, at):
    """Whether the community's office is open at an instant (its working calendar and office hours)."""
    calendar = calendar_for(community)
    try:
        return is_open(calendar, at)
    except CalendarUnknown:  # a year nobody entered: weekdays count as working days rather than stop the job
        here = local(at)
        return here.weekday() < 5 and any(a <= here.time() <= b for a, b in calendar.periods)


def shifts_covering(community, at):
    """The shifts covering an instant for a community: its own roster first, then its street's."""
    return db.session.scalars(select(DutyShift).join(User, User.id == DutyShift.user_id).where(
        DutyShift.starts_at <= at, DutyShift.ends_at > at, User.active,
        or_(DutyShift.community_id == community.id, DutyShift.street_id == community.street_id))
        .order_by(DutyShift.community_id.is_(None), DutyShift.starts_at, DutyShift.id)).all()


def chain(community, at):
    """Who is asked, in order: the people on duty now, then the community's directors, then the street's
    supervisors (each once)."""
    people = [shift.user for shift in shifts_covering(community, at)]
    people += db.session.scalars(select(User).where(User.active, or_(
        and_(User.role == Role.COMMUNITY_DIRECTOR, User.community_id == community.id),
        and_(User.role == Role.STREET_SUPERVISOR, User.street_id == community.street_id)))
        .order_by(User.role != Role.COMMUNITY_DIRECTOR, User.id)).all()
    return list({user.id: user for user in people}.values())


def on_call_ids(community, at):
    """The ids of the people on the roster now (auto-assignment may hand them work outside office hours)."""
    return {shift.user_id for shift in shifts_covering(community, at)}


def _asked(ticket):
    return set(db.session.scalars(select(DutyAlert.user_id).where(DutyAlert.ticket_id == ticket.id)))


def next_in_chain(ticket, at, roster_only=False):
    """The first person of the chain (of the roster alone, if told) not yet asked about this ticket, or None."""
    asked = _asked(ticket)
    people = ([shift.user for shift in shifts_covering(ticket.community, at)] if roster_only
              else chain(ticket.community, at))
    return next((user for user in people if user.id not in asked), None)


def after_hours_urgent(ticket, at):
    """An urgent ticket opened outside office hours, while the office is still closed: the duty chain's."""
    return (ticket.priority is Priority.URGENT and not office_open(ticket.community, ticket.created_at)
            and not office_open(ticket.community, at))


# --- the resident's reply -------------------------------------------------------------------------

@replies.duty_line
def who_will_call(ticket, at):
    """The lines the resident's first reply adds for an urgent ticket outside office hours."""
    if not after_hours_urgent(ticket, at):
        return []
    first = next(iter(chain(ticket.community, at)), None)
    return [f"{when_word(at)}值班的{called(first)}会尽快给您打电话，请保持电话畅通。"] if first else []


# --- the steps of the duty actions (consequences.TABLE) ----------------------------------------------

@step("duty.target", "task")
def target(change, _):
    """The person on call the ticket goes to: the one the job chose, checked against the chain now."""
    ticket = change.ticket
    people = chain(ticket.community, change.now)
    wanted = change.fields.get("on_call")
    if wanted is None:
        asked = _asked(ticket)
        user = next((u for u in people if u.id not in asked), None)
    else:
        user = next((u for u in people if u.id == wanted), None)
    if user is None:
        raise Invalid("现在没有可以接手的值班人员，请先在值班表里安排值班")
    ticket.assignee, ticket.department = user, None
    return {"on_call": user.username}  # not "assignee": the timeline would call them a volunteer


def _audience(user):
    return {Role.VOLUNTEER: "volunteer", Role.STREET_SUPERVISOR: "supervisor"}.get(user.role, "director")


@step("duty.alert", "news")
def alert(change, _):
    """Tell the person on call every way that reaches them: WeChat and, when urgent, SMS and a call-back task
    that goes up the chain unless they sign within DUTY_ESCALATE_MINUTES."""
    ticket, now, user = change.ticket, change.now, change.ticket.assignee
    urgent = ticket.priority is Priority.URGENT
    due = now + timedelta(minutes=escalate_minutes())
    for earlier in db.session.scalars(select(DutyAlert).where(DutyAlert.ticket_id == ticket.id,
                                                              DutyAlert.closed_at.is_(None))):
        earlier.closed_at, earlier.outcome = now, "escalated"
    task = open_task(ticket)
    if urgent:
        if task is not None:
            task.sign_due_at = due  # the duty job, not the take-back, acts when it runs out
        steps = len(_asked(ticket))
        db.session.add(DutyAlert(ticket_id=ticket.id, user_id=user.id, step=steps, alerted_at=now, escalate_at=due))
    community = ticket.community
    publish([News(kind=change.command.action, ticket_id=ticket.id, at=now, facts=facts(ticket, now, change.note),
                  messages=("duty_alert", "duty_sms") if urgent else ("duty_alert",), community_id=community.id,
                  street_id=community.street_id, to_user_ids=(user.id,), to_role=_audience(user), urgent=urgent)])


# --- the scheduler job ------------------------------------------------------------------------------

def _settled(change):
    from dispatch.teams.services import _settled as settled  # services imports this module
    return settled(change)


def send_to_chain(ticket, now, why="非办公时间的紧急工单", roster_only=False):
    """Accept (if new) and hand the ticket to the next person of the duty chain; the person, or None."""
    person = next_in_chain(ticket, now, roster_only)
    if person is None:
        return None
    accept = [Command(SYSTEM, ticket, "accept")] if ticket.status is Status.NEW else []
    note = f"{why}，交{when_word(now)}值班的{called(person)}"
    done = _settled(lambda: pipeline.execute(*accept, Command(SYSTEM, ticket, "duty_dispatch", note=note,
                                                              fields={"on_call": person.id}), now=now))
    return person if done else None


def dispatch_urgent(now):
    """Urgent tickets opened outside office hours, still new: to the person on call at once."""
    waiting = db.session.scalars(select(Ticket).where(
        Ticket.status == Status.NEW, Ticket.priority == Priority.URGENT, Ticket.created_at >= now - WITHIN)
        .order_by(Ticket.id)).all()
    return [ticket.number for ticket in waiting
            if after_hours_urgent(ticket, now) and send_to_chain(ticket, now) is not None]


def _close(alert_row, now, outcome):
    alert_row.closed_at, alert_row.outcome = now, outcome
    db.session.commit()


def escalate_unsigned(now):
    """Alerts whose time ran out: closed when signed for or over; else the ticket goes to the next in the chain."""
    due = db.session.scalars(select(DutyAlert).where(DutyAlert.closed_at.is_(None), DutyAlert.escalate_at <= now)
                             .order_by(DutyAlert.escalate_at)).all()
    moved = []
    for row in due:
        ticket = db.session.get(Ticket, row.ticket_id)
        task = open_task(ticket)
        if task is None or task.user_id != row.user_id or ticket.status is not Status.DISPATCHED:
            _close(row, now, "signed" if task is not None and task.signed_at else "ended")
            continue
        person = next_in_chain(ticket, now)
        if person is None:
            _close(row, now, "last")  # nobody left: the take-back job returns it to the director, who hears of it
            continue
        before = called(row.user)
        note = f"{before} {escalate_minutes()} 分钟内未签收，升级给{called(person)}"
        if _settled(lambda: pipeline.act(SYSTEM, ticket, "duty_escalate", now=now, note=note,
                                         on_call=person.id)):
            moved.append(ticket.number)
    return moved


def awaiting_escalation():
    """Tickets whose task the duty job watches (the take-back job leaves them to it)."""
    return select(DutyAlert.ticket_id).where(DutyAlert.closed_at.is_(None))


def run_duty(now):
    """The scheduler job: urgent tickets to the person on call, then unsigned ones up the chain; how many."""
    return len(dispatch_urgent(now)) + len(escalate_unsigned(now))
