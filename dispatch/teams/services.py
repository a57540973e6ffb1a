"""Team services: routing's inputs read in one statement, dispatching, and the jobs that keep tasks moving."""
import functools
import json
from datetime import timedelta

from sqlalchemy import Text, and_, cast, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from dispatch.extensions import db
from dispatch.org.models import Community, Department, User
from dispatch.org.principal import SYSTEM
from dispatch.org.roles import Role
from dispatch.teams import duty, routing
from dispatch.teams.models import Volunteer
from dispatch.tickets import pipeline
from dispatch.tickets.pipeline import Command
from dispatch.tickets.lifecycle import IllegalTransition, Status
from dispatch.tickets.models import Assignment, Category, Ticket
from dispatch.timeutil import local

RECENT_DAYS = 90  # acceptance and on-time rates look back this far
AUTO_ASSIGN_WITHIN = timedelta(days=1)  # older NEW tickets are the director's to look at, not the job's


@functools.lru_cache(maxsize=4096)
def _hours(text):
    """Stored weekly hours (JSON text) → routing's seven tuples; a malformed day counts as off duty. Parsed once
    per distinct text: a team shares a handful of timetables, and ranking 500 volunteers must stay cheap."""
    days = list(json.loads(text or "[]"))[:7]
    return tuple(_day_hours(day) for day in days + [""] * (7 - len(days)))


def _day_hours(text):
    try:
        return routing.parse_hours(text)
    except ValueError:
        return ()


@functools.lru_cache(maxsize=4096)
def _skills(text):
    return frozenset(json.loads(text or "[]"))


@functools.lru_cache(maxsize=4096)
def _leave(text):
    return tuple((routing.local_day(a), routing.local_day(b)) for a, b in json.loads(text or "[]"))


def _team_filter(community):
    """Volunteers of the ticket's community, and the street's shared team."""
    street_communities = select(Community.id).where(Community.street_id == community.street_id)
    return or_(User.community_id == community.id,
               and_(Volunteer.serves_street, User.community_id.in_(street_communities)))


def _open_tasks():
    """A volunteer's open tasks, counted per row from the partial index that holds only open ones."""
    return select(func.count()).where(Assignment.user_id == User.id, Assignment.ended_at.is_(None)) \
        .correlate(User).scalar_subquery().label("open_tasks")


def _turned_down(ticket):
    """Volunteers who declined this ticket or let it time out: the next suggestion is somebody else."""
    return select(Assignment.user_id).where(
        Assignment.ticket_id == ticket.id, Assignment.outcome.in_(("declined", "timed_out")),
        Assignment.user_id.is_not(None))


def candidates(ticket, now):
    """Every active volunteer who could serve this ticket and has not turned it down, as routing candidates:
    one statement, plain rows."""
    # The JSON columns come as text: parsing each distinct text once (above) beats decoding 1,500 values a call.
    as_text = [cast(column, Text).label(column.key) for column in (Volunteer.skills, Volunteer.weekly_hours,
                                                                     Volunteer.leave)]
    rows = db.session.execute(select(
        User.id, User.username, User.display_name, User.community_id, *as_text, Volunteer.max_tasks,
        Volunteer.latitude, Volunteer.longitude, Volunteer.accept_rate, Volunteer.on_time_rate, _open_tasks(),
    ).join(Volunteer, Volunteer.user_id == User.id).where(
        User.active, User.role == Role.VOLUNTEER, _team_filter(ticket.community), User.id.not_in(_turned_down(ticket))))
    return [routing.Candidate(
        user_id=r.id, username=r.username, name=r.display_name, community_id=r.community_id,
        skills=_skills(r.skills), hours=_hours(r.weekly_hours), leave=_leave(r.leave),
        open_tasks=r.open_tasks or 0, max_tasks=max(1, r.max_tasks), latitude=r.latitude, longitude=r.longitude,
        accept_rate=r.accept_rate, on_time_rate=r.on_time_rate) for r in rows]


def refresh_rates(now):
    """Recompute every volunteer's recent acceptance and on-time rates from their tasks; returns how many."""
    recent = Assignment.dispatched_at >= now - timedelta(days=RECENT_DAYS)
    offered, signed = func.count(), func.count(Assignment.signed_at)
    resolved = func.count().filter(Assignment.outcome == "resolved")
    in_time = func.count().filter(Assignment.on_time.is_(True))
    figures = {uid: (s / o if o else None, t / r if r else None) for uid, o, s, r, t in db.session.execute(
        select(Assignment.user_id, offered, signed, resolved, in_time).where(recent, Assignment.user_id.is_not(None))
        .group_by(Assignment.user_id)).all()}
    volunteers = db.session.scalars(select(Volunteer)).all()
    for volunteer in volunteers:
        volunteer.accept_rate, volunteer.on_time_rate = figures.get(volunteer.user_id, (None, None))
        volunteer.rates_at = now
    db.session.commit()
    return len(volunteers)


