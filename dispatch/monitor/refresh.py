"""The refresher: reads new timeline entries, rewrites the facts of the tickets they belong to, then the rollup.

Runs as the scheduler job `monitor-refresh` and as `flask monitor refresh|rebuild`. It follows the timeline by
entry id. A transaction that took its ids early may commit after later ids were read, so each run looks again
at the last OVERLAP ids and takes any entry newer than what its ticket's fact has read: late commits are
caught, and nothing is read twice for nothing.
"""
import logging
from collections import defaultdict

from sqlalchemy import and_, case, delete, func, insert, select, text, tuple_

from dispatch.extensions import db
from dispatch.monitor.counters import COUNTERS
from dispatch.monitor.facts import Entry, TicketRow, fact_of, value_of
from dispatch.monitor.models import DailyRollup, MonitorMark, TicketFact
from dispatch.org.models import Community
from dispatch.org.services import community_by_id
from dispatch.sla.calendars import calendar_for
from dispatch.statements import dialect
from dispatch.tickets.lifecycle import RATING
from dispatch.tickets.models import Ticket, TicketEvent

log = logging.getLogger(__name__)
MARK = "facts"
OVERLAP = 5000  # timeline ids looked at again each run, for transactions that commit late
STEP = 20000  # timeline ids read per batch
FACT_KEYS = [c.key for c in TicketFact.__table__.columns]
# counters.OPERATORS in SQL: a measure's conditions read the same over ticket_facts as over a fact in Python.
SQL_OPERATORS = {
    "is": lambda column, value: column.is_(value),
    "is not": lambda column, value: column.is_not(value),
    "in": lambda column, value: column.in_(value),
    ">": lambda column, value: column > value,
}


def run_refresh(now):
    """Scheduler job: bring the facts and the rollup up to the newest timeline entry; returns tickets refreshed."""
    mark = db.session.get(MonitorMark, MARK) or MonitorMark(name=MARK, last_event_id=0)
    top = db.session.scalar(select(func.max(TicketEvent.id))) or 0
    low, done = max(0, mark.last_event_id - OVERLAP), 0
    while low < top:
        high = min(top, low + STEP)
        done += refresh_tickets(_changed_tickets(low, high))
        low = high
    mark.last_event_id, mark.refreshed_at = max(top, mark.last_event_id), now
    db.session.add(mark)
    db.session.commit()
    return done


def rebuild(now):
    """Throw the facts and the rollup away and read the whole timeline again; returns tickets refreshed."""
    db.session.execute(delete(DailyRollup))
    db.session.execute(delete(TicketFact))
    db.session.execute(delete(MonitorMark).where(MonitorMark.name == MARK))
    db.session.commit()
    done = run_refresh(now)
    _analyze()
    return done


def _analyze():
    """Fresh statistics after a rebuild: autovacuum may not reach the new rows for half an hour, and until then
    the planner guesses a few thousand facts where there are millions (a sort spilled to disk at 2M)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("ANALYZE ticket_facts"))
        db.session.execute(text("ANALYZE monitor_daily"))
        db.session.commit()


def _changed_tickets(low, high):
    """Tickets with an entry in (low, high] that their fact has not read yet."""
    known = select(TicketFact.last_event_id).where(TicketFact.ticket_id == TicketEvent.ticket_id) \
        .scalar_subquery()
    return list(db.session.scalars(select(TicketEvent.ticket_id).distinct().where(
        TicketEvent.id > low, TicketEvent.id <= high, TicketEvent.id > func.coalesce(known, 0))))


def refresh_tickets(ticket_ids):
    """Rewrite the facts of these tickets from their timelines, then the rollup days they touch."""
    if not ticket_ids:
        return 0
    calendar_of = calendars()
    facts = [fact_of(row, entries, calendar_of(row.community_id)) for row, entries in _timelines(ticket_ids)]
    days = _days_of(ticket_ids) | {(f["community_id"], f["created_day"]) for f in facts}
    _upsert(facts)
    refresh_days(days)
    db.session.commit()
    return len(facts)


def calendars():
    """community id → its working calendar, each looked up once (the cached look-ups cost more than a fact)."""
    found = {}

    def calendar_of(community_id):
        if community_id not in found:
            found[community_id] = calendar_for(community_by_id(community_id))
        return found[community_id]
    return calendar_of


def _timelines(ticket_ids):
    """Each ticket's row and its timeline entries in order."""
    tickets = db.session.execute(select(
        Ticket.id, Ticket.community_id, Community.street_id, Ticket.category_id,
        Ticket.assignee_id.label("handler_user_id"), Ticket.department_id, Ticket.channel, Ticket.status,
        Ticket.created_at, Ticket.response_due_at, Ticket.resolution_due_at,
    ).join(Community, Community.id == Ticket.community_id).where(Ticket.id.in_(ticket_ids))).all()
    entries = defaultdict(list)
    rating = case((TicketEvent.kind.in_(RATING), TicketEvent.data["rating"].as_string()))
    for ticket_id, *entry in db.session.execute(
            select(TicketEvent.ticket_id, TicketEvent.id, TicketEvent.kind, TicketEvent.at, rating)
            .where(TicketEvent.ticket_id.in_(ticket_ids)).order_by(TicketEvent.id)):
        entries[ticket_id].append(Entry(*entry))
    for row in tickets:
        values = row._asdict()
        values["channel"], values["status"] = value_of(values["channel"]), value_of(values["status"])
        yield TicketRow(**values), entries[row.id]


def _days_of(ticket_ids):
    """The (community, day) keys these tickets' facts had before: a moved ticket must leave its old day."""
    return set(db.session.execute(select(TicketFact.community_id, TicketFact.created_day)
                                  .where(TicketFact.ticket_id.in_(ticket_ids))).all())


def _upsert(facts):
    """Insert or replace fact rows, one statement for the batch (Core: the ORM's bulk path adds nothing here)."""
    statement = dialect().insert(TicketFact.__table__)
    statement = statement.on_conflict_do_update(
        index_elements=["ticket_id"], set_={key: statement.excluded[key] for key in FACT_KEYS if key != "ticket_id"})
    db.session.connection().execute(statement, facts)


def fact_condition(measure):
    """A measure's conditions as SQL over ticket_facts, or None when it takes every ticket."""
    tests = [SQL_OPERATORS[operator](getattr(TicketFact, field), value)
             for field, operator, value in measure.conditions]
    return and_(*tests) if tests else None


def counted(condition):
    """SQL: how many facts meet a condition (all of them for None)."""
    return func.count() if condition is None else func.sum(case((condition, 1), else_=0))


def daily_columns():
    """The rollup's counters as SQL over ticket_facts: counters.COUNTERS, as counts_of adds them up in Python."""
    return {name: counted(fact_condition(counter)) for name, counter in COUNTERS.items()}


def refresh_days(days):
    """Recount the rollup rows of these (community, day) keys from the facts."""
    days = list(days)
    for start in range(0, len(days), 500):
        keys = days[start:start + 500]
        db.session.execute(delete(DailyRollup).where(tuple_(DailyRollup.community_id, DailyRollup.day).in_(keys)))
        columns = daily_columns()
        query = select(TicketFact.created_day, TicketFact.community_id, func.min(TicketFact.street_id),
                       *columns.values()) \
            .where(tuple_(TicketFact.community_id, TicketFact.created_day).in_(keys)) \
            .group_by(TicketFact.created_day, TicketFact.community_id)
        db.session.execute(insert(DailyRollup).from_select(["day", "community_id", "street_id", *columns], query))
