"""What the monitor keeps: one fact row per ticket, read off its timeline, and a daily rollup per community.

Both are derived data, rebuilt from the timeline by the refresher (monitor/refresh.py); nothing else writes
them, and `flask monitor rebuild` can throw them away and build them again.
"""
from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.extensions import db
from dispatch.timeutil import UTCDateTime


class TicketFact(db.Model):
    """One ticket as the metrics see it: who and where, when it was answered and resolved, how it was rated."""

    __tablename__ = "ticket_facts"
    __table_args__ = (
        Index("ix_ticket_facts_street_day", "street_id", "created_day"),
        Index("ix_ticket_facts_community_day", "community_id", "created_day"),
        Index("ix_ticket_facts_day", "created_day"),
    )
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True,
                                           autoincrement=False)
    community_id: Mapped[int] = mapped_column(Integer)
    street_id: Mapped[int] = mapped_column(Integer)
    category_id: Mapped[int | None] = mapped_column(Integer)
    handler_user_id: Mapped[int | None] = mapped_column(Integer)  # the volunteer holding (or last holding) it
    department_id: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))
    created_at = mapped_column(UTCDateTime, nullable=False)
    created_day = mapped_column(Date, nullable=False)  # the Asia/Shanghai date: periods are local dates
    valid: Mapped[bool] = mapped_column(Boolean)  # neither 作废 nor 合并
    responded: Mapped[bool] = mapped_column(Boolean)
    responded_on_time: Mapped[bool] = mapped_column(Boolean)
    resolved: Mapped[bool] = mapped_column(Boolean)  # 已办结 or 已关闭 now
    resolved_on_time: Mapped[bool] = mapped_column(Boolean)
    response_hours: Mapped[float | None] = mapped_column(Float)  # working hours to the first response
    resolution_hours: Mapped[float | None] = mapped_column(Float)  # working hours to the latest resolution
    returns: Mapped[int] = mapped_column(Integer, default=0)
    extensions: Mapped[int] = mapped_column(Integer, default=0)
    reopenings: Mapped[int] = mapped_column(Integer, default=0)
    rating: Mapped[str | None] = mapped_column(String(32))
    last_event_id: Mapped[int] = mapped_column(Integer)  # the newest timeline entry this row has read


class DailyRollup(db.Model):
    """Per community and local day of creation, the counts the trend lines add up (weeks, months)."""

    __tablename__ = "monitor_daily"
    day = mapped_column(Date, primary_key=True)
    community_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    street_id: Mapped[int] = mapped_column(Integer, index=True)
    created: Mapped[int] = mapped_column(Integer, default=0)
    valid: Mapped[int] = mapped_column(Integer, default=0)
    responded: Mapped[int] = mapped_column(Integer, default=0)
    responded_on_time: Mapped[int] = mapped_column(Integer, default=0)
    resolved: Mapped[int] = mapped_column(Integer, default=0)
    resolved_on_time: Mapped[int] = mapped_column(Integer, default=0)
    rated: Mapped[int] = mapped_column(Integer, default=0)
    satisfied: Mapped[int] = mapped_column(Integer, default=0)
    reopened: Mapped[int] = mapped_column(Integer, default=0)
    returned: Mapped[int] = mapped_column(Integer, default=0)
    extended: Mapped[int] = mapped_column(Integer, default=0)


class MonitorMark(db.Model):
    """How far the refresher has read the timeline, and when."""

    __tablename__ = "monitor_marks"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(Integer, default=0)
    refreshed_at = mapped_column(UTCDateTime, nullable=True)
