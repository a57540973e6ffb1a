"""Ticket services: every door opens and changes tickets here, writing the timeline in the same transaction."""
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
import functools

from sqlalchemy import String, Table, bindparam, cast, exists, func, insert, literal, select, true, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm.attributes import set_committed_value

from dispatch.cache import TtlCache
from dispatch.errors import Conflict, Invalid, NotFound
from dispatch.extensions import db
from dispatch.org.models import Community, Department, Resident, User
from dispatch.org.roles import Role
from dispatch.rows import cached_instance, merged, persistent
from dispatch.statements import dialect, typed
from dispatch.sla import services as sla
from dispatch.sla.models import SlaSchedule
from dispatch.tickets import classifier, news, tasks
from dispatch.tickets.lifecycle import (ACTIONS, PREVIOUS, SUPERVISORS, ActionNotPermitted, Status, check_role,
                                        next_status)
from dispatch.tickets.queries import is_overdue
from dispatch.storage import sniff_image
from dispatch.tickets.models import (Category, Channel, Priority, Ticket, TicketEvent, TicketPhoto, TicketReporter,
                                     TicketSequence)
from dispatch.tickets.scopes import community_in_scope, visible
from dispatch.timeutil import local
from dispatch.timeutil import now as clock_now


_in_batch = ContextVar("ticket_services_batch", default=False)


@contextmanager
def one_transaction():
    """Run many service calls as one transaction (bulk loads): they flush, this commits once or rolls back."""
    token = _in_batch.set(True)
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        _in_batch.reset(token)


def _commit():
    """Commit a service call's change, unless it is part of a one_transaction() batch."""
    if _in_batch.get():
        db.session.flush()
    else:
        db.session.commit()


@dataclass(frozen=True)
class Stamp:
    """A door's own record of the request (the raw WeChat message), given the new ticket's id in the same round trip."""

    table: Table
    row_id: int
    values: dict = field(default_factory=dict)  # more columns to set on that row, e.g. its status

    @property
    def shape(self):
        """What the statement depends on (not the values): the table and the columns set."""
        return self.table, tuple(self.values)


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
    stamp: Stamp | None = None


@dataclass
class Opening:
    """A new ticket worked out but not inserted yet: its columns, its first event, its first SLA point."""

    data: NewTicket
    category: Category | None
    resident: Resident | None
    ticket_values: dict
    event_values: dict
    first_point: object


NO_SUGGESTION = classifier.Suggestion(category_code=None, priority=Priority.NORMAL.value, confidence=0.0, matched=(),
                                      urgent_terms=())

# Ticket columns a door may set when opening a ticket, beyond the common ones.
OPTIONAL_COLUMNS = frozenset({"latitude", "longitude", "location_label", "description_pending", "needs_listening"})


def get_visible(principal, number):
    """The ticket with this number if the caller may see it; otherwise 404, as if it did not exist."""
    query = select(Ticket).where(Ticket.number == number, visible(principal))
    ticket = db.session.scalar(query)
    if ticket is None:
        raise NotFound(f"找不到工单 {number}")
    return ticket


def _next_number(now):
    """Date plus the day's sequence, e.g. 20261121-0042; the upsert is atomic on both databases."""
    day = local(now).date()
    stmt = (dialect().insert(TicketSequence).values(day=day, last=1)
            .on_conflict_do_update(index_elements=["day"], set_={"last": TicketSequence.last + 1})
            .returning(TicketSequence.last))
    seq = db.session.execute(stmt).scalar_one()
    return f"{day:%Y%m%d}-{seq:04d}"


def active_categories():
    """Categories residents' requests can be filed under, in display order."""
    return db.session.scalars(select(Category).where(Category.active).order_by(Category.sort_order)).all()


_rules = TtlCache("REFERENCE_CACHE_SECONDS", max_entries=1)
_categories = TtlCache("REFERENCE_CACHE_SECONDS")


def _classifier_rules():
    """The classifier's rules from the stored categories, rebuilt at most every REFERENCE_CACHE_SECONDS."""
    return _rules.get("rules", lambda: [classifier.CategoryRule(c.code, c.default_priority.value,
                                                                dict(c.keywords or {}))
                                        for c in active_categories()])


def suggest(text):
    """The classifier's suggestion for a text, using the categories as stored (cached briefly)."""
    return classifier.classify(text, _classifier_rules())


def _category_by_code(code):
    """The active category with this code, or None (cached briefly: every new ticket needs one)."""
    return cached_instance(_categories, code, lambda: db.session.scalar(
        select(Category).where(Category.code == code, Category.active)))


