"""The SLA sweep (every minute): each warning, breach and escalation point fires exactly once.

Only schedules whose next_at has passed are read (an index on it), so the cost follows the number due,
not the size of the table. On PostgreSQL the schedule rows are claimed FOR UPDATE SKIP LOCKED, so two sweeps
at once split the work; every UPDATE also checks the stages it read (compare-and-set), so a point that
another sweep fired in the meantime is not fired again. After a pause of hours, every missed point fires,
in order. The sweep writes the narrow sla_schedules rows and the events; a tickets row only when its
calendar cannot answer.
"""
import json
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import JSON, Integer, Text, and_, bindparam, cast, column, func, insert, or_, select, update

from dispatch.extensions import db
from dispatch.org.models import User
from dispatch.org.roles import Role
from dispatch.org.services import community_by_id
from dispatch.sla.calendar import CalendarUnknown
from dispatch.sla.calendars import calendar_for
from dispatch.sla.models import CHAIN_LABELS, SlaPolicy, SlaSchedule
from dispatch.sla.services import CLOCK_LABELS, CLOCKS, next_point
from dispatch.tickets.models import Ticket, TicketEvent
from dispatch.tickets.news import announce_sla
from dispatch.timeutil import as_utc

BATCH = 1000
ACTOR = "时限监控"
# What the clock functions read of a claimed ticket and its schedule, and what the sweep writes back.
TICKET_COLUMNS = ("id", "number", "address", "community_id", "sla_policy_id", "status", "assignee_id", "responded_at", "sla_paused_at",
                  "sla_error", "response_warn_at", "response_due_at", "resolution_warn_at", "resolution_due_at")
WRITTEN = ("response_stage", "resolution_stage", "next_at")


@dataclass(frozen=True)
class PolicyView:
    """A policy as the clock functions read it, thousands of times a sweep: plain attributes, not ORM ones."""

    id: int
    chain: tuple
    response_limit: object
    resolution_limit: object
    warn_percent: int
    escalation_step_percent: int

    @classmethod
    def of(cls, policy):
        if policy is None:
            return None
        return cls(policy.id, policy.chain, policy.response_limit, policy.resolution_limit, policy.warn_percent,
                   policy.escalation_step_percent)


@dataclass
class Context:
    """What one sweep looks up once: policies, calendars and the people each escalation reaches."""

    now: object
    policies: dict = field(default_factory=dict)
    calendars: dict = field(default_factory=dict)
    directors: dict = field(default_factory=dict)
    supervisors: dict = field(default_factory=dict)
    communities: dict = field(default_factory=dict)

    def prefetch(self, rows):
        """The batch's policies, directors and supervisors in two queries, not one per policy, community, street."""
        wanted = {r["sla_policy_id"] for r in rows} - self.policies.keys() - {None}
        if wanted:
            found = db.session.scalars(select(SlaPolicy).where(SlaPolicy.id.in_(wanted)))
            self.policies.update((p.id, PolicyView.of(p)) for p in found)
        communities = {r["community_id"] for r in rows}
        streets = {self.community(c).street_id for c in communities}
        self._load_people(communities - self.directors.keys(), streets - self.supervisors.keys())

    def policy(self, policy_id):
        if policy_id not in self.policies:
            self.policies[policy_id] = PolicyView.of(db.session.get(SlaPolicy, policy_id))
        return self.policies[policy_id]

    def community(self, community_id):
        if community_id not in self.communities:
            self.communities[community_id] = community_by_id(community_id)
        return self.communities[community_id]

    def calendar(self, community_id):
        if community_id not in self.calendars:
            self.calendars[community_id] = calendar_for(self.community(community_id))
        return self.calendars[community_id]

    def people(self, role, ticket):
        """User ids a chain member stands for on this ticket."""
        if role == "assignee":
            return [ticket.assignee_id] if ticket.assignee_id else []
        # Looked up by key before any SQL is built: a batch asks this once or twice per event.
        if role == "director":
            key, cache, load = ticket.community_id, self.directors, ({ticket.community_id}, ())
        else:
            street_id = self.community(ticket.community_id).street_id
            key, cache, load = street_id, self.supervisors, ((), {street_id})
        if key not in cache:
            self._load_people(*load)
        return cache[key]

    def _load_people(self, communities, streets):
        """Active directors of these communities and supervisors of these streets, in id order, in one query."""
        self.directors.update((key, []) for key in communities)
        self.supervisors.update((key, []) for key in streets)
        if not communities and not streets:
            return
        query = (select(User.id, User.role, User.community_id, User.street_id)
                 .where(User.active, or_(and_(User.role == Role.COMMUNITY_DIRECTOR, User.community_id.in_(communities)),
                                         and_(User.role == Role.STREET_SUPERVISOR, User.street_id.in_(streets))))
                 .order_by(User.id))
        for user_id, role, community_id, street_id in db.session.execute(query):
            if role == Role.COMMUNITY_DIRECTOR:
                self.directors[community_id].append(user_id)
            else:
                self.supervisors[street_id].append(user_id)


