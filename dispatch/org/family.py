"""Family members (代办人): a resident's son or daughter, linked through a single-use link the parent makes,
reports for them, follows their tickets, hears the same notifications and can rate. The parent can remove them.

One row per link made: a random token (only its hash is kept) that expires; confirming it names the member;
removing it ends everything at once (every check below reads only links confirmed and not removed)."""
from datetime import timedelta

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.extensions import db
from dispatch.org.links import hash_token, new_token  # noqa: F401  (the family pages use them from here)
from dispatch.org.models import Resident
from dispatch.timeutil import UTCDateTime

LINK_LIFETIME = timedelta(hours=24)
MAX_LABEL = 20


class FamilyLink(db.Model):
    """A parent's invitation and, once confirmed, the family member it links."""

    __tablename__ = "family_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    parent_label: Mapped[str] = mapped_column(String(MAX_LABEL))  # how the family calls the parent: 张阿姨
    member_label: Mapped[str | None] = mapped_column(String(MAX_LABEL))  # who the member is: 儿子小张
    created_at = mapped_column(UTCDateTime, nullable=False)
    expires_at = mapped_column(UTCDateTime, nullable=False)
    linked_at = mapped_column(UTCDateTime, nullable=True)
    removed_at = mapped_column(UTCDateTime, nullable=True)
    parent: Mapped[Resident] = relationship(foreign_keys=[parent_id])
    member: Mapped[Resident | None] = relationship(foreign_keys=[member_id])


def _active():
    return select(FamilyLink).where(FamilyLink.member_id.is_not(None), FamilyLink.removed_at.is_(None))


def members_of(parent_id):
    """The parent's linked family members (links), oldest first."""
    return db.session.scalars(_active().where(FamilyLink.parent_id == parent_id).order_by(FamilyLink.id)).all()


def parents_of(member_id):
    """The links that let this resident act for a parent, oldest first."""
    return db.session.scalars(_active().where(FamilyLink.member_id == member_id).order_by(FamilyLink.id)).all()


def link_between(member_id, parent_id):
    """The active link that lets member act for parent, or None."""
    if member_id is None or parent_id is None:
        return None
    return db.session.scalar(_active().where(FamilyLink.member_id == member_id, FamilyLink.parent_id == parent_id)
                             .order_by(FamilyLink.id).limit(1))


def family_of(resident_ids):
    """The family members of these residents, each once, in the order linked (notifications go to them too)."""
    if not resident_ids:
        return ()
    rows = db.session.scalars(select(FamilyLink.member_id).where(
        FamilyLink.parent_id.in_(resident_ids), FamilyLink.member_id.is_not(None),
        FamilyLink.removed_at.is_(None)).order_by(FamilyLink.id)).all()
    return tuple(dict.fromkeys(rows))
