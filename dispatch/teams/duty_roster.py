"""The duty roster as the console edits it: the week's shifts of a community (or its street), who may be put
on duty, adding and removing a shift, and the call-back tasks still waiting for a signature."""
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select

from dispatch.errors import Invalid, NotFound
from dispatch.extensions import db
from dispatch.org.models import Community, User
from dispatch.org.roles import Role
from dispatch.teams import duty
from dispatch.teams.models import DutyAlert, DutyShift
from dispatch.tickets.models import Assignment, Ticket
from dispatch.timeutil import SHANGHAI, as_utc, local

DAYS_SHOWN = 7
LONGEST_SHIFT = timedelta(days=8)  # a whole Spring Festival break, at most
ON_DUTY_ROLES = (Role.COMMUNITY_DIRECTOR, Role.COMMUNITY_STAFF, Role.VOLUNTEER, Role.STREET_SUPERVISOR)


@dataclass(frozen=True)
class Roster:
    """Whose roster: one community's, or a street's own (covering all its communities)."""

    community: Community | None
    street_id: int
    name: str

    def where(self):
        """The shifts of this roster."""
        if self.community is not None:
            return DutyShift.community_id == self.community.id
        return and_(DutyShift.street_id == self.street_id, DutyShift.community_id.is_(None))


def roster_of(community=None, street=None):
    """A community's roster, or (community None) the street's."""
    if community is not None:
        return Roster(community, community.street_id, community.name)
    return Roster(None, street.id, f"{street.name}（全街道）")


def people(roster):
    """Who may be put on this roster: active directors, staff and volunteers of the community (of every
    community of the street for the street's roster) and the street's supervisors."""
    communities = ([roster.community.id] if roster.community is not None else
                   select(Community.id).where(Community.street_id == roster.street_id))
    return db.session.scalars(select(User).where(User.active, User.role.in_(ON_DUTY_ROLES), or_(
        and_(User.role == Role.STREET_SUPERVISOR, User.street_id == roster.street_id),
        and_(User.role != Role.STREET_SUPERVISOR, User.community_id.in_(communities))))
        .order_by(User.role, User.display_name)).all()


def week(roster, now):
    """The shifts that overlap the next DAYS_SHOWN days (from today's midnight), in order."""
    start = as_utc(datetime.combine(local(now).date(), datetime.min.time(), SHANGHAI))
    return db.session.scalars(select(DutyShift).where(
        roster.where(), DutyShift.ends_at > start, DutyShift.starts_at < start + timedelta(days=DAYS_SHOWN))
        .order_by(DutyShift.starts_at, DutyShift.id)).all()


@dataclass(frozen=True)
class OnDuty:
    """Who a community's urgent tickets go to at a time: the roster's people, else the first of the chain."""

    community: Community
    words: str            # 现在值班 or 今晚值班
    shifts: list          # the roster's shifts at that time, one per person
    fallback: User | None  # when the roster is empty: the director (or supervisor) the chain falls back on


def tonight(community, now):
    """Who is on duty now, or, during office hours, who will be on duty at 20:00 this evening."""
    at, words = now, "现在值班"
    if duty.office_open(community, now):
        at = as_utc(datetime.combine(local(now).date(), datetime.min.time(), SHANGHAI) + timedelta(hours=20))
        words = "今晚值班"
    shifts = list({shift.user_id: shift for shift in reversed(duty.shifts_covering(community, at))}.values())[::-1]
    fallback = None if shifts else next(iter(duty.chain(community, at)), None)
    return OnDuty(community, words, shifts, fallback)


def parse_local(text, label):
    """'2026-11-20T18:00' (a datetime-local field) → an aware UTC instant; Invalid with the field's name."""
    try:
        value = datetime.fromisoformat((text or "").strip())
    except ValueError:
        raise Invalid(f"请填写{label}，例如 2026-11-20 18:00", fields={label: ["日期和时间"]}) from None
    return as_utc(value.replace(tzinfo=SHANGHAI) if value.tzinfo is None else value)


def add_shift(roster, form, by, now):
    """Put someone on duty from one time to another; refused with what to fix."""
    chosen = {str(user.id): user for user in people(roster)}
    user = chosen.get((form.get("user") or "").strip())
    if user is None:
        raise Invalid("请从名单里选择值班人员", fields={"值班人员": ["请选择"]})
    starts, ends = parse_local(form.get("starts"), "开始时间"), parse_local(form.get("ends"), "结束时间")
    if ends <= starts:
        raise Invalid("结束时间应晚于开始时间", fields={"结束时间": ["晚于开始时间"]})
    if ends - starts > LONGEST_SHIFT:
        raise Invalid("一个班次最长 8 天，长假请分成几个班次", fields={"结束时间": ["最长 8 天"]})
    if ends <= now:
        raise Invalid("这个班次已经过去了，请填写今后的时间", fields={"结束时间": ["应在今后"]})
    shift = DutyShift(community_id=roster.community.id if roster.community else None,
                      street_id=None if roster.community else roster.street_id, user_id=user.id,
                      starts_at=starts, ends_at=ends, created_by=by)
    db.session.add(shift)
    db.session.commit()
    return shift


def remove_shift(roster, shift_id):
    """Take a shift off this roster (404 when it is not one of its shifts)."""
    shift = db.session.scalar(select(DutyShift).where(DutyShift.id == shift_id, roster.where()))
    if shift is None:
        raise NotFound("找不到这个班次，可能已被删除")
    db.session.delete(shift)
    db.session.commit()
    return shift


def waiting_alerts(community_ids):
    """The call-back tasks not yet signed for: (alert, ticket, task signed?) of the communities, newest first."""
    rows = db.session.execute(select(DutyAlert, Ticket).join(Ticket, Ticket.id == DutyAlert.ticket_id).join(
        Assignment, and_(Assignment.ticket_id == Ticket.id, Assignment.ended_at.is_(None),
                         Assignment.user_id == DutyAlert.user_id)).where(
        DutyAlert.closed_at.is_(None), Assignment.signed_at.is_(None), Ticket.community_id.in_(community_ids))
        .order_by(DutyAlert.alerted_at.desc())).all()
    return [(alert, ticket) for alert, ticket in rows]
