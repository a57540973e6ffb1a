"""What intake keeps beyond the ticket: media still to fetch from WeChat, and logged phone calls."""
from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.extensions import db
from dispatch.timeutil import UTCDateTime, system_now


class MediaFetch(db.Model):
    """A photo or voice to download by MediaId after the reply has gone (never inside WeChat's 5 seconds)."""

    __tablename__ = "media_fetches"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("wechat_accounts.id"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    media_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))  # image, voice
    audio_format: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # pending, done, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at = mapped_column(UTCDateTime, nullable=True)
    error: Mapped[str | None] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime, default=system_now)
    done_at = mapped_column(UTCDateTime, nullable=True)


class PhoneCall(db.Model):
    """A call the phone system reported; it opens a draft phone ticket for staff to complete."""

    __tablename__ = "phone_calls"
    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(String(64), unique=True)
    caller: Mapped[str] = mapped_column(String(32))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    called_at = mapped_column(UTCDateTime)
    recording_url: Mapped[str | None] = mapped_column(String(500))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    reported_by: Mapped[str] = mapped_column(String(64))
    created_at = mapped_column(UTCDateTime, default=system_now)


class PlaceName(db.Model):
    """A gazetteer row: a road (with a house-number range, or all of it) or a 小区 name that lies in a community.
    The district account finds a note's community from it; admins keep it in the console."""

    __tablename__ = "place_names"
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64), index=True)  # 湛山路, 香港花园
    first: Mapped[int | None] = mapped_column(Integer)  # house numbers first..last; None: the whole road
    last: Mapped[int | None] = mapped_column(Integer)
    parity: Mapped[str] = mapped_column(String(8), default="all")  # all, odd, even
    # Where the place is (a road's stretch: about its middle), so a volunteer's address gives a position.
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    created_at = mapped_column(UTCDateTime, default=system_now)
