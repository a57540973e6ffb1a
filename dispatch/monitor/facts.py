"""Pure: one ticket's fact row read off its timeline, and the figures over many (rates, percentiles).

No Flask and no database here: the refresher feeds it rows, the timeline check feeds it the same, tests feed
it lists. The formulas are stated once, in FORMULAS, and the pages print them.
"""
from dataclasses import dataclass
from datetime import datetime

from dispatch.sla.calendar import working_minutes_between
from dispatch.tickets.lifecycle import ANSWERING as STOPS_RESPONSE
from dispatch.localtime import SHANGHAI, as_utc

SATISFIED = frozenset({"satisfied", "basically_satisfied"})
NOT_COUNTED = frozenset({"invalid", "merged"})  # 作废 and 合并 tickets are no one's work: outside every rate
RESOLVED = frozenset({"resolved", "closed"})
# The counters of a set of tickets (and of the daily rollup), each a number of tickets with that property.
DAILY_COUNTS = ("created", "valid", "responded", "responded_on_time", "resolved", "resolved_on_time", "rated",
                "satisfied", "reopened", "returned", "extended")

# name → (numerator, denominator): both are counts of tickets, so each side links to its list.
RATES = {
    "response_rate": ("responded_on_time", "valid"),
    "resolution_rate": ("resolved", "valid"),
    "satisfaction_rate": ("satisfied", "rated"),
    "on_time_resolution_rate": ("resolved_on_time", "valid"),
    "reopen_rate": ("reopened", "valid"),
}
RATE_LABELS = {"response_rate": "响应率", "resolution_rate": "解决率", "satisfaction_rate": "满意率",
               "on_time_resolution_rate": "按时办结率", "reopen_rate": "重办率"}
FORMULAS = {
    "response_rate": "响应率 = 按时响应的工单 ÷ 有效工单。响应指第一次受理、办结、作废或合并，"
                     "按时指不晚于工单的响应时限（暂停和批准的延期已计入时限）；没有时限的工单，响应即算按时。",
    "resolution_rate": "解决率 = 现在已办结或已关闭的工单 ÷ 有效工单。重办后尚未再次办结的不算解决。",
    "satisfaction_rate": "满意率 =（满意 + 基本满意）÷ 已评价的有效工单。评价取最近一次：居民自评，"
                         "或回访时记录的满意度。",
    "on_time_resolution_rate": "按时办结率 = 最近一次办结不晚于办结时限、现在仍为已办结或已关闭的工单 ÷ 有效工单。",
    "reopen_rate": "重办率 = 至少重办过一次的工单 ÷ 有效工单；重办计入工单所在社区。",
    "valid": "有效工单 = 统计期内（按北京时间的创建日期）创建、未作废也未合并的工单。",
    "hours": "响应用时、办结用时按工作时间计（社区办公时间和法定工作日），从创建到第一次响应、到最近一次办结；"
             "中位数和 90 分位数只计有该时间的工单。",
    "overdue": "当前超时 = 现在未办结、未暂停，且已过办结时限，或已过响应时限仍未响应的工单（不限统计期）。",
}


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
    first_response = next((e.at for e in entries if e.kind in STOPS_RESPONSE), None)
    resolved = ticket.status in RESOLVED
    last_resolve = max((e.at for e in entries if e.kind == "resolve"), default=None) if resolved else None
    rating = next((e.rating for e in reversed(entries) if e.kind == "rated" and e.rating), None)
    count = lambda kind: sum(1 for e in entries if e.kind == kind)  # noqa: E731
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
        "returns": count("return"), "extensions": count("request_extension"), "reopenings": count("reopen"),
        "rating": rating, "last_event_id": max((e.id for e in entries), default=0),
    }


def counts_of(fact):
    """What one fact adds to each counter of the rollup (and of any figure)."""
    valid = fact["valid"]
    return {
        "created": 1, "valid": int(valid),
        "responded": int(valid and fact["responded"]),
        "responded_on_time": int(valid and fact["responded_on_time"]),
        "resolved": int(valid and fact["resolved"]),
        "resolved_on_time": int(valid and fact["resolved_on_time"]),
        "rated": int(valid and fact["rating"] is not None),
        "satisfied": int(valid and fact["rating"] in SATISFIED),
        "reopened": int(valid and fact["reopenings"] > 0),
        "returned": int(valid and fact["returns"] > 0),
        "extended": int(valid and fact["extensions"] > 0),
    }


def rate(numerator, denominator):
    """A percentage with one decimal, or None when there is nothing to divide by."""
    return round(100 * numerator / denominator, 1) if denominator else None


def rates(counts):
    """The rates of a set of counters."""
    return {name: rate(counts.get(top, 0), counts.get(bottom, 0)) for name, (top, bottom) in RATES.items()}


def percentile(values, fraction):
    """The fraction-th percentile with linear interpolation, as PostgreSQL's percentile_cont; None if empty."""
    ordered = sorted(v for v in values if v is not None)
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
