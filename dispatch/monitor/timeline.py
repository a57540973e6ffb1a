"""The same figures as metrics.figures, computed straight from the tickets and their timelines (the slow path).

No facts and no rollup: one query aggregates each ticket's timeline entries, and the counters and
percentiles are worked out here. The tests and `make bench` compare the two paths.
"""
from collections import defaultdict

from sqlalchemy import case, func, select

from dispatch.extensions import db
from dispatch.monitor.counters import DAILY_COUNTS, counts_of
from dispatch.monitor.facts import NOT_COUNTED, RESOLVED, local_day, on_time, percentile, value_of, working_hours
from dispatch.monitor.metrics import GROUPS, HOUR_SOURCES, SAMPLES, labels_for, row_of
from dispatch.monitor.refresh import calendars
from dispatch.org.models import Community
from dispatch.tickets.lifecycle import ANSWERING, COUNTED, RATING, RESOLVING, kinds_counted_as
from dispatch.tickets.models import Ticket, TicketEvent

TICKET_KEYS = {"street_id": Community.street_id, "community_id": Ticket.community_id,
               "category_id": Ticket.category_id, "handler_user_id": Ticket.assignee_id,
               "department_id": Ticket.department_id, "channel": Ticket.channel, "status": Ticket.status}


def _when(condition, value):
    return case((condition, value))


def _per_ticket(selection):
    """One row per ticket of the selection with its timeline summed up."""
    kind = TicketEvent.kind
    starts, ends = selection.utc_bounds()
    query = select(
        Ticket.id, Ticket.status, Ticket.created_at, Ticket.response_due_at, Ticket.resolution_due_at,
        Ticket.community_id, *(column.label(name) for name, column in TICKET_KEYS.items() if name != "community_id"),
        func.min(_when(kind.in_(ANSWERING), TicketEvent.at)).label("first_response"),
        func.max(_when(kind.in_(RESOLVING), TicketEvent.at)).label("last_resolve"),
        func.max(_when(kind.in_(RATING), TicketEvent.id)).label("last_rated_id"),
        *(func.sum(_when(kind.in_(kinds_counted_as(m)), 1)).label(m) for m in COUNTED),
    ).join(Community, Community.id == Ticket.community_id).join(TicketEvent, TicketEvent.ticket_id == Ticket.id) \
        .where(Ticket.created_at >= starts, Ticket.created_at < ends,
               *(TICKET_KEYS[name] == value for name, value in selection.filters().items())) \
        .group_by(Ticket.id, Community.street_id)
    return db.session.execute(query).all()


def _ratings(event_ids):
    """The rating each of these 'rated' entries recorded."""
    found = {}
    ids = [i for i in event_ids if i]
    for start in range(0, len(ids), 5000):
        found.update(db.session.execute(select(TicketEvent.id, TicketEvent.data["rating"].as_string())
                                        .where(TicketEvent.id.in_(ids[start:start + 5000]))).all())
    return found


def _fact_fields(ticket, rating):
    """The fact fields the counters read, worked out from one ticket's summed-up timeline (not from its fact)."""
    status = value_of(ticket.status)
    resolved = status in RESOLVED
    return {"valid": status not in NOT_COUNTED, "responded": ticket.first_response is not None,
            "responded_on_time": on_time(ticket.first_response, ticket.response_due_at), "resolved": resolved,
            "resolved_on_time": resolved and on_time(ticket.last_resolve, ticket.resolution_due_at),
            "rating": rating, **{measure: getattr(ticket, measure) or 0 for measure in COUNTED}}


def _hours(ticket, calendar):
    """Working hours to the first response and to the latest resolution (if resolved now)."""
    resolved_at = ticket.last_resolve if value_of(ticket.status) in RESOLVED else None
    return {"response_hours": working_hours(calendar, ticket.created_at, ticket.first_response),
            "resolution_hours": working_hours(calendar, ticket.created_at, resolved_at)}


def figures_from_timeline(selection, by=None):
    """metrics.figures(selection, by), computed from the timeline alone."""
    tickets = [t for t in _per_ticket(selection)
               if selection.start <= local_day(t.created_at) <= selection.end]
    ratings = _ratings([t.last_rated_id for t in tickets])
    counts = defaultdict(lambda: dict.fromkeys(DAILY_COUNTS, 0))
    values = defaultdict(lambda: defaultdict(list))
    calendar_of = calendars()
    for ticket in tickets:
        key = value_of(getattr(ticket, GROUPS[by])) if by else None
        for name, value in counts_of(_fact_fields(ticket, ratings.get(ticket.last_rated_id))).items():
            counts[key][name] += value
        for column, hours in _hours(ticket, calendar_of(ticket.community_id)).items():
            values[key][column].append(hours)
    labels = labels_for(by, list(counts))
    return [row_of(key, labels.get(key, "合计"), {
        **counted, **{name: percentile(values[key][column], fraction) for name, (column, fraction) in HOUR_SOURCES.items()},
        **{name: sum(v is not None for v in values[key][column]) for name, column in SAMPLES.items()}})
        for key, counted in counts.items()]

