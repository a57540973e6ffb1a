"""The ticket, its append-only timeline, its photos, categories and the daily number sequence."""
import enum

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, event, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.extensions import db
from dispatch.org.models import Community, Department, Resident, User
from dispatch.tickets.lifecycle import OPEN_STATUSES, Status
from dispatch.timeutil import UTCDateTime, system_now


def _enum(cls):
    """Store an enum's values as short strings, portable across SQLite and PostgreSQL."""
    return db.Enum(cls, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e])


OPEN_SQL = "status IN ({})".format(", ".join(f"'{s.value}'" for s in sorted(OPEN_STATUSES, key=lambda s: s.value)))


class Channel(str, enum.Enum):
    """The door a request came in by."""

    WECHAT_TEXT = "wechat_text"
    WECHAT_PHOTO = "wechat_photo"
    WECHAT_VOICE = "wechat_voice"
    PHONE = "phone"
    WEB_FORM = "web_form"
    API = "api"
    OPEN311 = "open311"

    @property
    def label(self):
        """The channel's Chinese name."""
        return CHANNEL_LABELS[self]


CHANNEL_LABELS = {
    Channel.WECHAT_TEXT: "微信便民纸条", Channel.WECHAT_PHOTO: "微信随手拍", Channel.WECHAT_VOICE: "微信语音",
    Channel.PHONE: "一键拨号", Channel.WEB_FORM: "网页表单", Channel.API: "接口",
    Channel.OPEN311: "Open311",
}


class Priority(str, enum.Enum):
    """How urgent a ticket is; the order is most to least urgent."""

    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"

    @property
    def label(self):
        """The priority's Chinese name."""
        return PRIORITY_LABELS[self]


PRIORITY_LABELS = {Priority.URGENT: "紧急", Priority.HIGH: "较急", Priority.NORMAL: "一般", Priority.LOW: "不急"}


class Category(db.Model):
    """A kind of request, with the keywords the classifier weighs and a default priority."""

    __tablename__ = "categories"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    default_priority: Mapped[Priority] = mapped_column(_enum(Priority), default=Priority.NORMAL)
    keywords: Mapped[dict] = mapped_column(JSON, default=dict)
    sort_order: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    required_skills: Mapped[list] = mapped_column(JSON, default=list)  # skill codes (teams/skills.py)
    auto_assign: Mapped[bool] = mapped_column(Boolean, default=False)  # dispatch NEW tickets to the top suggestion


class Ticket(db.Model):
    """One resident request, whatever door it came in by."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_community_created", "community_id", "created_at"),
        Index("ix_tickets_status_created", "status", "created_at"),
        Index("ix_tickets_resolution_due", "resolution_due_at"),
        Index("ix_tickets_sla_deadline", "sla_deadline_at"),
        Index("ix_tickets_updated", "updated_at"),  # the console's live poll: what changed since its last look
        # The few open tickets among millions: what is overdue now, per community (the monitor's live figures).
        Index("ix_tickets_open_community", "community_id", postgresql_where=text(OPEN_SQL), sqlite_where=text(OPEN_SQL)),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    channel: Mapped[Channel] = mapped_column(_enum(Channel), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    priority: Mapped[Priority] = mapped_column(_enum(Priority), default=Priority.NORMAL)
    status: Mapped[Status] = mapped_column(_enum(Status), default=Status.NEW)
    description: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(200))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    response_due_at = mapped_column(UTCDateTime, nullable=True)
    resolution_due_at = mapped_column(UTCDateTime, nullable=True)
    sla_paused_seconds: Mapped[int] = mapped_column(Integer, default=0)
    # The SLA clocks (sla/): the policy chosen at opening and each clock's warning point; sla_deadline_at is
    # the deadline that matters now (the queue sorts by it). Which points have fired, and when the next one
    # falls, live in sla_schedules (SlaSchedule): the sweep rewrites those, never this wide row.
    sla_policy_id: Mapped[int | None] = mapped_column(ForeignKey("sla_policies.id"))
    response_warn_at = mapped_column(UTCDateTime, nullable=True)
    resolution_warn_at = mapped_column(UTCDateTime, nullable=True)
    responded_at = mapped_column(UTCDateTime, nullable=True)
    sla_paused_at = mapped_column(UTCDateTime, nullable=True)
    sla_deadline_at = mapped_column(UTCDateTime, nullable=True)
    sla_error: Mapped[str | None] = mapped_column(String(200))  # the calendar could not answer: the admin sees it
    accepted_at = mapped_column(UTCDateTime, nullable=True)
    resolved_at = mapped_column(UTCDateTime, nullable=True)
    closed_at = mapped_column(UTCDateTime, nullable=True)
    created_at = mapped_column(UTCDateTime, default=system_now, index=True)
    updated_at = mapped_column(UTCDateTime, default=system_now)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    location_label: Mapped[str | None] = mapped_column(String(200))
    # Opened from a photo, a voice without recognition or a call: the description is still to be written.
    description_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_listening: Mapped[bool] = mapped_column(Boolean, default=False)  # a voice message nobody has heard
    voice_key: Mapped[str | None] = mapped_column(String(200))
    rating: Mapped[str | None] = mapped_column(String(32))  # satisfied, basically_satisfied, unsatisfied
    rating_comment: Mapped[str | None] = mapped_column(Text)
    rated_at = mapped_column(UTCDateTime, nullable=True)

    community: Mapped[Community] = relationship()
    category: Mapped[Category | None] = relationship()
    resident: Mapped[Resident | None] = relationship()
    assignee: Mapped[User | None] = relationship()
    department: Mapped[Department | None] = relationship()
    events: Mapped[list["TicketEvent"]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id", lazy="select")
    photos: Mapped[list["TicketPhoto"]] = relationship(back_populates="ticket", order_by="TicketPhoto.id")

    # A stale write (someone else changed the ticket since it was read) raises StaleDataError → 409.
    __mapper_args__ = {"version_id_col": version}


class TicketEvent(db.Model):
    """One entry of a ticket's timeline: who did what, when, from which state to which, and why."""

    __tablename__ = "ticket_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    at = mapped_column(UTCDateTime, default=system_now)
    kind: Mapped[str] = mapped_column(String(32))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(String(64))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    ticket: Mapped[Ticket] = relationship(back_populates="events")