def category_named(code):
    """The active category with this code (None when blank); an unknown code is refused with a message."""
    if not code:
        return None
    category = _category_by_code(code)
    if category is None:
        raise Invalid(f"未知的分类「{code}」", fields={"category": ["未知的分类代码"]})
    return category


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


def _event_fields(principal, kind, now, note=None, from_status=None, to_status=None, **data):
    """The columns of a timeline event."""
    return {"at": now, "kind": kind, "actor_user_id": principal.user_id, "actor_label": principal.label,
            "note": note, "data": data, "from_status": from_status.value if from_status else None,
            "to_status": to_status.value if to_status else None}


def record(ticket, principal, kind, now, **fields):
    """Append one event to a ticket's timeline (committed with the change it records)."""
    event = TicketEvent(ticket=ticket, **_event_fields(principal, kind, now, **fields))
    db.session.add(event)
    return event


def numbered_insert_ctes(ticket_keys, event_keys, guard=None):
    """CTEs that number and insert a ticket, its sweep schedule and first event: (new_ticket, event).

    With a guard (a CTE of at most one row: ticket_id, resident_id) nothing is numbered or inserted unless
    the guard has its row, and the ticket takes that id and resident (resident_id is then not a key).
    """
    sequences, tickets, events = TicketSequence.__table__, Ticket.__table__, TicketEvent.__table__
    schedules = SlaSchedule.__table__
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
        rows = insert(tickets).from_select(["number", *values], select(number, *values.values()))
    else:
        del values["resident_id"]
        rows = insert(tickets).from_select(["id", "number", "resident_id", *values], select(
            guard.c.ticket_id, number, guard.c.resident_id, *values.values()).select_from(guard.join(seq, true())))
    new_ticket = rows.returning(tickets.c.id, tickets.c.number).cte("new_ticket")
    schedule = (insert(schedules).from_select(["ticket_id", "next_at"], select(
        new_ticket.c.id, bindparam("next_at", type_=schedules.c.next_at.type))).returning(schedules.c.ticket_id)
        .cte("schedule"))
    event_values = typed(events, event_keys, "e_").values()
    event = (insert(events).from_select(["ticket_id", *event_keys], select(schedule.c.ticket_id, *event_values))
             .returning(events.c.ticket_id, events.c.id).cte("event"))
    return new_ticket, event


def _stamp_statement(stamp_shape, ticket_id):
    """UPDATE the door's record: ticket_id = the new ticket's, plus the stamp's values (parameters s_*)."""
    table, keys = stamp_shape
    return (update(table).where(table.c.id == bindparam("s_row_id", type_=table.c.id.type))
            .values(ticket_id=ticket_id, **typed(table, keys, "s_")))


def _stamp_params(stamp):
    return {"s_row_id": stamp.row_id, **{"s_" + k: v for k, v in stamp.values.items()}} if stamp else {}


@functools.cache
def _numbered_insert_postgresql(ticket_keys, event_keys, stamp_shape=None):
    """Number, ticket, its sweep schedule, first event (and the door's stamp) in one round trip, built once."""
    new_ticket, event = numbered_insert_ctes(ticket_keys, event_keys)
    stmt = select(new_ticket.c.id, new_ticket.c.number, event.c.id).select_from(
        new_ticket.join(event, event.c.ticket_id == new_ticket.c.id))
    if stamp_shape is None:
        return stmt
    # PostgreSQL runs a data-modifying WITH clause even though nothing reads it.
    return stmt.add_cte(_stamp_statement(stamp_shape, select(new_ticket.c.id).scalar_subquery()).cte("stamp"))


def insert_params(opening, now):
    """The parameters of numbered_insert_ctes for a prepared ticket."""
    day = local(now).date()
    return {"day": day, "prefix": f"{day:%Y%m%d}-", "next_at": opening.first_point,
            **{"t_" + k: v for k, v in opening.ticket_values.items()},
            **{"e_" + k: v for k, v in opening.event_values.items()}}


def _insert_numbered(opening, now):
    """Insert a numbered ticket, its sweep schedule, first event and stamp; returns (ticket id, number, event id)."""
    stamp, ticket_values = opening.data.stamp, opening.ticket_values
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = _numbered_insert_postgresql(tuple(ticket_values), tuple(opening.event_values),
                                           stamp.shape if stamp else None)
        # Straight to the connection: a Core statement needs none of the ORM's execution machinery.
        return tuple(db.session.connection().execute(
            stmt, {**insert_params(opening, now), **_stamp_params(stamp)}).one())
    number = _next_number(now)
    tickets, events = Ticket.__table__, TicketEvent.__table__
    ticket_id = db.session.execute(insert(tickets).values(number=number, **ticket_values)
                                   .returning(tickets.c.id)).scalar_one()
    db.session.execute(insert(SlaSchedule.__table__).values(ticket_id=ticket_id, next_at=opening.first_point))
    event_id = db.session.execute(insert(events).values(ticket_id=ticket_id, **opening.event_values)
                                  .returning(events.c.id)).scalar_one()
    if stamp is not None:
        db.session.execute(_stamp_statement(stamp.shape, ticket_id), _stamp_params(stamp))
    return ticket_id, number, event_id


