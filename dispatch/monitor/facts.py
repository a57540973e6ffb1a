"""Pure: one ticket's fact row read off its timeline, and the percentiles of many.

No Flask and no database here: the refresher feeds it rows, the timeline check feeds it the same, tests feed
it lists. What a fact counts for, and the rates and formulas, are defined once in monitor/counters.py.
"""
from dataclasses import dataclass
from datetime import datetime

# The pages, the charts and the bench read the rates and formulas here.
from dispatch.monitor.counters import FORMULAS, RATE_LABELS, RATES, rate  # noqa: F401
from dispatch.sla.calendar import working_minutes_between
from dispatch.localtime import SHANGHAI, as_utc
from dispatch.tickets.lifecycle import ANSWERING, COUNTED, RATING, RESOLVING, kinds_counted_as

NOT_COUNTED = frozenset({"invalid", "merged"})  # 作废 and 合并 tickets are no one's work: their facts are not valid
RESOLVED = frozenset({"resolved", "closed"})


@dataclass(frozen=True)
class Entry:
    """One timeline entry as the facts need it."""

    id: int
    kind: str
    at: datetime
    rating: str | None = None


@dataclass(frozen=True)
class TicketRow:
    """The ticket columns a fact reads besides its timeline."""

    id: int
    community_id: int
    street_id: int
    category_id: int | None
    handler_user_id: int | None
    department_id: int | None
    channel: str
    status: str
    created_at: datetime
    response_due_at: datetime | None
    resolution_due_at: datetime | None


def local_day(instant):
    """The Asia/Shanghai date of an instant: periods and trend buckets are local dates."""
    return as_utc(instant).astimezone(SHANGHAI).date()


def on_time(at, due):
    """Whether something happened, no later than its deadline (no deadline: any time is in time)."""
    return at is not None and (due is None or as_utc(at) <= as_utc(due))


def working_hours(calendar, start, end):
    """Working hours from start to end, or None when end never came."""
    return None if end is None else round(working_minutes_between(calendar, start, end) / 60, 4)


def value_of(member):
    """An enum's stored value (rows may hand back the enum or its string)."""
    return getattr(member, "value", member)


def fact_of(ticket, entries, calendar):
    """The fact row of one ticket from its timeline entries (in id order) and its community's calendar."""
    first_response = next((e.at for e in entries if e.kind in ANSWERING), None)
    resolved = ticket.status in RESOLVED
    last_resolve = max((e.at for e in entries if e.kind in RESOLVING), default=None) if resolved else None
    rating = next((e.rating for e in reversed(entries) if e.kind in RATING and e.rating), None)
    counted = {measure: kinds_counted_as(measure) for measure in COUNTED}
    return {
        "ticket_id": ticket.id, "community_id": ticket.community_id, "street_id": ticket.street_id,
        "category_id": ticket.category_id, "handler_user_id": ticket.handler_user_id,
        "department_id": ticket.department_id, "channel": ticket.channel, "status": ticket.status,
        "created_at": ticket.created_at, "created_day": local_day(ticket.created_at),
        "valid": ticket.status not in NOT_COUNTED,
        "responded": first_response is not None,
        "responded_on_time": on_time(first_response, ticket.response_due_at),
        "resolved": resolved, "resolved_on_time": resolved and on_time(last_resolve, ticket.resolution_due_at),
        "response_hours": working_hours(calendar, ticket.created_at, first_response),
        "resolution_hours": working_hours(calendar, ticket.created_at, last_resolve),
        **{measure: sum(1 for e in entries if e.kind in kinds) for measure, kinds in counted.items()},
        "rating": rating, "last_event_id": max((e.id for e in entries), default=0),
    }


def percentile(values, fraction):
    """The fraction-th percentile with linear interpolation, as PostgreSQL's percentile_cont; None if empty."""
    ordered = sorted(v for v in values if v is not None)
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
