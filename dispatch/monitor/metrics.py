"""The figures the dashboards show, read from the facts and the daily rollup (the fast path).

A Selection says which tickets (where, when, what); figures() counts them, optionally grouped by street,
community, category, volunteer, department, channel or status; trend() adds the rollup up by week or month;
overdue() reads the live tickets. timeline.py computes the same figures straight from the timeline, and the
tests and `make bench` check that the two agree.
"""
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, literal, select, text
from sqlalchemy.orm import joinedload

from dispatch.extensions import db
from dispatch.monitor.counters import DAILY_COUNTS, LISTED, rates
from dispatch.monitor.facts import percentile
from dispatch.monitor.models import DailyRollup, TicketFact
from dispatch.monitor.refresh import daily_columns, fact_condition
from dispatch.org.models import Community, Department, Street, User
from dispatch.tickets.lifecycle import STATUS_LABELS, Status
from dispatch.tickets.models import CHANNEL_LABELS, Category, Channel, Ticket
from dispatch.tickets import queries
from dispatch.tickets.queries import overdue as overdue_condition
from dispatch.timeutil import SHANGHAI

HOURS = ("response_p50", "response_p90", "resolution_p50", "resolution_p90")
HOUR_SOURCES = {"response_p50": ("response_hours", 0.5), "response_p90": ("response_hours", 0.9),
                "resolution_p50": ("resolution_hours", 0.5), "resolution_p90": ("resolution_hours", 0.9)}
# How many tickets each percentile is taken over (those with that time), shown beside the median.
SAMPLES = {"response_n": "response_hours", "resolution_n": "resolution_hours"}
GROUPS = {"street": "street_id", "community": "community_id", "category": "category_id",
          "volunteer": "handler_user_id", "department": "department_id", "channel": "channel", "status": "status"}
GROUP_LABELS = {"street": "街道", "community": "社区", "category": "类别", "volunteer": "志愿者",
                "department": "职能部门", "channel": "渠道", "status": "状态"}
# Filters a selection may carry, as fact columns; the rollup knows only community and day.
FILTERS = ("street_id", "community_id", "category_id", "handler_user_id", "department_id", "channel", "status")


@dataclass(frozen=True)
class Selection:
    """Which tickets: created on local dates start..end (inclusive), in a street or community, filtered."""

    start: date
    end: date
    street_id: int | None = None
    community_id: int | None = None
    category_id: int | None = None
    handler_user_id: int | None = None
    department_id: int | None = None
    channel: str | None = None
    status: str | None = None

    @property
    def level(self):
        """The place the selection is about: district, street or community."""
        return "community" if self.community_id else "street" if self.street_id else "district"

    def filters(self):
        """The filters set, as {fact column: value}."""
        return {name: getattr(self, name) for name in FILTERS if getattr(self, name) is not None}

    def narrowed(self, by, key):
        """The same selection limited to one group (a row of a grouped table)."""
        return replace(self, **{GROUPS[by]: key})

    def utc_bounds(self):
        """The period as UTC instants [from, to)."""
        return (datetime.combine(self.start, time(), SHANGHAI),
                datetime.combine(self.end + timedelta(days=1), time(), SHANGHAI))


@dataclass
class Row:
    """One line of figures: the group it is about, its counts, rates and working hours."""

    key: object
    label: str
    counts: dict
    hours: dict = field(default_factory=dict)
    samples: dict = field(default_factory=dict)

    @property
    def rates(self):
        """The rates of this row's counts, in percent."""
        return rates(self.counts)


def fact_conditions(selection):
    """WHERE clauses on ticket_facts for a selection."""
    where = [TicketFact.created_day >= selection.start, TicketFact.created_day <= selection.end]
    where += [getattr(TicketFact, name) == value for name, value in selection.filters().items()]
    return where


def _postgresql():
    return db.session.get_bind().dialect.name == "postgresql"


def figures(selection, by=None):
    """The counts, rates and working-hour percentiles of the selection, one row per group (or one in all)."""
    return _figures(selection, by)[0]


def figures_and_total(selection, by):
    """The rows grouped by `by` and the total row; on PostgreSQL one scan of the facts (GROUPING SETS)."""
    if not _postgresql():
        return figures(selection, by), figures(selection)[0]
    rows, total = _figures(selection, by, with_total=True)
    return rows, total or _empty_total()


def _empty_total():
    return Row(None, "合计", dict.fromkeys(DAILY_COUNTS, 0), dict.fromkeys(HOURS), dict.fromkeys(SAMPLES, 0))