def prepare_ticket(principal, data, now):
    """Everything about a new ticket that needs no INSERT: scope, classification, caller, SLA clock."""
    if not community_in_scope(principal, data.community):
        raise NotFound(f"找不到社区「{data.community.code}」")
    # A photo or an unheard voice has no words yet: staff classify it, or the words that follow do.
    pending = data.columns.get("description_pending", False)
    suggestion = NO_SUGGESTION if pending else suggest(data.description)
    category = data.category or (None if pending else _category_by_code(suggestion.category_code))
    priority = data.priority or Priority(suggestion.priority)
    resident = data.resident or _resident(data, now)
    unknown = set(data.columns) - OPTIONAL_COLUMNS
    if unknown:
        raise ValueError(f"not settable when opening a ticket: {sorted(unknown)}")
    sla_columns, first_point = sla.opening(data.community, category.id if category else None, priority, now)
    ticket_values = {
        "channel": data.channel, "community_id": data.community.id, "category_id": category.id if category else None,
        "priority": priority, "status": Status.NEW, "description": data.description, "address": data.address,
        "resident_id": resident.id if resident else None, "sla_paused_seconds": 0, "created_at": now,
        "updated_at": now, "version": 1, "description_pending": False, "needs_listening": False,
        **data.columns, **sla_columns}
    event_values = _event_fields(principal, "created", now, to_status=Status.NEW,
                                 suggested_category=suggestion.category_code, suggested_priority=suggestion.priority,
                                 urgent_terms=list(suggestion.urgent_terms), **data.extra)
    return Opening(data, category, resident, ticket_values, event_values, first_point)


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


def create_ticket(principal, data, now=None):
    """Open a ticket from any door: classify it if no category was given, number it, start its timeline."""
    now = now or clock_now()
    opening = prepare_ticket(principal, data, now)
    # Opening tickets is the hot path: Core INSERTs, then objects built from what was sent, not reloaded.
    ticket = opened(opening, *_insert_numbered(opening, now))
    news.announce(ticket, "created", now)
    _commit()
    return ticket


def attach_cleaned_photo(principal, ticket, photo, storage, note, now):
    """Keep a photo already cleaned by images.process_photo, with its thumbnail, and note it on the timeline."""
    db.session.add(TicketPhoto(ticket=ticket, storage_key=storage.save(photo.data, photo.ext),
                               thumbnail_key=storage.save(photo.thumbnail, "jpg"), content_type=photo.content_type,
                               size=len(photo.data), created_at=now))
    record(ticket, principal, "photo_added", now, note=note)


def add_photo(principal, ticket, data, storage, max_bytes, now=None):
    """Attach an image to a ticket; refuse anything that is not a known image or is too large."""
    now = now or clock_now()
    if len(data) > max_bytes:
        raise Invalid(f"照片超过 {max_bytes // (1024 * 1024)} MB", fields={"photo": ["文件过大"]})
    kind = sniff_image(data)
    if kind is None:
        raise Invalid("只能上传 JPEG、PNG、GIF 或 WebP 图片", fields={"photo": ["不是图片文件"]})
    content_type, ext = kind
    photo = TicketPhoto(ticket=ticket, storage_key=storage.save(data, ext), content_type=content_type,
                        size=len(data), created_at=now)
    db.session.add(photo)
    record(ticket, principal, "photo_added", now, note="添加照片")
    _touch(ticket, now)
    _commit()
    return photo


def check_version(ticket, version):
    """A client that read an older version must not overwrite a newer one."""
    if version is not None and version != ticket.version:
        raise Conflict(f"工单已被他人更新（您看到的是第 {version} 版，当前为第 {ticket.version} 版），请刷新后重试")


def _touch(ticket, now):
    ticket.updated_at = now


def classify_ticket(principal, ticket, category, priority, note=None, version=None, now=None):
    """Staff override of category and priority, kept on the timeline."""
    now = now or clock_now()
    check_role("accept", principal.role)  # the same people who accept may classify
    check_version(ticket, version)
    before = {"category": ticket.category.code if ticket.category else None, "priority": ticket.priority.value}
    ticket.category = category or ticket.category
    ticket.priority = priority or ticket.priority
    after = {"category": ticket.category.code if ticket.category else None, "priority": ticket.priority.value}
    _touch(ticket, now)
    record(ticket, principal, "classified", now, note=note, before=before, after=after)
    _commit()
    return ticket


