"""The access log: who saw which resident's personal data whole, when, on which ticket, and why.

One row per view. Generic on purpose: `what` names the data seen ("phone" today), `why` the ground the
viewer had (承办工单, 本社区工作人员), so other kinds of data and grounds can be logged the same way."""
from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.extensions import db
from dispatch.timeutil import UTCDateTime

PHONE = "phone"


class AccessLog(db.Model):
    """One view of a resident's personal data in full."""

    __tablename__ = "access_logs"
    id: Mapped[int] = mapped_column(primary_key=True)
    at = mapped_column(UTCDateTime, nullable=False, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(Integer, index=True)  # no foreign key: the log outlives tickets
    what: Mapped[str] = mapped_column(String(32))
    why: Mapped[str] = mapped_column(String(64))


def record_view(*, at, user_id, resident_id, what, why, ticket_id=None):
    """Add one view to the access log; the caller's transaction commits it with the page it served."""
    db.session.add(AccessLog(at=at, user_id=user_id, resident_id=resident_id, ticket_id=ticket_id,
                             what=what, why=why))