def _figures(selection, by, with_total=False):
    """(grouped rows, total row or None): one statement; the total rides along only when asked."""
    key = getattr(TicketFact, GROUPS[by]) if by else literal(None)
    counters = daily_columns()
    hours = {name: func.percentile_cont(fraction).within_group(getattr(TicketFact, column))
             for name, (column, fraction) in HOUR_SOURCES.items()} if _postgresql() else {}
    samples = {name: func.count(getattr(TicketFact, column)) for name, column in SAMPLES.items()}
    is_total = func.grouping(key) if with_total else literal(0)
    query = select(key.label("key"), is_total.label("is_total"), *(c.label(n) for n, c in counters.items()),
                   *(h.label(n) for n, h in {**hours, **samples}.items())).where(*fact_conditions(selection))
    if with_total:
        query = query.group_by(func.grouping_sets(key, text("()")))
    elif by:
        query = query.group_by(key)
    found, total = {}, None
    for row in db.session.execute(query):
        if row.created and row.is_total:
            total = row._asdict()
        elif row.created:
            found[row.key] = row._asdict()
    if not hours:
        _python_hours(selection, by, found)
    labels = labels_for(by, list(found))
    rows = [row_of(key, labels.get(key, "合计"), v) for key, v in found.items()]
    if not by:
        return rows or [_empty_total()], None
    return rows, row_of(None, "合计", total) if total else None


def row_of(key, label, values):
    """A Row from a mapping holding the counters and the hours."""
    return Row(key, label, {n: int(values[n] or 0) for n in DAILY_COUNTS}, {n: _rounded(values.get(n)) for n in HOURS},
               {n: int(values.get(n) or 0) for n in SAMPLES})


def _python_hours(selection, by, found):
    """Percentiles where the database has no percentile_cont (SQLite): the same interpolation in Python."""
    key = getattr(TicketFact, GROUPS[by]) if by else literal(None)
    values = defaultdict(lambda: {"response_hours": [], "resolution_hours": []})
    for row_key, response, resolution in db.session.execute(
            select(key, TicketFact.response_hours, TicketFact.resolution_hours).where(*fact_conditions(selection))):
        values[row_key]["response_hours"].append(response)
        values[row_key]["resolution_hours"].append(resolution)
    for row_key, row in found.items():
        for name, (column, fraction) in HOUR_SOURCES.items():
            row[name] = percentile(values[row_key][column], fraction)


def _rounded(value):
    return None if value is None else round(float(value), 2)


def labels_for(by, keys):
    """Readable names for group keys."""
    ids = [k for k in keys if k is not None]
    if by == "channel":
        return {k: CHANNEL_LABELS[Channel(k)] for k in ids}
    if by == "status":
        return {k: STATUS_LABELS[Status(k)] for k in ids}
    model, name = {"street": (Street, Street.name), "community": (Community, Community.name),
                   "category": (Category, Category.name), "volunteer": (User, User.display_name),
                   "department": (Department, Department.name)}.get(by, (None, None))
    if model is None or not ids:
        return {None: "未指定"} if by else {}
    found = dict(db.session.execute(select(model.id, name).where(model.id.in_(ids))).all())
    return {**found, None: "未指定"}


# ---- trends: the rollup by week or month ----

def bucket_of(day, grain):
    """The first day of the week (Monday) or month holding a day."""
    return day - timedelta(days=day.weekday()) if grain == "week" else day.replace(day=1)


def buckets(end, grain, count):
    """The first days of the `count` weeks or months up to and including the one holding `end`."""
    first = bucket_of(end, grain)
    found = [first]
    while len(found) < count:
        previous = found[-1] - timedelta(days=1)
        found.append(bucket_of(previous, grain))
    return found[::-1]


@dataclass
class Trend:
    """Counts per bucket (week or month) and per group: series[key][bucket] = counts."""

    grain: str
    buckets: list
    labels: dict
    series: dict

    def rate_line(self, key, rate_name):
        """One group's rate, bucket by bucket (None where there were no tickets)."""
        return [rates(self.series[key].get(b, {})).get(rate_name) for b in self.buckets]

    def total_line(self, rate_name):
        """The rate over all groups, bucket by bucket."""
        return [rates(self.total(b)).get(rate_name) for b in self.buckets]

    def total(self, bucket):
        """All groups' counts in one bucket."""
        summed = defaultdict(int)
        for per_bucket in self.series.values():
            for name, value in per_bucket.get(bucket, {}).items():
                summed[name] += value
        return dict(summed)


