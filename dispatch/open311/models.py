"""What an Open311 client sent: stored as received, before it becomes a ticket."""
from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.extensions import db
from dispatch.timeutil import UTCDateTime


class Open311Submission(db.Model):
    """One POST requests: the form as received (without the api_key), and what became of it."""

    __tablename__ = "open311_submissions"
    __table_args__ = (
        Index("ix_open311_submissions_status", "status"),  # the retry job looks for failed ones
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(40), unique=True)  # GET tokens/{token} finds the request by it
    key_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id"))
    received_at = mapped_column(UTCDateTime, nullable=False)
    # received → processed (a ticket), rejected (the client was told why: 4xx) or failed (on our side: retried by
    # a job, then abandoned and logged after the last try).
    status: Mapped[str] = mapped_column(String(16), default="received")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    params: Mapped[dict] = mapped_column(JSON, default=dict)  # {name: [values]} as posted
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), unique=True)
    error: Mapped[str | None] = mapped_column(Text)
    # Kept from the form for answers and for staff; email and phone are shown masked like every phone.
    email: Mapped[str | None] = mapped_column(String(254))
    account_id: Mapped[str | None] = mapped_column(String(64))
    device_id: Mapped[str | None] = mapped_column(String(64))
    address_id: Mapped[str | None] = mapped_column(String(64))
    media_url: Mapped[str | None] = mapped_column(String(500))
    attributes: Mapped[dict] = mapped_column(JSON, default=dict)

    def sent(self, name):
        """The first value the client sent for an argument, trimmed; "" when it sent none."""
        return (self.params.get(name) or [""])[0].strip()