class TicketPhoto(db.Model):
    """A photo attached to a ticket, kept in the media storage under storage_key."""

    __tablename__ = "ticket_photos"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    storage_key: Mapped[str] = mapped_column(String(200))
    thumbnail_key: Mapped[str | None] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    created_at = mapped_column(UTCDateTime, default=system_now)
    ticket: Mapped[Ticket] = relationship(back_populates="photos")

    @staticmethod
    def stored_as(key):
        """SQL condition: the photo whose full file or thumbnail is stored under key."""
        return (TicketPhoto.storage_key == key) | (TicketPhoto.thumbnail_key == key)

    def content_type_of(self, key):
        """The content type of the file stored under key (thumbnails are always JPEG)."""
        return self.content_type if key == self.storage_key else "image/jpeg"


class Assignment(db.Model):
    """One task: a ticket sent to a volunteer or a department, from dispatch until it ends (签收、退单、办结…)."""

    __tablename__ = "assignments"
    __table_args__ = (
        # At most one open task per ticket: two dispatches racing for one ticket cannot both land.
        Index("uq_assignments_open_ticket", "ticket_id", unique=True, postgresql_where=text("ended_at IS NULL"),
              sqlite_where=text("ended_at IS NULL")),
        Index("ix_assignments_user_ended", "user_id", "ended_at"),
        # Open tasks per volunteer (the routing's load figure) without touching history.
        Index("ix_assignments_open_user", "user_id", postgresql_where=text("ended_at IS NULL"),
              sqlite_where=text("ended_at IS NULL")),
        Index("ix_assignments_department_ended", "department_id", "ended_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # a volunteer
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    dispatched_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: auto-assigned
    dispatched_at = mapped_column(UTCDateTime, nullable=False)
    note: Mapped[str | None] = mapped_column(Text)  # the director's note to the holder
    sign_due_at = mapped_column(UTCDateTime, nullable=True)  # not signed for by then: taken back
    signed_at = mapped_column(UTCDateTime, nullable=True)
    ended_at = mapped_column(UTCDateTime, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(16))  # resolved, declined, returned, withdrawn, timed_out
    reason: Mapped[str | None] = mapped_column(Text)
    on_time: Mapped[bool | None] = mapped_column(Boolean)  # resolved within the ticket's resolution limit
    ticket: Mapped[Ticket] = relationship()
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    department: Mapped[Department | None] = relationship()


class TicketReporter(db.Model):
    """A resident who reported a ticket merged into this one: they hear its outcome too."""

    __tablename__ = "ticket_reporters"
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), primary_key=True)
    from_ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    added_at = mapped_column(UTCDateTime, nullable=False)
    resident: Mapped[Resident] = relationship()


class TicketSequence(db.Model):
    """The last ticket number handed out on a local (Asia/Shanghai) day."""

    __tablename__ = "ticket_sequences"
    day = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


@event.listens_for(TicketEvent, "before_update")
@event.listens_for(TicketEvent, "before_delete")
def _timeline_is_append_only(mapper, connection, target):
    """The timeline is evidence: an entry, once written, is never changed or removed."""
    raise RuntimeError("ticket events are append-only")
