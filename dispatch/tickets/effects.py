"""The tickets package's own steps of the consequences table: the ticket's columns, its photos, merges, ratings."""
from sqlalchemy import select

from dispatch.errors import Conflict, Invalid
from dispatch.extensions import db
from dispatch.org.models import Community, Department, User
from dispatch.org.roles import Role
from dispatch.storage import sniff_image
from dispatch.tickets.categories import category_by_code, suggest
from dispatch.tickets.consequences import step
from dispatch.tickets.lifecycle import ACTIONS, Status
from dispatch.tickets.models import Priority, TicketEvent, TicketPhoto, TicketReporter
from dispatch.tickets.queries import is_overdue
from dispatch.tickets.services import get_visible
from dispatch.tickets.timeline import record

DEFAULT_EXTENSION_DAYS = 3


@step("touch", "ticket")
def touch(change, _):
    """The ticket changed now (lists sort by it; a resident's draft window counts from it)."""
    change.ticket.updated_at = change.now


@step("asked", "ticket")
def asked(change, _):
    """A question for the resident: their row says so, so their next WeChat message looks for the waiting ticket."""
    resident = change.ticket.resident
    if resident is not None:
        resident.asked_at = change.now


@step("stamp", "ticket")
def stamp(change, column):
    """Set one of the ticket's moments (accepted_at, resolved_at, closed_at) to now."""
    setattr(change.ticket, column, change.now)


@step("unresolve", "ticket")
def unresolve(change, _):
    """A reopened ticket is neither resolved nor closed any more."""
    change.ticket.resolved_at = change.ticket.closed_at = None


def _volunteer(ticket, username):
    """An active volunteer of the ticket's street (the community's own team, or the street's shared one)."""
    same_street = select(Community.id).where(Community.street_id == ticket.community.street_id)
    user = db.session.scalar(select(User).where(User.username == username, User.role == Role.VOLUNTEER,
                                                User.active, User.community_id.in_(same_street)))
    if user is None:
        raise Invalid(f"找不到本街道的志愿者「{username}」", fields={"assignee": ["不是本街道服务队的志愿者"]})
    return user


@step("dispatch_target", "ticket")
def dispatch_target(change, _):
    """The volunteer (username) or department (code) a ticket is sent to, checked and set."""
    assignee, department = change.fields.get("assignee"), change.fields.get("department")
    if bool(assignee) == bool(department):
        raise Invalid("派单需要指定志愿者（assignee）或职能部门（department）之一",
                      fields={"assignee": ["二选一"], "department": ["二选一"]})
    ticket = change.ticket
    if assignee:
        ticket.assignee, ticket.department = _volunteer(ticket, assignee), None
    else:
        found = db.session.scalar(select(Department).where(Department.code == department))
        if found is None:
            raise Invalid(f"找不到职能部门「{department}」", fields={"department": ["未知的部门代码"]})
        ticket.assignee, ticket.department = None, found
    return {"assignee": assignee, "department": department}


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


@step("extension_days", "ticket")
def extension_days(change, which):
    """The days of an extension: as asked for, or as granted (what was asked when the supervisor says nothing)."""
    days = _extension_days(change.fields.get("extension_days"))
    if which == "granted":
        days = days or _requested_days(change.ticket)
    return {"extension_days": days}


def _merge_target(change):
    """The visible, still-open ticket that this one is a duplicate of."""
    number = change.fields.get("into")
    if not number or number == change.ticket.number:
        raise Invalid("合并需要填写另一张工单的编号", fields={"into": ["必填，且不能是本工单"]})
    target = get_visible(change.principal, number)
    if target.status in (Status.CLOSED, Status.INVALID, Status.MERGED):
        raise Conflict(f"工单 {number} 的状态是「{target.status.label}」，不能并入")
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


@step("merge", "ticket")
def merge(change, _):
    """Close a duplicate into the ticket it repeats; its reporters follow that one, whose timeline says so."""
    ticket, now = change.ticket, change.now
    target = _merge_target(change)
    ticket.merged_into_id, ticket.closed_at = target.id, now
    reporters = _attach_reporters(ticket, target, now)
    record(target, change.principal, "merged_in", now, note=f"工单 {ticket.number} 作为重复并入", source=ticket.number,
           reporters=reporters)
    return {"into": target.number}


