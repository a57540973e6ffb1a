"""Opening a ticket: everything worked out first (scope, words, caller, clocks), then one insert.

The store alone knows how a ticket is written: on PostgreSQL one statement numbers it (the day's sequence
upsert), inserts it, the rows other packages keep beside it (the SLA schedule) and its first event, built once
per process with bound parameters; on SQLite the same in a few statements. The pipeline then runs the
`created` consequences.
"""
import functools
from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy import String, bindparam, cast, exists, func, insert, literal, select, true
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm.attributes import set_committed_value

from dispatch.errors import NotFound
from dispatch.extensions import db
from dispatch.org.models import Community, Resident
from dispatch.rows import merged, persistent
from dispatch.statements import dialect, typed
from dispatch.tickets import categories, classifier
from dispatch.tickets.lifecycle import Status
from dispatch.tickets.models import Category, Channel, Priority, Ticket, TicketEvent, TicketSequence
from dispatch.tickets.scopes import community_in_scope
from dispatch.tickets.timeline import event_fields
from dispatch.timeutil import local


@dataclass
class NewTicket:
    """What a door knows about a new request, already validated for shape."""

    description: str
    community: Community
    channel: Channel
    category: Category | None = None
    priority: Priority | None = None
    address: str | None = None
    resident_phone: str | None = None
    resident_name: str | None = None
    extra: dict = field(default_factory=dict)
    resident: Resident | None = None  # a door that already knows the resident (WeChat openid)
    columns: dict = field(default_factory=dict)  # more ticket columns: location, description_pending, …


@dataclass(frozen=True)
class Beside:
    """What another package adds to a ticket as it opens: ticket columns, and rows of its own keyed by ticket_id."""

    columns: dict = field(default_factory=dict)
    rows: tuple = ()  # (table, {column: value}) pairs, inserted with the ticket


@dataclass
class Opening:
    """A new ticket worked out but not inserted yet: its columns, its first event, the rows beside it."""

    data: NewTicket
    category: Category | None
    resident: Resident | None
    ticket_values: dict
    event_values: dict
    rows: tuple

    @property
    def shape(self):
        """What the insert statement depends on (not the values): the columns given and the tables beside."""
        return (tuple(self.ticket_values), tuple(self.event_values),
                tuple((table, tuple(values)) for table, values in self.rows))


@dataclass(frozen=True)
class DoorPart:
    """A door's CTEs in the ticket's statement: a guard of at most one row (ticket_id, resident_id), without which
    no ticket is opened, and a source of exactly one row whose columns the statement hands back (the resident's
    columns among them, under their own names: the ticket's resident is built from them)."""

    guard: object
    source: object
    columns: tuple


@dataclass(frozen=True)
class Along:
    """A door's own rows written in the ticket's statement (PostgreSQL)."""

    key: object                 # what the door's part depends on, for the statement cache
    build: Callable             # build() -> DoorPart
    params: dict                # the door's parameters


NO_SUGGESTION = classifier.Suggestion(category_code=None, priority=Priority.NORMAL.value, confidence=0.0, matched=(),
                                      urgent_terms=())

# Ticket columns a door may set when opening a ticket, beyond the common ones.
OPTIONAL_COLUMNS = frozenset({"latitude", "longitude", "location_label", "description_pending", "needs_listening"})

_beside = []


def beside(contribute):
    """Register what a package adds to every new ticket: contribute(community, category_id, priority, now) -> Beside."""
    _beside.append(contribute)
    return contribute


CALLER_KEYS = ("phone", "name", "community_id", "created_at")


@functools.cache
def _caller_upsert(database):
    """Find or create the resident of a phone number in one statement; a name given replaces the stored one."""
    table = Resident.__table__
    stmt = database.insert(table).values(typed(table, CALLER_KEYS))
    return stmt.on_conflict_do_update(index_elements=["phone"], index_where=table.c.openid.is_(None),
                                      set_={"name": func.coalesce(stmt.excluded.name, table.c.name)}
                                      ).returning(*table.c)


