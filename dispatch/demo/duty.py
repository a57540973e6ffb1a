"""The demo's 值班表: nights, weekends and holidays covered in every community with a service team, and the
street supervisor of 湛山街道 as the street's own back-up on days off. Added once: an edited roster stays."""
from datetime import datetime, timedelta

from sqlalchemy import func, select

from dispatch.extensions import db
from dispatch.org.models import Street, User
from dispatch.org.roles import Role
from dispatch.sla.calendar import CalendarUnknown
from dispatch.sla.calendars import calendar_for
from dispatch.teams.models import DutyShift
from dispatch.timeutil import SHANGHAI, as_utc, local

DAYS_BEFORE, DAYS_AFTER = 3, 14
NIGHT, DAY = ("17:30", "08:30"), ("08:30", "17:30")  # a night runs to the next morning


def _instant(day, hhmm, next_day=False):
    hour, minute = map(int, hhmm.split(":"))
    moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)
    return as_utc(moment + timedelta(days=1 if next_day else 0))


def _workday(calendar, day):
    try:
        return calendar.is_workday(day)
    except CalendarUnknown:
        return day.weekday() < 5


def _shifts(community, people, days):
    """Each night one of the people in turn; on a day off, the day shift too (the next one in turn)."""
    calendar, turn, shifts = calendar_for(community), 0, []
    for day in days:
        if not _workday(calendar, day):
            shifts.append((people[turn % len(people)], _instant(day, DAY[0]), _instant(day, DAY[1])))
            turn += 1
        shifts.append((people[turn % len(people)], _instant(day, NIGHT[0]), _instant(day, NIGHT[1], True)))
        turn += 1
    return [DutyShift(community_id=community.id, user_id=user.id, starts_at=a, ends_at=b, created_by="演示数据")
            for user, a, b in shifts]


def _people(community):
    """The director and staff first, then two volunteers: who takes turns on this community's roster."""
    users = db.session.scalars(select(User).where(User.community_id == community.id, User.active, User.role.in_(
        (Role.COMMUNITY_DIRECTOR, Role.COMMUNITY_STAFF, Role.VOLUNTEER))).order_by(User.role, User.username)).all()
    managers = [u for u in users if u.role is not Role.VOLUNTEER]
    return managers + [u for u in users if u.role is Role.VOLUNTEER][:2]


def _phone(user):
    if not user.phone:
        user.phone = f"139{5320000 + user.id * 37 % 10000:08d}"[:11]


def seed_roster(communities, street_code, now):
    """Shifts from DAYS_BEFORE days ago to DAYS_AFTER days ahead for the communities that have none yet."""
    today = local(now).date()
    days = [today + timedelta(days=n) for n in range(-DAYS_BEFORE, DAYS_AFTER)]
    have = set(db.session.scalars(select(DutyShift.community_id).where(DutyShift.community_id.is_not(None))))
    added = 0
    for community in communities:
        people = _people(community)
        if community.id in have or len(people) < 2:
            continue
        for user in people:
            _phone(user)
        rows = _shifts(community, people, days)
        db.session.add_all(rows)
        added += len(rows)
    added += _street_backup(street_code, days)
    db.session.commit()
    return f"duty roster: {added} shift(s) added"


def _street_backup(street_code, days):
    """The street supervisor on the street's own roster, on days off, once."""
    street = db.session.scalar(select(Street).where(Street.code == street_code))
    supervisor = street and db.session.scalar(select(User).where(
        User.street_id == street.id, User.role == Role.STREET_SUPERVISOR, User.active).order_by(User.id))
    if supervisor is None or db.session.scalar(select(func.count()).where(DutyShift.street_id == street.id)):
        return 0
    _phone(supervisor)
    rows = [DutyShift(street_id=street.id, user_id=supervisor.id, starts_at=_instant(day, "00:00"),
                      ends_at=_instant(day, "00:00", True), created_by="演示数据")
            for day in days if day.weekday() >= 5]
    db.session.add_all(rows)
    return len(rows)