def describe(principal, ticket, description, address=None, version=None, now=None):
    """Give a ticket opened without words (a photo, a voice, a call) its description; classify it by the text."""
    now = now or clock_now()
    check_version(ticket, version)
    suggestion = suggest(description)
    ticket.description = description
    ticket.description_pending = ticket.needs_listening = False
    ticket.address = ticket.address or address
    if ticket.category is None:
        ticket.category = _category_by_code(suggestion.category_code)
        ticket.priority = Priority(suggestion.priority)
    _touch(ticket, now)
    record(ticket, principal, "described", now, note=description, suggested_category=suggestion.category_code,
           suggested_priority=suggestion.priority, urgent_terms=list(suggestion.urgent_terms))
    _commit()
    return ticket


def locate(principal, ticket, latitude, longitude, label=None, now=None):
    """Set where the problem is (a resident's WeChat location)."""
    now = now or clock_now()
    ticket.latitude, ticket.longitude, ticket.location_label = latitude, longitude, label
    _touch(ticket, now)
    record(ticket, principal, "located", now, note=label, latitude=latitude, longitude=longitude)
    _commit()
    return ticket


def comment(principal, ticket, note, now=None):
    """Add a note to the timeline; any state, no transition."""
    now = now or clock_now()
    record(ticket, principal, "comment", now, note=note)
    _touch(ticket, now)
    _commit()
    return ticket


CHASES = {"urge": "催办", "supervise": "督办"}


def chase(principal, ticket, kind, note, now=None):
    """A street supervisor urges (催办) or supervises (督办) a late ticket: a timeline event for its holder."""
    now = now or clock_now()
    if kind not in CHASES:
        raise Invalid(f"未知的操作「{kind}」")
    if principal.role not in SUPERVISORS:
        raise ActionNotPermitted(f"{principal.role.label}不能{CHASES[kind]}")
    if not is_overdue(ticket, now):
        raise Conflict(f"工单 {ticket.number} 未超时，不需要{CHASES[kind]}")
    if not (note or "").strip():
        raise Invalid(f"请写明{CHASES[kind]}要求", fields={"note": ["必填"]})
    holder = ticket.assignee.display_name if ticket.assignee else (
        ticket.department.name if ticket.department else ticket.community.name)
    record(ticket, principal, kind, now, note=note.strip(), holder=holder)
    news.announce(ticket, kind, now, note=note.strip(), actor_role=principal.role)
    _touch(ticket, now)
    _commit()
    return holder


def _previous_status(ticket):
    """The state before the ticket entered its current (paused) state, read from the timeline."""
    query = (select(TicketEvent.from_status)
             .where(TicketEvent.ticket_id == ticket.id, TicketEvent.to_status == ticket.status.value)
             .order_by(TicketEvent.id.desc()).limit(1))
    previous = db.session.scalar(query)
    return Status(previous) if previous else None


def _dispatch_target(principal, ticket, params):
    """Resolve and check the volunteer or department a ticket is sent to."""
    assignee, department = params.get("assignee"), params.get("department")
    if bool(assignee) == bool(department):
        raise Invalid("派单需要指定志愿者（assignee）或职能部门（department）之一",
                      fields={"assignee": ["二选一"], "department": ["二选一"]})
    if assignee:
        # The community's own team, or a volunteer of the street's shared team (same street).
        same_street = select(Community.id).where(Community.street_id == ticket.community.street_id)
        user = db.session.scalar(select(User).where(User.username == assignee, User.role == Role.VOLUNTEER,
                                                    User.active, User.community_id.in_(same_street)))
        if user is None:
            raise Invalid(f"找不到本街道的志愿者「{assignee}」", fields={"assignee": ["不是本街道服务队的志愿者"]})
        return user, None
    dept = db.session.scalar(select(Department).where(Department.code == department))
    if dept is None:
        raise Invalid(f"找不到职能部门「{department}」", fields={"department": ["未知的部门代码"]})
    return None, dept


def _merge_target(principal, ticket, params):
    """The visible, still-open ticket that this one is a duplicate of."""
    number = params.get("into")
    if not number or number == ticket.number:
        raise Invalid("合并需要另一张工单的编号（into）", fields={"into": ["必填，且不能是本工单"]})
    target = get_visible(principal, number)
    if target.status in (Status.CLOSED, Status.INVALID, Status.MERGED):
        raise Conflict(f"工单 {number} 已「{target.status.label}」，不能并入")
    return target


