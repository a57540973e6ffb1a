"""Read-side queries over tickets: the filtered, paginated list and the counts by status."""
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload

from dispatch.extensions import db
from dispatch.org.models import Community, Street
from dispatch.tickets.lifecycle import OPEN_STATUSES
from dispatch.tickets.models import Category, Ticket
from dispatch.tickets.scopes import visible


@dataclass
class Page:
    """One page of results and what is needed to ask for the next."""

    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self):
        """How many pages there are in all."""
        return max(1, -(-self.total // self.per_page))


def overdue(now):
    """Open, running tickets past their resolution deadline, or past their response deadline and not answered."""
    late_response = and_(Ticket.response_due_at < now, Ticket.responded_at.is_(None))
    return and_(Ticket.status.in_(OPEN_STATUSES), Ticket.sla_paused_at.is_(None),
                or_(Ticket.resolution_due_at < now, late_response))


def is_overdue(ticket, at):
    """The same rule as overdue(), for one loaded ticket (the queue marks late rows with it)."""
    if ticket.status not in OPEN_STATUSES or ticket.sla_paused_at is not None:
        return False
    late_response = ticket.response_due_at and ticket.response_due_at < at and not ticket.responded_at
    return bool(late_response or (ticket.resolution_due_at and ticket.resolution_due_at < at))


def conditions(principal, filters, now, with_status=True):
    """The WHERE clauses for a caller's scope and a set of list filters."""
    where = [visible(principal)]
    if with_status and filters.get("status"):
        where.append(Ticket.status.in_(filters["status"]))
    if filters.get("channel"):
        where.append(Ticket.channel.in_(filters["channel"]))
    if filters.get("community"):
        where.append(Ticket.community_id.in_(select(Community.id).where(Community.code == filters["community"])))
    if filters.get("street"):
        streets = select(Community.id).join(Street).where(Street.code == filters["street"])
        where.append(Ticket.community_id.in_(streets))
    if filters.get("category"):
        where.append(Ticket.category_id.in_(select(Category.id).where(Category.code == filters["category"])))
    if filters.get("created_from"):
        where.append(Ticket.created_at >= filters["created_from"])
    if filters.get("created_to"):
        where.append(Ticket.created_at < filters["created_to"])
    if filters.get("overdue"):
        where.append(overdue(now))
    if filters.get("q"):
        like = f"%{filters['q']}%"
        where.append(or_(Ticket.number.like(like), Ticket.description.like(like), Ticket.address.like(like)))
    return where


NEWEST = (Ticket.created_at.desc(), Ticket.id.desc())
# The queue's orders: newest first (the default), or the deadline that matters now, soonest first, tickets
# without a running clock last.
SORTS = {"newest": NEWEST,
         "time_left": (Ticket.sla_deadline_at.asc().nulls_last(), *NEWEST)}  # NULLS LAST: the index serves it
SORT_LABELS = {"newest": "最新创建", "time_left": "按剩余时间"}


def list_tickets(principal, filters, now, page=1, per_page=20, sort="newest"):
    """A page of the caller's tickets (newest first unless sort says otherwise), what the list shows loaded."""
    where = conditions(principal, filters, now)
    total = db.session.scalar(select(func.count(Ticket.id)).where(*where))
    query = (select(Ticket).where(*where).order_by(*SORTS.get(sort, NEWEST))
             .options(joinedload(Ticket.community), joinedload(Ticket.category))
             .limit(per_page).offset((page - 1) * per_page))
    return Page(db.session.scalars(query).all(), page, per_page, total)


def counts_by_status(principal, filters, now):
    """How many of the caller's tickets stand in each state, under every filter but status."""
    where = conditions(principal, filters, now, with_status=False)
    rows = db.session.execute(select(Ticket.status, func.count(Ticket.id)).where(*where).group_by(Ticket.status))
    return {status: count for status, count in rows}
