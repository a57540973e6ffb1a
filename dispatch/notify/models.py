"""The outbox (one row per message to one person) and the event → template mapping per account."""
from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.extensions import db
from dispatch.timeutil import UTCDateTime


class Status:
    """Where a notification stands; only PENDING rows are ever claimed."""

    PENDING = "pending"          # waiting for its next_attempt_at (quiet hours and backoff included)
    SENDING = "sending"          # claimed by a delivery process until claimed_until
    SENT = "sent"
    FAILED = "failed"            # gave up: retries exhausted or a configuration error (shown to the admin)
    STOPPED = "stopped"          # the person unfollowed or refuses messages (43004, 43101)
    UNREACHABLE = "unreachable"  # no way to reach them (no openid, no channel)


class Notification(db.Model):
    """One message about one event to one person, written in the transaction of the change it reports."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    created_at = mapped_column(UTCDateTime, nullable=False)
    event: Mapped[str] = mapped_column(String(32))       # accepted, new_task, breach, ... (notify/rules.py)
    audience: Mapped[str] = mapped_column(String(16))    # resident, volunteer, director, supervisor
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    facts: Mapped[dict] = mapped_column(JSON, default=dict)  # what the template's fields are filled from
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default=Status.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at = mapped_column(UTCDateTime, nullable=False)
    claimed_until = mapped_column(UTCDateTime)
    channel: Mapped[str | None] = mapped_column(String(32))
    account_code: Mapped[str | None] = mapped_column(String(32))
    msgid: Mapped[str | None] = mapped_column(String(64))
    error_code: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    sent_at = mapped_column(UTCDateTime)


class NotifyTemplate(db.Model):
    """Which template carries an event for an account (account_code NULL: every account), field by field."""

    __tablename__ = "notify_templates"
    __table_args__ = (Index("uq_notify_templates_event_account", "event", "account_code", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event: Mapped[str] = mapped_column(String(32))
    account_code: Mapped[str | None] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(32), default="wechat_template")
    template_id: Mapped[str] = mapped_column(String(64))
    fields: Mapped[list] = mapped_column(JSON, default=list)  # [[key, source], ...]; the type is the key's prefix
    page: Mapped[str] = mapped_column(String(16), default="ticket")  # ticket, rate, desk, console
    active: Mapped[bool] = mapped_column(Boolean, default=True)