def _attach_reporters(ticket, target, now):
    """The merged ticket's reporter (and those merged into it before) now follow the surviving ticket."""
    known = set(db.session.scalars(select(TicketReporter.resident_id).where(TicketReporter.ticket_id == target.id)))
    known.add(target.resident_id)
    incoming = [ticket.resident_id] + list(db.session.scalars(
        select(TicketReporter.resident_id).where(TicketReporter.ticket_id == ticket.id)))
    added = [rid for rid in dict.fromkeys(incoming) if rid is not None and rid not in known]
    db.session.add_all(TicketReporter(ticket_id=target.id, resident_id=rid, from_ticket_id=ticket.id, added_at=now)
                       for rid in added)
    return len(added)


def reporters_of(ticket):
    """Every resident who hears a ticket's outcome: its own reporter first, then those of merged duplicates."""
    extra = db.session.scalars(select(Resident).join(TicketReporter, TicketReporter.resident_id == Resident.id)
                               .where(TicketReporter.ticket_id == ticket.id).order_by(TicketReporter.added_at)).all()
    return ([ticket.resident] if ticket.resident else []) + list(extra)


DEFAULT_EXTENSION_DAYS = 3


def _extension_days(value):
    """Days of extension asked for or granted (1–60); None when not given."""
    if value in (None, ""):
        return None
    try:
        days = int(value)
    except (TypeError, ValueError):
        days = 0
    if not 1 <= days <= 60:
        raise Invalid("延期天数应为 1 到 60 之间的整数", fields={"extension_days": ["1–60"]})
    return days


def _requested_days(ticket):
    """The days of the latest extension request on the timeline, or the default."""
    data = db.session.scalar(select(TicketEvent.data).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "request_extension").order_by(TicketEvent.id.desc())
        .limit(1))
    return (data or {}).get("extension_days") or DEFAULT_EXTENSION_DAYS


def _apply_effects(principal, ticket, name, params, now):
    """Side effects of an action beyond the state change; returns data for the timeline."""
    if name == "accept":
        ticket.accepted_at = now
    elif name == "dispatch":
        ticket.assignee, ticket.department = _dispatch_target(principal, ticket, params)
        return {"assignee": params.get("assignee"), "department": params.get("department")}
    elif name == "resolve":
        ticket.resolved_at = now
    elif name in ("close", "invalidate"):
        ticket.closed_at = now
    elif name == "reopen":
        ticket.resolved_at = ticket.closed_at = None
    elif name == "request_extension":
        return {"extension_days": _extension_days(params.get("extension_days"))}
    elif name == "approve_extension":
        return {"extension_days": _extension_days(params.get("extension_days")) or _requested_days(ticket)}
    elif name == "merge":
        target = _merge_target(principal, ticket, params)
        ticket.merged_into_id, ticket.closed_at = target.id, now
        reporters = _attach_reporters(ticket, target, now)
        record(target, principal, "merged_in", now, note=f"工单 {ticket.number} 作为重复并入", source=ticket.number,
               reporters=reporters)
        return {"into": target.number}
    return {}


def transition(principal, ticket, name, note=None, version=None, now=None, **params):
    """Take a lifecycle action: check state, role and version, change state, write the timeline."""
    now = now or clock_now()
    if name not in ACTIONS:
        raise Invalid(f"未知的操作「{name}」", fields={"action": [f"可选：{', '.join(ACTIONS)}"]})
    action = ACTIONS[name]
    goes_back = action.target is PREVIOUS and ticket.status in action.sources
    target = next_status(ticket.status, name, previous=_previous_status(ticket) if goes_back else None)
    check_role(name, principal.role)
    check_version(ticket, version)
    if action.needs_note and not (note or "").strip():
        raise Invalid(f"「{action.label}」需要填写原因或说明", fields={"note": ["必填"]})
    previous_holder = ticket.assignee
    data = _apply_effects(principal, ticket, name, params, now)
    data.update(tasks.follow(principal, ticket, name, now, note))
    if name == "dispatch":
        tasks.start_task(principal, ticket, ticket.assignee, ticket.department, note, now)
    before, ticket.status = ticket.status, target
    _touch(ticket, now)
    data.update(sla.after_transition(ticket, name, now, extension_days=data.get("extension_days")))
    record(ticket, principal, name, now, note=note, from_status=before, to_status=target, **data)
    news.announce(ticket, name, now, note=note, actor_role=principal.role, previous_holder=previous_holder)
    _commit()
    return ticket