def _event(ticket, name, stage, at, policy, context):
    """The timeline event (and the notify issue's trigger) for one point of one clock."""
    chain = policy.chain or ("director",)
    label = CLOCK_LABELS[name]
    data = {"clock": name, "stage": stage + 1, "point_at": as_utc(at).isoformat(),
            "due_at": as_utc(getattr(ticket, f"{name}_due_at")).isoformat(), "notify": True}
    if stage == 0:
        kind, note = "sla_warning", f"{label}时限即将到期（已用 {policy.warn_percent}%）"
        role = chain[0]
    else:
        role = chain[min(stage - 1, len(chain) - 1)]
        kind = "sla_breach" if stage == 1 else "sla_escalation"
        note = (f"{label}时限已到，已告知{CHAIN_LABELS[role]}" if stage == 1
                else f"{label}超时未办，升级至{CHAIN_LABELS[role]}")
    if role == "assignee" and not ticket.assignee_id:
        role = "director"  # nobody holds it yet: the community answers for it
    data.update(to_role=role, to_user_ids=context.people(role, ticket))
    return {"ticket_id": ticket.id, "at": context.now, "kind": kind, "actor_user_id": None, "actor_label": ACTOR,
            "from_status": None, "to_status": None, "note": note, "data": data}


def fire_due_points(ticket, policy, calendar, context):
    """Advance the ticket's stages past every point at or before now.

    Returns the events, oldest point first, and the next point still to fire (None when none is left).
    """
    events = []
    now = as_utc(context.now)
    # The claimed row carries both the ticket's and its schedule's columns, so it stands for both.
    # Firing a point moves only its own clock, so only that clock's next point is counted again.
    upcoming = {name: next_point(ticket, ticket, name, policy, calendar) for name in CLOCKS}
    while True:
        due = [(at, name) for name, at in upcoming.items() if at is not None and at <= now]
        if not due:
            return events, min((at for at in upcoming.values() if at is not None), default=None)
        at, name = min(due)
        stage = getattr(ticket, f"{name}_stage")
        events.append(_event(ticket, name, stage, at, policy, context))
        setattr(ticket, f"{name}_stage", stage + 1)
        upcoming[name] = next_point(ticket, ticket, name, policy, calendar)


def _claim(now, limit):
    """The tickets with a point due, oldest first; their schedules locked, skipping those another sweep holds
    (PostgreSQL)."""
    tickets, schedules = Ticket.__table__, SlaSchedule.__table__
    query = (select(*(tickets.c[c] for c in TICKET_COLUMNS), schedules.c.response_stage, schedules.c.resolution_stage)
             .join_from(schedules, tickets, tickets.c.id == schedules.c.ticket_id)
             .where(schedules.c.next_at <= now).order_by(schedules.c.next_at).limit(limit))
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=schedules, skip_locked=True)
    return db.session.connection().execute(query).mappings().all()


def _advance(row, context):
    """(new values for the schedule row, events, the calendar's error or None) for one claimed row."""
    ticket = SimpleNamespace(**row, next_at=None)
    policy = context.policy(ticket.sla_policy_id)
    events, error = [], None
    if policy is not None:
        try:
            calendar = context.calendar(ticket.community_id)
            # What services.reschedule would set, already counted: firing never moves a deadline.
            events, ticket.next_at = fire_due_points(ticket, policy, calendar, context)
        except CalendarUnknown as exc:
            events, error, ticket.next_at = [], str(exc)[:200], None
    values = {"t_id": row["id"], "old_r": row["response_stage"], "old_s": row["resolution_stage"],
              **{c: getattr(ticket, c) for c in WRITTEN}}
    return values, events, error