@step("photo", "ticket")
def photo(change, _):
    """Keep a photo: one already cleaned (images.process_photo, with its thumbnail), or checked raw bytes."""
    cleaned, raw = change.fields.get("cleaned"), change.fields.get("data")
    store = change.fields["storage"]
    if cleaned is not None:
        db.session.add(TicketPhoto(ticket=change.ticket, storage_key=store.save(cleaned.data, cleaned.ext),
                                   thumbnail_key=store.save(cleaned.thumbnail, "jpg"),
                                   content_type=cleaned.content_type, size=len(cleaned.data), created_at=change.now))
        return None
    max_bytes = change.fields["max_bytes"]
    if len(raw) > max_bytes:
        raise Invalid(f"照片超过 {max_bytes // (1024 * 1024)} MB", fields={"photo": ["文件过大"]})
    kind = sniff_image(raw)
    if kind is None:
        raise Invalid("只能上传 JPEG、PNG、GIF 或 WebP 图片", fields={"photo": ["不是图片文件"]})
    content_type, ext = kind
    db.session.add(TicketPhoto(ticket=change.ticket, storage_key=store.save(raw, ext), content_type=content_type,
                               size=len(raw), created_at=change.now))
    return None


def _codes(ticket):
    return {"category": ticket.category.code if ticket.category else None, "priority": ticket.priority.value}


@step("classify", "ticket")
def classify(change, _):
    """Staff's category and priority over the classifier's."""
    ticket = change.ticket
    before = _codes(ticket)
    ticket.category = change.fields.get("category") or ticket.category
    ticket.priority = change.fields.get("priority") or ticket.priority
    return {"before": before, "after": _codes(ticket)}


@step("describe", "ticket")
def describe(change, _):
    """A ticket opened without words (a photo, a voice, a call) gets them, and is classified by them."""
    ticket, description = change.ticket, change.note
    suggestion = suggest(description)
    ticket.description = description
    ticket.description_pending = ticket.needs_listening = False
    ticket.address = ticket.address or change.fields.get("address")
    if ticket.category is None:
        ticket.category = category_by_code(suggestion.category_code)
        ticket.priority = Priority(suggestion.priority)
    return {"suggested_category": suggestion.category_code, "suggested_priority": suggestion.priority,
            "urgent_terms": list(suggestion.urgent_terms)}


@step("locate", "ticket")
def locate(change, _):
    """Where the problem is (a resident's WeChat location)."""
    latitude, longitude = change.fields["latitude"], change.fields["longitude"]
    ticket = change.ticket
    ticket.latitude, ticket.longitude, ticket.location_label = latitude, longitude, change.note
    return {"latitude": latitude, "longitude": longitude}


@step("overdue_only", "ticket")
def overdue_only(change, _):
    """催办 and 督办 are for late tickets only."""
    if not is_overdue(change.ticket, change.now):
        label = ACTIONS[change.command.action].label
        raise Conflict(f"工单 {change.ticket.number} 未超时，不需要{label}")


def holder_name(ticket):
    """Who has the ticket in hand: its volunteer, its department, or its community."""
    if ticket.assignee is not None:
        return ticket.assignee.display_name
    if ticket.department is not None:
        return ticket.department.name
    return ticket.community.name if ticket.community else ""


@step("holder_named", "ticket")
def holder_named(change, _):
    """The timeline names who was chased."""
    return {"holder": holder_name(change.ticket)}


@step("rating", "ticket")
def rating(change, _):
    """Keep the resident's (or a call-back's) rating of the latest resolution."""
    ticket, fields = change.ticket, change.fields
    # A comment from an earlier rating (before a redo) must not stay beside a new one.
    ticket.rating, ticket.rating_comment, ticket.rated_at = fields["rating"], fields.get("comment"), change.now
    return {"rating": fields["rating"], **{k: v for k, v in fields.items() if k != "rating"}}


@step("needs_listening", "ticket")
def needs_listening(change, _):
    """A voice nobody has heard yet: staff must listen to it."""
    change.ticket.needs_listening = True


@step("keep_fields", "ticket")
def keep_fields(change, names):
    """Keep these fields of the command on the timeline entry as they were given."""
    return {name: change.fields.get(name) for name in names}
