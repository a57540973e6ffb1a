"""The organisation: district → street → community, departments, staff users, residents, API tokens."""
from flask import current_app
from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from dispatch.extensions import db
from dispatch.org.roles import Role
from dispatch.timeutil import UTCDateTime, system_now


class District(db.Model):
    """The district that runs the alliance (市南区)."""

    __tablename__ = "districts"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))


class Street(db.Model):
    """A street office (街道办事处)."""

    __tablename__ = "streets"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"))
    district: Mapped[District] = relationship()


class Community(db.Model):
    """A community (社区) with its own office phone and WeChat account."""

    __tablename__ = "communities"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"), index=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(200))
    # Office hours for working-time SLA clocks, e.g. "08:30-12:00,13:30-17:30"; None: the district default.
    office_hours: Mapped[str | None] = mapped_column(String(64))
    street: Mapped[Street] = relationship()


class Department(db.Model):
    """A functional department or service unit that receives forwarded tickets (承办单位)."""

    __tablename__ = "departments"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    # The category codes it handles: the dispatch page offers it first for those.
    categories: Mapped[list] = mapped_column(JSON, default=list)
    contact_name: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class User(UserMixin, db.Model):
    """A staff member who logs in to the console; role and scope decide what they see."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[Role] = mapped_column(db.Enum(Role, native_enum=False, length=32,
                                               values_callable=lambda e: [m.value for m in e]))
    street_id: Mapped[int | None] = mapped_column(ForeignKey("streets.id"))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    phone: Mapped[str | None] = mapped_column(String(32))
    wechat_openid: Mapped[str | None] = mapped_column(String(64))  # staff who get notifications in WeChat
    active: Mapped[bool] = mapped_column(default=True)
    created_at = mapped_column(UTCDateTime, default=system_now)
    preferences: Mapped[dict | None] = mapped_column(JSON)  # what the console remembers for them (queue view, order)
    street: Mapped[Street | None] = relationship()
    community: Mapped[Community | None] = relationship()
    department: Mapped[Department | None] = relationship()

    @property
    def is_active(self):
        """Flask-Login refuses sessions of deactivated users."""
        return self.active

    def set_password(self, password):
        """Store a salted hash, never the password."""
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password):
        """Compare a password with the stored hash."""
        return check_password_hash(self.password_hash, password)


class Resident(db.Model):
    """A resident, known per WeChat account by openid, or by phone number for phone tickets."""

    __tablename__ = "residents"
    __table_args__ = (
        UniqueConstraint("account_code", "openid", name="uq_residents_account_openid"),
        # A caller known only by phone is one resident per number: the unique key lets one upsert find or
        # create them, also when two calls from the same number are opened at once.
        Index("uq_residents_caller_phone", "phone", unique=True, postgresql_where=text("openid IS NULL"),
              sqlite_where=text("openid IS NULL")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    account_code: Mapped[str | None] = mapped_column(String(32))
    openid: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(String(64))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))
    created_at = mapped_column(UTCDateTime, default=system_now)
    subscribed: Mapped[bool] = mapped_column(Boolean, default=True)  # False after unsubscribe: no templates
    unsubscribed_at = mapped_column(UTCDateTime, nullable=True)
    messages_refused_at = mapped_column(UTCDateTime, nullable=True)  # WeChat said 43101: they refuse messages
    # The WeChat "draft": the ticket that further photos, a location or a first text join, until draft_until.
    draft_ticket_id: Mapped[int | None] = mapped_column(Integer)
    draft_until = mapped_column(UTCDateTime, nullable=True)
    # A location sent before any ticket: applied to the next ticket opened before draft_until.
    pending_latitude: Mapped[float | None] = mapped_column(Float)
    pending_longitude: Mapped[float | None] = mapped_column(Float)
    pending_location_label: Mapped[str | None] = mapped_column(String(200))
    # Staff asked them a question (wait_for_resident): their next message may answer a waiting ticket.
    asked_at = mapped_column(UTCDateTime, nullable=True)
    # District account: a note whose community could not be told, kept until the resident picks one.
    pending_note: Mapped[str | None] = mapped_column(Text)
    pending_note_at = mapped_column(UTCDateTime, nullable=True)
    community: Mapped[Community | None] = relationship()


class ApiToken(db.Model):
    """A machine client's secret (a bearer token, or an Open311 api_key by `kind`); only its SHA-256 is stored."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    scope: Mapped[str] = mapped_column(String(80))
    # "api": a bearer token for /api/v1; "open311": an api_key for /open311/v2. Neither opens the other door.
    kind: Mapped[str] = mapped_column(String(16), default="api", server_default="api")
    street_id: Mapped[int | None] = mapped_column(ForeignKey("streets.id"))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))
    created_at = mapped_column(UTCDateTime, default=system_now)
    revoked_at = mapped_column(UTCDateTime, nullable=True)


class LoginFailure(db.Model):
    """One failed console login, kept to rate-limit guessing across all workers."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_username_at", "username", "at"),
                      Index("ix_login_failures_ip_at", "ip", "at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(64))
    at = mapped_column(UTCDateTime, default=system_now)