def _json_value(value):
    """Datetimes as the naive UTC the columns store (json.dumps asks this for what it cannot encode itself)."""
    if isinstance(value, datetime):
        return as_utc(value).replace(tzinfo=None).isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _as_table(rows, types):
    """Dict rows as a derived table read from one JSON parameter (PostgreSQL): a batch in one statement.

    One json.dumps in C costs far less than binding a thousand rows one by one, or psycopg escaping text arrays.
    """
    payload = cast(bindparam(None, json.dumps(rows, default=_json_value), type_=Text()), JSON)
    return (func.json_to_recordset(payload).table_valued(*(column(n, t) for n, t in types.items()))
            .render_derived(name="v", with_types=True))


def _update_all(connection, values):
    """Compare-and-set every schedule in one UPDATE, not one per ticket (PostgreSQL); returns the ids it changed."""
    table = SlaSchedule.__table__
    v = _as_table(values, {"t_id": Integer(), "old_r": Integer(), "old_s": Integer(),
                           **{c: table.c[c].type for c in WRITTEN}})
    stmt = (update(table).where(table.c.ticket_id == v.c.t_id, table.c.response_stage == v.c.old_r,
                                table.c.resolution_stage == v.c.old_s)
            .values(**{c: v.c[c] for c in WRITTEN}).returning(table.c.ticket_id))
    return set(connection.execute(stmt).scalars())


def _update_each(connection, values):
    """Compare-and-set the schedules one UPDATE at a time (SQLite: no row locks, so rowcount says who won)."""
    table = SlaSchedule.__table__
    stmt = (update(table).where(and_(table.c.ticket_id == bindparam("t_id"),
                                     table.c.response_stage == bindparam("old_r"),
                                     table.c.resolution_stage == bindparam("old_s")))
            .values(**{c: bindparam(c) for c in WRITTEN}))
    return {v["t_id"] for v in values if connection.execute(stmt, v).rowcount == 1}


def _record_errors(connection, errors):
    """Tickets whose calendar could not answer: the error for the admin, no deadline to sort by (rare)."""
    table = Ticket.__table__
    stmt = (update(table).where(table.c.id == bindparam("t_id"))
            .values(sla_error=bindparam("error"), sla_deadline_at=None, version=table.c.version + 1))
    for ticket_id, error in errors.items():
        connection.execute(stmt, {"t_id": ticket_id, "error": error})


def _insert_all(connection, events):
    """The events in one INSERT ... SELECT from their JSON rows, not one INSERT each (PostgreSQL)."""
    table = TicketEvent.__table__
    rows = _as_table(events, {name: table.c[name].type for name in events[0]})
    connection.execute(insert(table).from_select(list(events[0]), select(rows)))


def _write(values, events, errors):
    """Compare-and-set every schedule, then add the events (and errors) of those whose stages nobody moved."""
    connection = db.session.connection()
    if not values:
        return 0, []
    postgres = connection.dialect.name == "postgresql"
    # On PostgreSQL the rows are locked, so every one should match; RETURNING says which did rather than assuming.
    won = _update_all(connection, values) if postgres else _update_each(connection, values)
    _record_errors(connection, {t: e for t, e in errors.items() if t in won})
    events = [e for e in events if e["ticket_id"] in won]
    if events and postgres:
        _insert_all(connection, events)
    elif events:
        connection.execute(insert(TicketEvent.__table__), events)
    return len(won), events


def sweep_once(now, limit=BATCH):
    """One batch in one transaction; returns (tickets advanced, events written, rows claimed)."""
    context = Context(now)
    rows = _claim(now, limit)
    context.prefetch(rows)
    values, events, errors = [], [], {}
    for row in rows:
        row_values, row_events, error = _advance(row, context)
        values.append(row_values)
        events.extend(row_events)
        if error:
            errors[row["id"]] = error
    advanced, written = _write(values, events, errors)
    if written:
        announce_sla(rows, written, now)  # the outbox rows, in the transaction of the events they report
    db.session.commit()
    return advanced, len(written), len(rows)


def run_sla_sweep(now, limit=BATCH):
    """The scheduler job: batches until nothing is due; returns the number of events fired."""
    fired = 0
    while True:
        _, written, claimed = sweep_once(now, limit)
        fired += written
        if claimed < limit:
            return fired
