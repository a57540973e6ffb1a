"""Tickets as GeoReport requests: open or closed, notes in Chinese, who is responsible, when it is due."""
import hashlib
import hmac
from datetime import timedelta

from flask import current_app, url_for
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.open311.formats import iso
from dispatch.open311.models import Open311Submission
from dispatch.open311.services import CLOSED
from dispatch.tickets.lifecycle import Status
from dispatch.tickets.models import Ticket, TicketEvent
from dispatch.timeutil import local, now
from dispatch.urls import base_url

NOTES = {
    Status.NEW: "已收到，等待社区受理",
    Status.ACCEPTED: "社区已受理，正在安排处理",
    Status.DISPATCHED: "已派给{agency}，等待签收",
    Status.SIGNED: "{agency}已签收，将尽快处理",
    Status.IN_PROGRESS: "{agency}正在处理",
    Status.WAITING_RESIDENT: "需要反映人补充情况，社区会与您联系",
    Status.RETURNED: "承办方退回，社区正在重新安排",
    Status.EXTENSION_REQUESTED: "承办方申请延期，等待审批",
    Status.REOPENED: "反映人不满意，已重新办理",
    Status.RESOLVED: "已办结",
    Status.CLOSED: "已办结并关闭",
    Status.INVALID: "经核实不予受理",
    Status.MERGED: "与工单 {into} 反映的是同一问题，已合并办理",
}
# States whose note was written for the reporter (how it was resolved, why it is invalid, what to add), as the
# resident's WeChat messages carry it; a return's reason is between staff and stays inside.
NOTE_WORTHY = (Status.RESOLVED, Status.CLOSED, Status.INVALID, Status.WAITING_RESIDENT)
MAX_DESCRIPTION = 4000
MEDIA_LINK_DAYS = 7  # a media_url works this long (rounded to whole days, so a link is stable within a day)


def agency_of(ticket):
    """Who is responsible: the department it was forwarded to, the volunteer team, or the community."""
    if ticket.department is not None:
        return ticket.department.name
    if ticket.assignee is not None:
        return f"{ticket.community.name}365志愿服务队"
    return ticket.community.name


def service_notice(ticket):
    """What the reporter can expect, from the ticket's SLA clocks."""
    if ticket.status in CLOSED:
        return None
    parts = [f"工单编号 {ticket.number}"]
    if ticket.response_due_at and not ticket.responded_at:
        parts.append(f"社区将在 {local(ticket.response_due_at):%Y-%m-%d %H:%M} 前答复")
    if ticket.resolution_due_at:
        parts.append(f"预计 {local(ticket.resolution_due_at):%Y-%m-%d %H:%M} 前办结")
    return "，".join(parts)


def media_signature(key, expires):
    """The signature that lets a media_url be opened without a key until `expires` (a day number)."""
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"open311-media:{key}|{expires}".encode(), hashlib.sha256).hexdigest()[:32]


def _day_number(moment):
    return int(moment.timestamp() // 86400)


def signature_matches(key, expires, signature):
    """Is this a signature of that media key, and has its day not passed?"""
    if not (expires or "").isdigit() or int(expires) < _day_number(now()):
        return False
    return hmac.compare_digest(media_signature(key, int(expires)), signature or "")


def _media_url(ticket, submission):
    """The ticket's first photo (a signed link that expires), else the link the client sent."""
    if ticket.photos:
        key = ticket.photos[0].storage_key
        expires = _day_number(now() + timedelta(days=MEDIA_LINK_DAYS))
        base = base_url()
        return base + url_for("open311.media", key=key, exp=expires, sig=media_signature(key, expires))
    return submission.media_url if submission else None


def _description(ticket, submission):
    """What the reporter wrote: a request that came through Open311 shows the client's own words, without the
    attribute answers appended for staff (who lives alone, when nobody is home are not for publishing)."""
    if ticket.description_pending:
        return None
    if submission is not None:
        return submission.sent("description") or None
    return _at_most(ticket.description, MAX_DESCRIPTION)


def views_of(tickets):
    """GeoReport requests for tickets, with what they need loaded in a few queries whatever their number."""
    ids = [t.id for t in tickets]
    submissions = {s.ticket_id: s for s in db.session.scalars(
        select(Open311Submission).where(Open311Submission.ticket_id.in_(ids)))} if ids else {}
    merged_ids = {t.merged_into_id for t in tickets if t.merged_into_id}
    numbers = dict(db.session.execute(select(Ticket.id, Ticket.number).where(Ticket.id.in_(merged_ids))).all()
                   ) if merged_ids else {}
    notes = _latest_notes([t for t in tickets if t.status in NOTE_WORTHY])
    return [_view(t, submissions.get(t.id), numbers.get(t.merged_into_id), notes.get(t.id)) for t in tickets]


def _latest_notes(tickets):
    """{ticket id: the note of the event that put it in its current state}, for those whose event has one."""
    if not tickets:
        return {}
    rows = db.session.execute(select(TicketEvent.ticket_id, TicketEvent.to_status, TicketEvent.note).where(
        TicketEvent.ticket_id.in_([t.id for t in tickets]), TicketEvent.to_status.is_not(None))
        .order_by(TicketEvent.id))
    status = {t.id: t.status.value for t in tickets}
    latest = {ticket_id: note for ticket_id, to_status, note in rows if to_status == status[ticket_id]}
    return {ticket_id: note for ticket_id, note in latest.items() if note}


def _at_most(text, limit):
    """GeoReport caps a description at 4,000 characters; another door's ticket may hold more."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _view(ticket, submission, merged_number, note):
    """One GeoReport request."""
    agency = agency_of(ticket)
    status_notes = NOTES[ticket.status].format(agency=agency, into=merged_number or "")
    if note:
        status_notes = f"{status_notes}：{note}"
    category = ticket.category
    return {
        "service_request_id": ticket.number,
        "status": "closed" if ticket.status in CLOSED else "open",
        "status_notes": status_notes,
        "service_name": category.name if category else "待分类",
        "service_code": category.code if category else "unclassified",
        "description": _description(ticket, submission),
        "agency_responsible": agency,
        "service_notice": service_notice(ticket),
        "requested_datetime": iso(ticket.created_at),
        "updated_datetime": iso(ticket.updated_at),
        "expected_datetime": iso(ticket.resolution_due_at),
        "address": ticket.address or ticket.location_label,
        "address_id": submission.address_id if submission else None,
        "zipcode": None,
        "lat": ticket.latitude,
        "long": ticket.longitude,
        "media_url": _media_url(ticket, submission),
    }