def _resident(data, now):
    """The resident behind a phone number (phone tickets, API clients), created on their first call."""
    if not data.resident_phone:
        return None
    row = db.session.connection().execute(_caller_upsert(dialect()), {
        "phone": data.resident_phone, "name": data.resident_name, "community_id": data.community.id,
        "created_at": now}).mappings().one()
    return merged(Resident, dict(row))


def prepare(principal, data, now):
    """Everything about a new ticket that needs no INSERT: scope, classification, caller, what packages add."""
    if not community_in_scope(principal, data.community):
        raise NotFound(f"找不到社区「{data.community.code}」")
    unknown = set(data.columns) - OPTIONAL_COLUMNS
    if unknown:
        raise ValueError(f"not settable when opening a ticket: {sorted(unknown)}")
    # A photo or an unheard voice has no words yet: staff classify it, or the words that follow do.
    pending = data.columns.get("description_pending", False)
    suggestion = NO_SUGGESTION if pending else categories.suggest(data.description)
    category = data.category or (None if pending else categories.category_by_code(suggestion.category_code))
    priority = data.priority or Priority(suggestion.priority)
    resident = data.resident or _resident(data, now)
    added = [contribute(data.community, category.id if category else None, priority, now) for contribute in _beside]
    ticket_values = {
        "channel": data.channel, "community_id": data.community.id, "category_id": category.id if category else None,
        "priority": priority, "status": Status.NEW, "description": data.description, "address": data.address,
        "resident_id": resident.id if resident else None, "sla_paused_seconds": 0, "created_at": now,
        "updated_at": now, "version": 1, "description_pending": False, "needs_listening": False,
        **data.columns, **{k: v for part in added for k, v in part.columns.items()}}
    event_values = event_fields(principal, "created", now, to_status=Status.NEW,
                                suggested_category=suggestion.category_code, suggested_priority=suggestion.priority,
                                urgent_terms=list(suggestion.urgent_terms), **data.extra)
    return Opening(data, category, resident, ticket_values, event_values, tuple(r for part in added for r in part.rows))


def insert_ctes(shape, guard=None):
    """CTEs that number and insert a ticket, the rows beside it and its first event: (new_ticket, event).

    With a guard (a CTE of at most one row: ticket_id, resident_id) nothing is numbered or inserted unless
    the guard has its row, and the ticket takes that id and resident (resident_id is then not a key).
    """
    ticket_keys, event_keys, rows = shape
    sequences, tickets, events = TicketSequence.__table__, Ticket.__table__, TicketEvent.__table__
    first = select(bindparam("day", type_=sequences.c.day.type), literal(1))
    if guard is not None:
        first = first.where(exists(select(guard.c.ticket_id)))
    seq = postgresql.insert(sequences).from_select(["day", "last"], first)
    seq = (seq.on_conflict_do_update(index_elements=["day"], set_={"last": sequences.c.last + 1})
           .returning(sequences.c.last).cte("seq"))
    digits = cast(seq.c.last, String)
    number = bindparam("prefix", type_=String) + func.lpad(digits, func.greatest(4, func.length(digits)), "0")
    values = typed(tickets, ticket_keys, "t_")
    if guard is None:
        rows_in = insert(tickets).from_select(["number", *values], select(number, *values.values()))
    else:
        del values["resident_id"]
        rows_in = insert(tickets).from_select(["id", "number", "resident_id", *values], select(
            guard.c.ticket_id, number, guard.c.resident_id, *values.values()).select_from(guard.join(seq, true())))
    new_ticket = rows_in.returning(tickets.c.id, tickets.c.number).cte("new_ticket")
    # Each row beside the ticket is inserted from the one before, so the first event comes last in the chain.
    previous = new_ticket.c.id
    for index, (table, keys) in enumerate(rows):
        extra = typed(table, keys, f"b{index}_")
        cte = (insert(table).from_select(["ticket_id", *keys], select(previous, *extra.values()))
               .returning(table.c.ticket_id).cte(f"beside{index}"))
        previous = cte.c.ticket_id
    event_values = typed(events, event_keys, "e_").values()
    event = (insert(events).from_select(["ticket_id", *event_keys], select(previous, *event_values))
             .returning(events.c.ticket_id, events.c.id).cte("event"))
    return new_ticket, event


