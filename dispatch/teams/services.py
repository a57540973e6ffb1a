"""Team services: routing's inputs read in one statement, dispatching, and the jobs that keep tasks moving."""
import functools
import json
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace

from sqlalchemy import Text, and_, cast, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from dispatch.extensions import db
from dispatch.org.models import Community, Department, User
from dispatch.org.principal import SYSTEM
from dispatch.org.roles import Role
from dispatch.teams import duty, routing
from dispatch.teams.models import Volunteer
from dispatch.teams.skills import skill_labels
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


def _candidate(row):
    """A row of _volunteer_rows as a routing candidate; None for a volunteer with no profile yet."""
    if row.max_tasks is None:
        return None
    return routing.Candidate(
        user_id=row.id, username=row.username, name=row.display_name, community_id=row.community_id,
        skills=_skills(row.skills), hours=_hours(row.weekly_hours), leave=_leave(row.leave),
        open_tasks=row.open_tasks or 0, max_tasks=max(1, row.max_tasks), latitude=row.latitude,
        longitude=row.longitude, accept_rate=row.accept_rate, on_time_rate=row.on_time_rate)


def as_candidate(user, volunteer, open_tasks):
    """A volunteer's profile (ORM rows) as a routing candidate, for the lists that read whole rows; None without one."""
    if volunteer is None:
        return None
    text = {key: json.dumps(getattr(volunteer, key) or []) for key in ("skills", "weekly_hours", "leave")}
    return _candidate(SimpleNamespace(
        id=user.id, username=user.username, display_name=user.display_name, community_id=user.community_id,
        max_tasks=volunteer.max_tasks or 1, open_tasks=open_tasks, latitude=volunteer.latitude,
        longitude=volunteer.longitude, accept_rate=volunteer.accept_rate, on_time_rate=volunteer.on_time_rate,
        **text))


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


def _volunteer_rows(*where, profiled=True):
    """Active volunteers matching where, with their profile as text and their open tasks: one statement, plain rows.
    profiled=False keeps those with no profile yet (their profile columns are None)."""
    # The JSON columns come as text: parsing each distinct text once (above) beats decoding 1,500 values a call.
    as_text = [cast(column, Text).label(column.key) for column in (Volunteer.skills, Volunteer.weekly_hours,
                                                                     Volunteer.leave)]
    return db.session.execute(select(
        User.id, User.username, User.display_name, User.community_id, *as_text, Volunteer.max_tasks,
        Volunteer.latitude, Volunteer.longitude, Volunteer.accept_rate, Volunteer.on_time_rate, _open_tasks(),
    ).join(Volunteer, Volunteer.user_id == User.id, isouter=not profiled).where(
        User.active, User.role == Role.VOLUNTEER, *where))


def candidates(ticket, now):
    """Every active volunteer who could serve this ticket and has not turned it down, as routing candidates."""
    return [_candidate(r) for r in _volunteer_rows(_team_filter(ticket.community),
                                                   User.id.not_in(_turned_down(ticket)))]


@dataclass(frozen=True)
class Choice:
    """A volunteer in a list to pick from: who, their standing for the ticket (None: no profile yet), and their
    community when it is not the ticket's (the street's shared team)."""

    username: str
    name: str
    standing: routing.Standing | None
    elsewhere: str | None = None


def choices(ticket, now):
    """The ticket's community and the street's shared team, each with their standing for it: who fits first,
    then on shift, off shift, on leave, no profile; by name within each. What the ticket page's drop-down lists."""
    job, at = job_for(ticket), local(now)
    rows = _volunteer_rows(_team_filter(ticket.community), profiled=False).all()
    others = {r.community_id for r in rows} - {ticket.community_id}
    names = dict(db.session.execute(select(Community.id, Community.name).where(Community.id.in_(others))).all())
    listed = []
    for row in rows:
        candidate = _candidate(row)
        listed.append(Choice(row.username, row.display_name, routing.standing(candidate, job, at) if candidate else None,
                             names.get(row.community_id)))
    return sorted(listed, key=_fit_order)


def _fit_order(choice):
    standing = choice.standing
    if standing is None:
        return (2, 0, choice.name)
    return (bool(standing.warnings), routing.AVAILABILITY[standing.duty], choice.name)


def standing_of(user, ticket, now):
    """One volunteer's standing for a ticket now (None: no profile, nothing to judge by)."""
    row = next(iter(_volunteer_rows(User.id == user.id)), None)
    candidate = _candidate(row) if row else None
    if candidate is None:
        return None
    on_roster = user.id in duty.on_call_ids(ticket.community, now)
    return routing.standing(candidate, job_for(ticket), local(now), on_roster)


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


@dataclass(frozen=True)
class Offer:
    """What the dispatch page offers: ranked volunteers, or, when nobody has a skill the ticket needs, the
    closest ones and the skills nobody has."""

    ranked: list
    closest: list
    lacking: tuple  # the Chinese names of the skills nobody has; empty when someone has them


def offer(ticket, now):
    """The dispatch page's volunteers: those ranked for the ticket, else the closest with what nobody has."""
    job, pool, at = job_for(ticket), candidates(ticket, now), local(now)
    ranked = routing.rank(job, pool, at)
    if ranked or not job.required_skills:
        return Offer(ranked, [], ())
    return Offer([], routing.closest(job, pool, at), tuple(skill_labels(sorted(job.required_skills))))


def departments_for(ticket):
    """Active departments, those that handle the ticket's category first."""
    units = db.session.scalars(select(Department).where(Department.active).order_by(Department.name)).all()
    code = ticket.category.code if ticket.category else None
    return sorted(units, key=lambda d: code not in (d.categories or ()))


def assign(principal, ticket, now, volunteer=None, department=None, note=None, version=None, confirm=False):
    """Dispatch (派单) to a volunteer (username) or a department (code); a NEW ticket is accepted in the same
    transaction, so a refused dispatch leaves it as it was. confirm: sent despite the guard's warnings."""
    accept = [Command(principal, ticket, "accept", version=version)] if ticket.status is Status.NEW else []
    fields = {"assignee": volunteer, "department": department, "confirm": confirm}
    return pipeline.execute(*accept, Command(principal, ticket, "dispatch", note=note, version=version,
                                             fields=fields), now=now)


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
