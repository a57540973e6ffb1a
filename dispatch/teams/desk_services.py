"""The desks' services: a holder's tasks, what they can do now, and the changes beyond one transition."""
import re

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from dispatch.errors import Conflict, Invalid
from dispatch.extensions import db
from dispatch.images import process_photo
from dispatch.notify.addresses import openid_source
from dispatch.org.models import User
from dispatch.org.roles import Role
from dispatch.storage import storage
from dispatch.teams.models import Volunteer
from dispatch.teams.skills import RETURN_REASONS
from dispatch.tickets import pipeline, tasks
from dispatch.tickets.lifecycle import allowed_actions
from dispatch.tickets.pipeline import Command
from dispatch.tickets.models import Assignment, Ticket
from dispatch.templating import shanghai

DESK_ROLES = frozenset({Role.VOLUNTEER, Role.DEPARTMENT_USER})
HISTORY = 10
EXTRAS = frozenset({"note", "photo"})  # offered while the task is the caller's, whatever its state
OUTCOMES = {"resolved": "已办结", "declined": "已谢绝", "returned": "已退单", "withdrawn": "社区已撤回",
            "timed_out": "超时未签收，已收回"}
# What each desk offers, by the lifecycle action behind it.
DESK_ACTIONS = {
    Role.VOLUNTEER: {"sign": "sign", "decline": "return", "start": "start", "finish": "resolve"},
    Role.DEPARTMENT_USER: {"sign": "sign", "return": "return", "extension": "request_extension",
                           "resolve": "resolve"},
}


@openid_source
def volunteer_openids(user_ids):
    """The openids on these volunteers' profiles, for their notifications."""
    return dict(db.session.execute(select(Volunteer.user_id, Volunteer.openid).where(
        Volunteer.user_id.in_(user_ids), Volunteer.openid.is_not(None))).all())


def volunteer_for_openid(openid):
    """The active volunteer whose profile holds this WeChat openid, or None."""
    return db.session.scalar(select(User).join(Volunteer, Volunteer.user_id == User.id).where(
        Volunteer.openid == openid, User.active.is_(True), User.role == Role.VOLUNTEER))


def _held_by(principal):
    """Tasks held by this volunteer, or by this user's department."""
    if principal.role is Role.VOLUNTEER:
        return Assignment.user_id == principal.user_id
    return Assignment.department_id == principal.department_id


def _tasks(principal):
    ticket = joinedload(Assignment.ticket)
    return select(Assignment).options(ticket.joinedload(Ticket.category), ticket.joinedload(Ticket.community)).where(
        _held_by(principal))


def open_tasks(principal):
    """The caller's tasks still under way, newest dispatch first."""
    return db.session.scalars(_tasks(principal).where(Assignment.ended_at.is_(None))
                              .order_by(Assignment.dispatched_at.desc(), Assignment.id.desc())).all()


def ended_tasks(principal, limit=HISTORY):
    """The caller's tickets whose latest task of theirs has ended (已结束), each once, most recently ended first."""
    latest = select(func.max(Assignment.id)).where(_held_by(principal)).group_by(Assignment.ticket_id)
    return db.session.scalars(_tasks(principal).where(Assignment.id.in_(latest), Assignment.ended_at.is_not(None))
                              .order_by(Assignment.ended_at.desc(), Assignment.id.desc()).limit(limit)).all()


def task_of(principal, ticket):
    """The caller's latest task on this ticket (open or ended), or None."""
    return db.session.scalar(select(Assignment).where(Assignment.ticket_id == ticket.id, _held_by(principal))
                             .order_by(Assignment.id.desc()).limit(1))


def last_task_on(principal, number):
    """The caller's latest task on the ticket with this number, even one no longer visible to them."""
    return db.session.scalar(select(Assignment).join(Ticket, Ticket.id == Assignment.ticket_id).where(
        Ticket.number == number, _held_by(principal)).order_by(Assignment.id.desc()).limit(1))