def job_for(ticket):
    """The ticket as routing sees it."""
    category = ticket.category
    return routing.Job(community_id=ticket.community_id, category_name=category.name if category else "未分类",
                       required_skills=frozenset(category.required_skills or ()) if category else frozenset(),
                       latitude=ticket.latitude, longitude=ticket.longitude)


def suggestions(ticket, now, limit=None):
    """Ranked volunteers for a ticket, each with why; those who turned it down are left out."""
    pool = candidates(ticket, now)
    return routing.rank(job_for(ticket), pool, local(now), limit=limit)


def departments_for(ticket):
    """Active departments, those that handle the ticket's category first."""
    units = db.session.scalars(select(Department).where(Department.active).order_by(Department.name)).all()
    code = ticket.category.code if ticket.category else None
    return sorted(units, key=lambda d: code not in (d.categories or ()))


def assign(principal, ticket, now, volunteer=None, department=None, note=None, version=None):
    """Dispatch (派单) to a volunteer (username) or a department (code); a NEW ticket is accepted in the same
    transaction, so a refused dispatch leaves it as it was."""
    accept = [Command(principal, ticket, "accept", version=version)] if ticket.status is Status.NEW else []
    return pipeline.execute(*accept, Command(principal, ticket, "dispatch", note=note, version=version,
                                             fields={"assignee": volunteer, "department": department}), now=now)


def take_back_overdue(now):
    """Take back every volunteer task not signed for by its deadline; returns the ticket numbers."""
    due = db.session.scalars(select(Ticket).join(Assignment, and_(
        Assignment.ticket_id == Ticket.id, Assignment.ended_at.is_(None))).where(
        Ticket.status == Status.DISPATCHED, Assignment.signed_at.is_(None), Assignment.sign_due_at <= now,
        Ticket.id.not_in(duty.awaiting_escalation())).order_by(Assignment.sign_due_at)).all()
    taken = []
    for ticket in due:
        who = ticket.assignee.display_name if ticket.assignee else "志愿者"
        if _settled(lambda: pipeline.act(SYSTEM, ticket, "take_back", now=now,
                                               note=f"{who}未在时限内签收，已收回并提醒社区主任")):
            taken.append(ticket.number)
    return taken


def _settled(change):
    """Run one ticket's change; a person who acted on it meanwhile wins (False), the job goes on."""
    try:
        change()
        return True
    except (StaleDataError, IllegalTransition, IntegrityError):
        db.session.rollback()
        return False


def auto_assign(now):
    """Dispatch NEW tickets of auto-assign categories to their top suggestion when it fits now."""
    waiting = db.session.scalars(select(Ticket).join(Category).where(
        Ticket.status == Status.NEW, Category.auto_assign, Ticket.created_at >= now - AUTO_ASSIGN_WITHIN)
        .order_by(Ticket.id)).all()
    done = []
    for ticket in waiting:
        if duty.after_hours_urgent(ticket, now):
            continue  # the duty job's: to the person on call at once, with SMS and escalation
        pick = _pick(ticket, now)
        if pick is None:
            continue
        if _settled(lambda: assign(SYSTEM, ticket, now, volunteer=pick.candidate.username,
                                   note=f"自动派单：{pick.reason}")):
            done.append((ticket.number, pick.candidate.username))
    return done


def _pick(ticket, now):
    """The top suggestion when it fits now; outside office hours only someone on shift or on the duty roster,
    and with nobody, the ticket goes to whoever is on the duty roster (else it waits for the director)."""
    if duty.office_open(ticket.community, now):
        return routing.auto_pick(suggestions(ticket, now, limit=1))
    pick = routing.auto_pick_on_call(job_for(ticket), suggestions(ticket, now),
                                     duty.on_call_ids(ticket.community, now))
    if pick is None:
        duty.send_to_chain(ticket, now, why="非办公时间没有志愿者在岗", roster_only=True)
    return pick


def run_take_back(now):
    """The scheduler job: take back unsigned tasks; returns how many."""
    return len(take_back_overdue(now))


def run_auto_assign(now):
    """The scheduler job: auto-assign what fits; returns how many."""
    return len(auto_assign(now))