def trend(selection, grain="week", count=12, by=None):
    """Counts by week or month for the `count` buckets ending with the selection's end, per group."""
    wanted = buckets(selection.end, grain, count)
    span = replace(selection, start=wanted[0])
    rows = _trend_rows(span, by)
    series = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    for day, key, *values in rows:
        for name, value in zip(DAILY_COUNTS, values):
            series[key][bucket_of(day, grain)][name] += int(value or 0)
    return Trend(grain, wanted, labels_for(by, list(series)), {k: dict(v) for k, v in series.items()})


def _trend_rows(selection, by):
    """(day, group key, counters…) rows: from the rollup when it can answer, else from the facts."""
    rollup_groups = {None: literal(None), "street": DailyRollup.street_id, "community": DailyRollup.community_id}
    place_only = set(selection.filters()) <= {"street_id", "community_id"}
    if place_only and by in rollup_groups:
        key = rollup_groups[by]
        where = [DailyRollup.day >= selection.start, DailyRollup.day <= selection.end]
        if selection.street_id:
            where.append(DailyRollup.street_id == selection.street_id)
        if selection.community_id:
            where.append(DailyRollup.community_id == selection.community_id)
        sums = [func.sum(getattr(DailyRollup, name)) for name in DAILY_COUNTS]
        return db.session.execute(select(DailyRollup.day, key, *sums).where(*where)
                                  .group_by(DailyRollup.day, key)).all()
    key = getattr(TicketFact, GROUPS[by]) if by else literal(None)
    counters = daily_columns()
    return db.session.execute(select(TicketFact.created_day, key, *(counters[n] for n in DAILY_COUNTS))
                              .where(*fact_conditions(selection))
                              .group_by(TicketFact.created_day, key)).all()


# ---- live: what is overdue now ----

def _place(selection):
    """WHERE clauses on tickets for the selection's place and filters (any creation date)."""
    where = []
    if selection.community_id:
        where.append(Ticket.community_id == selection.community_id)
    elif selection.street_id:
        where.append(Ticket.community_id.in_(select(Community.id).where(Community.street_id == selection.street_id)))
    if selection.category_id:
        where.append(Ticket.category_id == selection.category_id)
    if selection.department_id:
        where.append(Ticket.department_id == selection.department_id)
    if selection.handler_user_id:
        where.append(Ticket.assignee_id == selection.handler_user_id)
    return where


def overdue_counts(selection, now, by="community"):
    """How many tickets are overdue now, per street or community of the selection's place."""
    key = Community.street_id if by == "street" else Ticket.community_id
    query = select(key, func.count()).select_from(Ticket).join(Community, Community.id == Ticket.community_id) \
        .where(overdue_condition(now), *_place(selection)).group_by(key)
    return dict(db.session.execute(query).all())


# Most urgent first (紧急, 较急, 一般, 不急): a gas smell never sorts below a question about the heating fee.
URGENT_FIRST = queries.PRIORITY_RANK


def overdue_tickets(selection, now, limit=None):
    """The overdue tickets of the selection's place: the most urgent first, then the longest overdue."""
    query = select(Ticket).where(overdue_condition(now), *_place(selection)) \
        .options(joinedload(Ticket.community), joinedload(Ticket.category), joinedload(Ticket.assignee),
                 joinedload(Ticket.department)) \
        .order_by(URGENT_FIRST, Ticket.sla_deadline_at.asc().nulls_last(), Ticket.id)
    return list(db.session.scalars(query.limit(limit) if limit else query))


# ---- the tickets behind a figure ----

# The lists a figure links to: counters.MEASURES, with their names.
MEASURE_LABELS = {name: measure.label for name, measure in LISTED.items()}


def behind(selection, measure, limit=None, offset=0):
    """The tickets a figure counts, newest first, with their facts: [(ticket, fact)], and how many in all."""
    condition = fact_condition(LISTED[measure])
    where = fact_conditions(selection) + ([condition] if condition is not None else [])
    total = db.session.scalar(select(func.count()).select_from(TicketFact).where(*where))
    query = select(Ticket, TicketFact).join(TicketFact, TicketFact.ticket_id == Ticket.id).where(*where) \
        .order_by(TicketFact.created_at.desc(), TicketFact.ticket_id.desc()).offset(offset)
    return db.session.execute(query.limit(limit) if limit else query).all(), total