def check_holding(principal, ticket):
    """Refuse any desk change on a ticket whose open task is not the caller's (ended, or someone else's)."""
    if not tasks.holds(principal, ticket):
        raise Conflict("这项任务已经结束或已交给他人，不能再操作。以下是最新情况。")


def choices(principal, ticket, task=None):
    """The desk buttons the caller may press now: a set of names from DESK_ACTIONS, plus note and photo."""
    if not tasks.holds(principal, ticket, task):
        return set()
    possible = {a.name for a in allowed_actions(ticket.status, principal.role)}
    offered = {name for name, action in DESK_ACTIONS[principal.role].items() if action in possible}
    if principal.role is Role.VOLUNTEER and ticket.status.value not in ("signed", "in_progress"):
        offered.discard("finish")
    return offered | EXTRAS


def _ready(principal, ticket, name, version, note=None):
    """Check the command before anything is stored (a photo file is written before the commit)."""
    pipeline.check(Command(principal, ticket, name, note=note, version=version))


def _cleaned(upload, missing):
    """An uploaded photo checked and cleaned (upright, no EXIF or location, shrunk); raises RejectedPhoto."""
    if upload is None or not upload.filename:
        raise Invalid(missing, fields={"photo": ["必填"]})
    limit = current_app.config["MAX_PHOTO_BYTES"]
    return process_photo(upload.read(limit + 1), max_bytes=limit)


def add_photo(principal, ticket, upload, now):
    """A photo from the holder of the task, cleaned like a resident's, noted on the timeline."""
    _ready(principal, ticket, "photo", None)
    photo = _cleaned(upload, "请选择要上传的照片")
    pipeline.act(principal, ticket, "photo", note="上传现场照片", now=now, cleaned=photo, storage=storage(current_app))


def finish(principal, ticket, upload, note, version, now):
    """完成: attach the 'after' photo and resolve in one transaction; nothing is kept if either is refused."""
    photo = _cleaned(upload, "完成任务需要上传一张办好后的现场照片")
    _ready(principal, ticket, "resolve", version, note)
    pipeline.execute(Command(principal, ticket, "photo", note="办好后的现场照片",
                             fields={"cleaned": photo, "storage": storage(current_app)}),
                     Command(principal, ticket, "resolve", note=note, version=version), now=now)


def return_note(reason, text):
    """The 退单 note: "<reason>：<text>", the reason from RETURN_REASONS; "其他" needs the text."""
    if reason not in RETURN_REASONS:
        raise Invalid("请从列表中选择退单原因", fields={"reason": ["必选"]})
    if reason == "其他" and not text:
        raise Invalid("选择「其他」时请写明退单原因", fields={"note": ["必填"]})
    return f"{reason}：{text}" if text else reason


def extension_days(value):
    """Days of extension asked for: a whole number from 1 to 60."""
    text = (value or "").strip()
    if not re.fullmatch(r"[0-9]{1,2}", text) or not 1 <= int(text) <= 60:
        raise Invalid("延期天数请填写 1 到 60 之间的整数", fields={"extension_days": ["1–60"]})
    return int(text)


def past_deadline(ticket, now):
    """Whether the ticket's resolution deadline has passed (then no extension may be asked for)."""
    return ticket.resolution_due_at is not None and now >= ticket.resolution_due_at


def request_extension(principal, ticket, reason, days, version, now):
    """申请延期, only before the resolution deadline; a street supervisor approves or refuses it."""
    _ready(principal, ticket, "request_extension", version, reason)
    if past_deadline(ticket, now):
        raise Invalid(f"已超过办结时限（{shanghai(ticket.resolution_due_at)}），不能再申请延期。"
                      "请尽快办结，或联系社区说明情况", fields={"extension_days": ["已超过办结时限"]})
    pipeline.act(principal, ticket, "request_extension", note=reason, version=version, now=now,
                 extension_days=days)
