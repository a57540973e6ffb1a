"""A 365 volunteer's profile: skills, weekly hours, leave, task cap, WeChat openid and where they live."""
from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.extensions import db
from dispatch.org.models import User
from dispatch.timeutil import UTCDateTime


class Volunteer(db.Model):
    """The team side of a volunteer user: what routing needs to know about them."""

    __tablename__ = "volunteers"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    skills: Mapped[list] = mapped_column(JSON, default=list)
    # Seven entries, Monday first, each "08:00-12:00,14:00-17:00" or "" (not on duty that day); local time.
    weekly_hours: Mapped[list] = mapped_column(JSON, default=list)
    leave: Mapped[list] = mapped_column(JSON, default=list)  # [["2026-11-23", "2026-11-25"], ...] inclusive
    max_tasks: Mapped[int] = mapped_column(Integer, default=3)
    serves_street: Mapped[bool] = mapped_column(Boolean, default=False)  # also on the street's shared team
    openid: Mapped[str | None] = mapped_column(String(64), index=True)  # the volunteer desk's WeChat login
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    location_label: Mapped[str | None] = mapped_column(String(200))  # the place the position came from: 古田路16号
    # A single-use link (QR code) the volunteer opens in WeChat to bind their openid; only its hash is kept.
    bind_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    bind_expires_at = mapped_column(UTCDateTime, nullable=True)
    # Recent track record (teams.services.refresh_rates, a scheduler job): kept here so ranking reads 500 rows,
    # not every recent task. None: no tasks to judge by yet.
    accept_rate: Mapped[float | None] = mapped_column(Float)
    on_time_rate: Mapped[float | None] = mapped_column(Float)
    rates_at = mapped_column(UTCDateTime, nullable=True)
    user: Mapped[User] = relationship()


class DutyShift(db.Model):
    """One person on call (值班) from one instant to another, for a community or for a whole street."""

    __tablename__ = "duty_shifts"
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), index=True)
    street_id: Mapped[int | None] = mapped_column(ForeignKey("streets.id"), index=True)  # the street's own roster
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    starts_at = mapped_column(UTCDateTime, nullable=False, index=True)
    ends_at = mapped_column(UTCDateTime, nullable=False)
    created_by: Mapped[str | None] = mapped_column(String(64))
    user: Mapped[User] = relationship()


class DutyAlert(db.Model):
    """An urgent ticket put to one on-call person: the call-back task until they sign for it or it goes up."""

    __tablename__ = "duty_alerts"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    step: Mapped[int] = mapped_column(Integer, default=0)  # 0: the first on call, then each escalation
    alerted_at = mapped_column(UTCDateTime, nullable=False)
    escalate_at = mapped_column(UTCDateTime, nullable=False, index=True)
    closed_at = mapped_column(UTCDateTime, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(16))  # signed, escalated, ended, last
    user: Mapped[User] = relationship()
