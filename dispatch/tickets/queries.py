"""Read-side queries over tickets: the filtered, paginated list and the counts by status."""
from dataclasses import dataclass

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import joinedload

from dispatch.extensions import db
from dispatch.org.models import Community, Street
from dispatch.org.roles import COMMUNITY_ROLES
from dispatch.tickets.lifecycle import OPEN_STATUSES, Status
from dispatch.tickets.models import Category, Priority, Ticket
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


# What a community's managers must act on themselves: a report to take in, a ticket in their hands or handed back.
COMMUNITY_ACTION = (Status.NEW, Status.ACCEPTED, Status.RETURNED, Status.REOPENED)


def awaiting(principal, now):
    """The caller's 待我处理: for a community, tickets needing its action, open ones past their deadline and every
    open 紧急 one whoever holds it (a fall is followed until it is done); for everyone else (street, district,
    department, volunteer) every open ticket in their scope."""
    if principal.role in COMMUNITY_ROLES:
        urgent_open = and_(Ticket.priority == Priority.URGENT, Ticket.status.in_(OPEN_STATUSES))
        return or_(Ticket.status.in_(COMMUNITY_ACTION), overdue(now), urgent_open)
    return Ticket.status.in_(OPEN_STATUSES)


FINISHED = tuple(sorted(set(Status) - OPEN_STATUSES, key=lambda s: s.value))
# The queue's views: what awaits the caller (the default), everything still open, what has ended, everything.
VIEWS = {"mine": awaiting,
         "open": lambda principal, now: Ticket.status.in_(OPEN_STATUSES),
         "done": lambda principal, now: Ticket.status.in_(FINISHED),
         "all": None}
VIEW_LABELS = {"mine": "待我处理", "open": "全部在办", "done": "已结束", "all": "全部"}


def conditions(principal, filters, now, with_status=True):
    """The WHERE clauses for a caller's scope and a set of list filters (a view, or statuses, and the rest)."""
    where = [visible(principal)]
    if with_status and filters.get("status"):
        where.append(Ticket.status.in_(filters["status"]))
    elif with_status and VIEWS.get(filters.get("view")):
        where.append(VIEWS[filters["view"]](principal, now))
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
TIME_LEFT = (Ticket.sla_deadline_at.asc().nulls_last(), *NEWEST)  # NULLS LAST: the index serves it
# The queue's orders: most urgent first (紧急, 较急, 一般, 不急; within each the least time left, overdue first: the
# console's default), the deadline that matters now soonest first (tickets without a running clock last), or newest
# first (the API's). The monitor's overdue lists use the same rank, so every list reads alike.
PRIORITY_RANK = case(*((Ticket.priority == p, rank) for rank, p in enumerate(Priority)), else_=len(Priority))
URGENT_OPEN_FIRST = case((Ticket.status.in_(OPEN_STATUSES), PRIORITY_RANK), else_=len(Priority))  # ended: no one waits
SORTS = {"urgent": (URGENT_OPEN_FIRST, *TIME_LEFT),
         "time_left": TIME_LEFT,
         "newest": NEWEST}
SORT_LABELS = {"urgent": "紧急优先", "time_left": "按剩余时间", "newest": "最新创建"}


def list_tickets(principal, filters, now, page=1, per_page=20, sort="newest", holders=False):
    """A page of the caller's tickets (newest first unless sort says otherwise), what the list shows loaded
    (with holders: the volunteer or department holding each, for the console's 承办 column)."""
    where = conditions(principal, filters, now)
    total = db.session.scalar(select(func.count(Ticket.id)).where(*where))
    loads = [joinedload(Ticket.community), joinedload(Ticket.category)]
    if holders:
        loads += [joinedload(Ticket.assignee), joinedload(Ticket.department)]
    query = (select(Ticket).where(*where).order_by(*SORTS.get(sort, NEWEST)).options(*loads)
             .limit(per_page).offset((page - 1) * per_page))
    return Page(db.session.scalars(query).all(), page, per_page, total)


def counts_by_status(principal, filters, now):
    """How many of the caller's tickets stand in each state, under every filter but status."""
    where = conditions(principal, filters, now, with_status=False)
    rows = db.session.execute(select(Ticket.status, func.count(Ticket.id)).where(*where).group_by(Ticket.status))
    return {status: count for status, count in rows}


def counts_by_view(principal, filters, now):
    """How many of the caller's tickets each view holds, under every filter but status and view (one query)."""
    where = conditions(principal, {k: v for k, v in filters.items() if k != "view"}, now, with_status=False)
    columns = [func.count(Ticket.id) if cond is None else func.count(case((cond(principal, now), 1)))
               for cond in VIEWS.values()]
    return dict(zip(VIEWS, db.session.execute(select(*columns).where(*where)).one()))


def changed_since(principal, since, now, limit=100):
    """The caller's tickets written after `since` (oldest first, at most `limit`), as small rows for the live poll,
    each saying whether it now awaits the caller.

    Reads the updated_at index only past `since`: a few rows however large the table."""
    columns = (Ticket.id, Ticket.number, Ticket.version, Ticket.status, Ticket.priority, Ticket.created_at,
               Ticket.updated_at, Ticket.description, case((awaiting(principal, now), True), else_=False))
    query = (select(*columns).where(Ticket.updated_at > since, visible(principal))
             .order_by(Ticket.updated_at, Ticket.id).limit(limit))
    return db.session.connection().execute(query).all()  # Core: no ORM bookkeeping for a poll's few rows
