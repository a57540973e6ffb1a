"""What the SLA feature stores: policies, each ticket's sweep schedule, the holiday table, the years entered by hand."""
from datetime import date

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.extensions import db
from dispatch.org.models import Community
from dispatch.sla.clock import Limit, Unit
from dispatch.tickets.models import Category, Priority, _enum
from dispatch.timeutil import UTCDateTime, system_now

CHAIN_ROLES = ("assignee", "director", "supervisor")  # who hears of a breach, and then of each escalation
CHAIN_LABELS = {"assignee": "承办人", "director": "社区书记/主任", "supervisor": "街道督办"}


class SlaPolicy(db.Model):
    """Time limits for tickets of a category and/or priority. Never edited in place: an edit is a new row."""

    __tablename__ = "sla_policies"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))  # None: any category
    priority: Mapped[Priority | None] = mapped_column(_enum(Priority))  # None: any priority
    response_amount: Mapped[int] = mapped_column(Integer)
    response_unit: Mapped[Unit] = mapped_column(_enum(Unit))
    resolution_amount: Mapped[int] = mapped_column(Integer)
    resolution_unit: Mapped[Unit] = mapped_column(_enum(Unit))
    warn_percent: Mapped[int] = mapped_column(Integer, default=75)
    escalation_chain: Mapped[str] = mapped_column(String(64), default=",".join(CHAIN_ROLES))
    escalation_step_percent: Mapped[int] = mapped_column(Integer, default=25)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("sla_policies.id"))
    created_at = mapped_column(UTCDateTime, default=system_now)
    created_by: Mapped[str | None] = mapped_column(String(64))
    category: Mapped[Category | None] = relationship()

    @property
    def response_limit(self):
        return Limit(self.response_amount, self.response_unit)

    @property
    def resolution_limit(self):
        return Limit(self.resolution_amount, self.resolution_unit)

    @property
    def chain(self):
        """The escalation chain as a tuple of roles, in order."""
        return tuple(r for r in (self.escalation_chain or "").split(",") if r)

    @property
    def specificity(self):
        """How closely a policy names its tickets: category and priority 3, priority 2, category 1, neither 0."""
        return (2 if self.priority is not None else 0) + (1 if self.category_id is not None else 0)


class SlaSchedule(db.Model):
    """What the sweep reads and writes of one ticket: its next point and how many points of each clock fired.

    Kept apart from the wide tickets row: a sweep rewrites a thousand of these, and a rewrite of a tickets row
    adds an entry to every one of its dozen indexes, here to two. One row per ticket, made with the ticket.
    """

    __tablename__ = "sla_schedules"
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True,
                                           autoincrement=False)
    next_at = mapped_column(UTCDateTime, nullable=True, index=True)  # the earliest point still to fire
    response_stage: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    resolution_stage: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class CalendarDay(db.Model):
    """A day that differs from chinese_calendar, district-wide or for one community (a local closure)."""

    __tablename__ = "calendar_days"
    __table_args__ = (UniqueConstraint("day", "community_id", name="uq_calendar_days_day_community"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))  # None: the whole district
    workday: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(64))
    community: Mapped[Community | None] = relationship()


class CalendarYear(db.Model):
    """A year chinese_calendar does not know, entered by an admin: its holidays are in calendar_days."""

    __tablename__ = "calendar_years"
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    note: Mapped[str | None] = mapped_column(String(200))
    entered_at = mapped_column(UTCDateTime, default=system_now)