def next_ticket_id():
    """The id the next ticket will have (PostgreSQL), for a door that names its ticket before it exists."""
    return func.nextval(func.pg_get_serial_sequence(Ticket.__tablename__, "id"))


@functools.cache
def _insert_postgresql(shape, along_key=None, build=None):
    """Number, ticket, rows beside, first event (and a door's own rows) in one round trip, built once."""
    door = build() if build is not None else None
    new_ticket, event = insert_ctes(shape, door.guard if door else None)
    columns = (new_ticket.c.id.label("new_ticket_id"), new_ticket.c.number.label("new_ticket_number"),
               event.c.id.label("new_event_id"))
    if door is None:
        return select(*columns).select_from(new_ticket.join(event, event.c.ticket_id == new_ticket.c.id))
    return select(*door.columns, *columns).select_from(
        door.source.outerjoin(new_ticket, true()).outerjoin(event, true()))


def _params(opening, now):
    """The parameters of insert_ctes for a prepared ticket."""
    day = local(now).date()
    params = {"day": day, "prefix": f"{day:%Y%m%d}-", **{"t_" + k: v for k, v in opening.ticket_values.items()},
              **{"e_" + k: v for k, v in opening.event_values.items()}}
    for index, (_table, values) in enumerate(opening.rows):
        params.update({f"b{index}_{k}": v for k, v in values.items()})
    return params


def _next_number(now):
    """Date plus the day's sequence, e.g. 20261121-0042; the upsert is atomic on both databases."""
    day = local(now).date()
    stmt = (dialect().insert(TicketSequence).values(day=day, last=1)
            .on_conflict_do_update(index_elements=["day"], set_={"last": TicketSequence.last + 1})
            .returning(TicketSequence.last))
    seq = db.session.execute(stmt).scalar_one()
    return f"{day:%Y%m%d}-{seq:04d}"


def _insert_in_steps(opening, now):
    """The same insert as a few statements (SQLite): (ticket id, number, event id)."""
    number = _next_number(now)
    tickets, events = Ticket.__table__, TicketEvent.__table__
    ticket_id = db.session.execute(insert(tickets).values(number=number, **opening.ticket_values)
                                   .returning(tickets.c.id)).scalar_one()
    for table, values in opening.rows:
        db.session.execute(insert(table).values(ticket_id=ticket_id, **values))
    event_id = db.session.execute(insert(events).values(ticket_id=ticket_id, **opening.event_values)
                                  .returning(events.c.id)).scalar_one()
    return ticket_id, number, event_id


def insert_ticket(opening, now, along=None):
    """Write a prepared ticket: (ticket id, number, event id, the door's returned row or None).

    With `along` (PostgreSQL only) the door's rows go in the same statement; the ids are None when its guard
    held the ticket back."""
    if db.session.get_bind().dialect.name != "postgresql":
        return (*_insert_in_steps(opening, now), None)
    params = _params(opening, now)
    stmt = _insert_postgresql(opening.shape, *((along.key, along.build) if along else ()))
    # Straight to the connection: a Core statement needs none of the ORM's execution machinery.
    result = db.session.connection().execute(stmt, {**params, **(along.params if along else {})})
    if along is None:
        return (*result.one(), None)
    row = dict(result.mappings().one())
    return row.pop("new_ticket_id"), row.pop("new_ticket_number"), row.pop("new_event_id"), row


def resident_in(row):
    """The resident whose columns a door's part handed back, as this session's object (no SQL)."""
    return merged(Resident, {key: row[key] for key in Resident.__table__.c.keys()})


def opened(opening, ticket_id, number, event_id, resident=None):
    """The inserted ticket and its first event as this session's objects, built from what was sent (no SQL)."""
    resident = resident or opening.resident
    ticket = persistent(Ticket, {**opening.ticket_values, "id": ticket_id, "number": number,
                                 "resident_id": resident.id if resident else None})
    event = persistent(TicketEvent, {"id": event_id, "ticket_id": ticket_id, **opening.event_values})
    known = {"community": opening.data.community, "category": opening.category, "resident": resident,
             "assignee": None, "department": None, "events": [event], "photos": []}
    for name, value in known.items():
        set_committed_value(ticket, name, value)
    set_committed_value(event, "ticket", ticket)
    return ticket
