"""The staff console's ticket pages: the queue, a ticket with its actions, and phone intake."""
from dataclasses import dataclass
from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required
from marshmallow import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from dispatch.errors import STALE_MESSAGE, AppError, Conflict, Invalid, NotFound
from dispatch.extensions import db
from dispatch.notify import services as notify_services
from dispatch.notify.rules import AUDIENCE_LABELS, EVENT_LABELS as EVENT_NAMES
from dispatch.org.auth import console_principal
from dispatch.org.models import Department, User
from dispatch.org.principal import phone_for
from dispatch.org.roles import Role
from dispatch.org.services import communities_in_scope
from dispatch.sla import display as sla_display, services as sla
from dispatch.sla.calendars import calendar_for
from dispatch.storage import storage
from dispatch.tickets import callbacks, duplicates, pipeline, queries, services, tasks
from dispatch.tickets.categories import active_categories, category_named
from dispatch.tickets.effects import holder_name
from dispatch.tickets.lifecycle import (ACTIONS, CHASES, MANAGERS, STAFF_TRANSITIONS, SUPERVISORS, TRANSITIONS,
                                        ActionNotPermitted, IllegalTransition, NotHolder, Status, allowed_actions,
                                        holds, may_hold)
from dispatch.tickets.models import PRIORITY_LABELS, Channel, Priority, TicketEvent
from dispatch.tickets.ratings import RATINGS
from dispatch.api.schemas import TicketListIn
from dispatch.console.forms import ActionForm, CallbackForm, ChaseForm, ClassifyForm, CommentForm, DescribeForm
from dispatch.forms import load_form
from dispatch.timeutil import now

bp = Blueprint("tickets", __name__)

# Functions (principal, ticket) → [(label, text)]: what a door kept about a request (Open311's key, email…),
# registered by the door so that tickets need not import it.
DOOR_FACTS = []


def door_facts(function):
    """Register a function that adds rows to the ticket page's facts (decorator)."""
    DOOR_FACTS.append(function)
    return function


CHANGE_ERRORS = (AppError, IllegalTransition, ActionNotPermitted, StaleDataError)
FILTER_LABELS = {"status": "状态", "community": "社区", "street": "街道", "category": "分类", "channel": "渠道",
                 "created_from": "起始日期", "created_to": "截止日期", "overdue": "仅看超时", "q": "关键词",
                 "page": "页码", "per_page": "每页条数", "sort": "排序"}
EVENT_LABELS = {"created": "创建工单", "classified": "调整分类", "comment": "备注", "photo_added": "添加照片",
                "merged_in": "重复工单并入", "described": "补充内容", "located": "记录位置",
                "photo_received": "居民补充照片", "voice_received": "收到语音", "voice_saved": "语音已保存",
                "media_refused": "文件未能保存", "rated": "居民评价", "urge": "催办", "supervise": "督办",
                "callback": "回访", "nudge": "居民催一催"} | {name: action.label for name, action in TRANSITIONS.items()}


# ---- queue ----

def _read_filters(args):
    """The queue's query string as filters; values that fail are dropped and named for the page."""
    raw = {k: v.strip() for k, v in args.items() if v.strip()}
    try:
        filters, bad = TicketListIn().load(raw), {}
    except ValidationError as exc:
        bad = {k: raw.get(k, "") for k in exc.messages}
        filters = TicketListIn().load({k: v for k, v in raw.items() if k not in bad})
    if len(raw.get("created_to", "")) == 10 and filters["created_to"]:
        filters["created_to"] += timedelta(days=1)  # a date picked as the end includes that whole day
    filters["sort"] = raw.get("sort", "newest")
    if filters["sort"] not in queries.SORTS:
        bad["sort"], filters["sort"] = filters["sort"], "newest"
    kept = {k: v for k, v in raw.items() if k not in bad}
    problems = [f"筛选条件「{FILTER_LABELS.get(k, k)}」的取值无效（{v}），已忽略" for k, v in bad.items()]
    return filters, kept, problems


def _without(args, *names):
    """A copy of the query arguments without some of them (for tab and page links)."""
    return {k: v for k, v in args.items() if k not in names}


@dataclass(frozen=True)
class ClockCell:
    """One SLA clock as a page shows it: the view, its words and its colour class."""

    view: sla.ClockView
    text: str
    css: str


def _clock_cell(ticket, view):
    """A clock's words in its own measure (a working day is the community's day of office hours)."""
    if view is None:
        return None
    day = calendar_for(ticket.community).day_minutes if view.working else sla_display.DAY_MINUTES
    return ClockCell(view, sla_display.time_left_text(view, day), sla_display.css_class(view))


def _queue_clocks(tickets, at):
    """The clock that matters now for each row of this page only (policies come from sla's per-process cache)."""
    return {t.id: _clock_cell(t, sla.current_view(t, at)) for t in tickets}


def _nudged(tickets):
    """How many times the residents of this page's open tickets pressed 催一催 (one query for the page)."""
    ids = [t.id for t in tickets if t.status in ACTIONS["nudge"].sources]
    if not ids:
        return {}
    rows = db.session.execute(select(TicketEvent.ticket_id, func.count()).where(
        TicketEvent.ticket_id.in_(ids), TicketEvent.kind == ACTIONS["nudge"].kind).group_by(TicketEvent.ticket_id))
    return dict(rows.all())


@bp.get("/")
@login_required
def queue():
    """The ticket queue of the caller's scope, filtered, sorted and paginated."""
    principal = console_principal()
    filters, kept, problems = _read_filters(request.args)
    page, per_page, sort, at = filters.pop("page"), filters.pop("per_page"), filters.pop("sort"), now()
    result = queries.list_tickets(principal, filters, at, page, per_page, sort=sort)
    return render_template(
        "tickets/queue.html", result=result, clocks=_queue_clocks(result.items, at), nudged=_nudged(result.items),
        counts=queries.counts_by_status(principal, filters, at), problems=problems, args=kept,
        tab_args=_without(kept, "status", "page"), page_args=_without(kept, "page"),
        communities=communities_in_scope(principal), categories=active_categories(),
        channels=list(Channel), sorts=queries.SORT_LABELS, at=at, is_late=queries.is_overdue,
        can_intake=principal.role in MANAGERS)


# ---- one ticket ----

# The one function (ticket, now) → the volunteers the dispatch drop-down lists, each with `username`, `name` and
# `standing` (where they stand for this ticket): registered by teams, whose rules those are.
VOLUNTEER_CHOICES = []


def volunteer_choices(function):
    """Register the function that lists the drop-down's volunteers with their standing (decorator)."""
    VOLUNTEER_CHOICES[:] = [function]
    return function


def _dispatch_targets(ticket, at):
    """The volunteers of the ticket's team, with their standing, and the departments it can be forwarded to."""
    volunteers = VOLUNTEER_CHOICES[0](ticket, at) if VOLUNTEER_CHOICES else []
    return volunteers, db.session.scalars(select(Department).order_by(Department.name)).all()


def _names(ticket):
    """Display names for the usernames and department codes the timeline mentions."""
    users = {e.data.get("assignee") for e in ticket.events if e.data} - {None}
    depts = {e.data.get("department") for e in ticket.events if e.data} - {None}
    people = select(User.username, User.display_name).where(User.username.in_(users))
    units = select(Department.code, Department.name).where(Department.code.in_(depts))
    return dict(db.session.execute(people).all()) | dict(db.session.execute(units).all())


@bp.get("/tickets/<number>")
@login_required
def detail(number):
    """One ticket: its facts, photos, timeline, and forms for what the caller may do now."""
    return _detail_page(number)


def _detail_page(number, typed=None, refused=None):
    """The ticket page as it stands now; typed is (form name, values) of a refused form, to show again, and
    refused the refusal (its fields say what to ask: a dispatch's `confirm` lists why it needs a confirmation)."""
    principal = console_principal()
    ticket = services.get_visible(principal, number)
    holder = tasks.holder_of(tasks.open_task(ticket))  # a holder's buttons only for whoever holds the ticket
    actions = [a for a in allowed_actions(ticket.status, principal.role) if may_hold(a.name, principal, holder)]
    held_by = None if holder.is_community or holds(principal, holder) else holder.name
    at = now()
    volunteers, departments = _dispatch_targets(ticket, at) if ACTIONS["dispatch"] in actions else ([], [])
    categories = active_categories()
    can_merge = principal.role in ACTIONS["merge"].roles and ticket.status in ACTIONS["merge"].sources
    alike = duplicates.likely_duplicates(ticket, current_app.config["DUPLICATE_WINDOW_DAYS"]) if can_merge else []
    return render_template(
        "tickets/detail.html", t=ticket, actions=actions, held_by=held_by, phone=phone_for(principal, ticket.resident),
        clocks=[_clock_cell(ticket, view) for view in sla.views(ticket, at)],
        is_admin=principal.role is Role.DISTRICT_ADMIN,
        volunteers=volunteers, departments=departments, categories=categories,
        category_names={c.code: c.name for c in categories}, names=_names(ticket),
        can_classify=principal.role in ACTIONS["accept"].roles, event_labels=EVENT_LABELS,
        priorities=list(Priority), PRIORITY_LABELS=PRIORITY_LABELS, at=at, is_late=queries.is_overdue,
        alike=alike, reporters=services.reporters_of(ticket), notices=notify_services.for_ticket(ticket.id),
        notice_labels=notify_services.STATUS_LABELS, notice_events=EVENT_NAMES, audiences=AUDIENCE_LABELS,
        can_chase=principal.role in SUPERVISORS and queries.is_overdue(ticket, at),
        can_call_back=callbacks.can_call_back(principal, ticket), ratings=RATINGS, reached_labels=callbacks.REACHED,
        typed_form=typed[0] if typed else None, typed=typed[1] if typed else {}, callback_max=callbacks.MAX_NOTE,
        refusal=refused,
        door_facts=[row for facts in DOOR_FACTS for row in facts(principal, ticket)])


def _reason(exc):
    """The message a failed change shows, in Chinese."""
    if isinstance(exc, AppError):
        return exc.message
    return STALE_MESSAGE if isinstance(exc, StaleDataError) else str(exc)


def _refreshed(number, status=409):
    """The ticket page after a lost race (409) or a refused holder's action (403); a ticket the race took out
    of the caller's hands says so."""
    try:
        return detail(number), status
    except NotFound:
        raise Conflict(f"工单 {number} 已被他人处理（撤回或改派），不再由您办理") from None


def _perform(number, change, form_name=None):
    """Run one change on a visible ticket, flash the outcome, and go back to the ticket (PRG).

    Refused input (422) shows the page again with what was typed in the form named form_name, so nothing is lost.
    """
    principal = console_principal()
    ticket = services.get_visible(principal, number)
    try:
        flash(change(principal, ticket), "success")
    except CHANGE_ERRORS as exc:
        db.session.rollback()
        flash(_reason(exc), "error")
        if isinstance(exc, (StaleDataError, Conflict)):  # someone else changed it first: show it as it is now
            return _refreshed(number)
        if isinstance(exc, NotHolder):  # the page, with who holds the ticket, for someone who does not
            return _refreshed(number, 403)
        if isinstance(exc, Invalid) and form_name:
            return _detail_page(number, typed=(form_name, request.form.to_dict()), refused=exc), 422
    return redirect(url_for(".detail", number=number))


def _target(data):
    """Whom a dispatch goes to: "assignee:<username>" or "department:<code>"."""
    kind, _, value = data["target"].partition(":")
    if kind not in ("assignee", "department") or not value:
        raise Invalid("请选择派单对象：本社区志愿者或职能部门")
    return {kind: value}


# The fields of the action form each command takes, beyond the note and the version.
ACTION_FIELDS = {
    "dispatch": lambda data: _target(data) | {"confirm": data["confirm"]},
    "merge": lambda data: {"into": data["into"].strip()},
    "request_extension": lambda data: {"extension_days": data["extension_days"]},
    "approve_extension": lambda data: {"extension_days": data["extension_days"]},
}


def _action_params(name, data):
    """The extra inputs an action needs: whom to dispatch to, which ticket to merge into, how many days."""
    return ACTION_FIELDS[name](data) if name in ACTION_FIELDS else {}


@bp.post("/tickets/<number>/actions/<name>")
@login_required
def act(number, name):
    """Take a lifecycle action (受理、派单、办结…) from the ticket page."""
    def change(principal, ticket):
        if name not in STAFF_TRANSITIONS:
            raise Invalid(f"未知的操作「{name}」")
        data = load_form(ActionForm(), request.form)
        params = _action_params(name, data)
        pipeline.act(principal, ticket, name, note=data["note"], version=data["version"], **params)
        return f"已执行「{ACTIONS[name].label}」，工单当前状态：{ticket.status.label}"
    return _perform(number, change, name)


@bp.post("/tickets/<number>/classify")
@login_required
def classify(number):
    """Change a ticket's category and priority."""
    def change(principal, ticket):
        data = load_form(ClassifyForm(), request.form)
        category, priority = category_named(data["category"]), data["priority"]
        if not category and not priority:
            raise Invalid("请选择分类或紧急程度")
        pipeline.act(principal, ticket, "classify", note=data["note"], version=data["version"], category=category,
                     priority=Priority(priority) if priority else None)
        return "已更新分类和紧急程度"
    return _perform(number, change, "classify")


@bp.post("/tickets/<number>/comments")
@login_required
def add_comment(number):
    """Add a note to the ticket's timeline."""
    def change(principal, ticket):
        pipeline.act(principal, ticket, "comment", load_form(CommentForm(), request.form)["note"])
        return "已添加备注"
    return _perform(number, change, "comment")


@bp.post("/tickets/<number>/chase/<kind>")
@login_required
def chase(number, kind):
    """Urge (催办) or supervise (督办) a late ticket from its page."""
    def change(principal, ticket):
        if kind not in CHASES:
            raise Invalid(f"未知的操作「{kind}」")
        pipeline.act(principal, ticket, kind, load_form(ChaseForm(), request.form)["note"])
        return f"已{ACTIONS[kind].label}，{holder_name(ticket)}会在工单上看到"
    return _perform(number, change, kind)


@bp.post("/tickets/<number>/describe")
@login_required
def describe(number):
    """Write down what a photo, a voice or a call was about (a ticket opened without words)."""
    def change(principal, ticket):
        data = load_form(DescribeForm(), request.form)
        pipeline.act(principal, ticket, "describe", note=data["description"], version=data["version"],
                     address=data["address"] or None)
        return "已补充诉求内容"
    return _perform(number, change, "describe")


@bp.post("/tickets/<number>/photos")
@login_required
def upload_photo(number):
    """Attach a photo to the ticket."""
    def change(principal, ticket):
        upload = request.files.get("photo")
        if upload is None or not upload.filename:
            raise Invalid("请选择要上传的照片")
        limit = current_app.config["MAX_PHOTO_BYTES"]
        pipeline.act(principal, ticket, "photo", note="添加照片", data=upload.read(limit + 1),
                     storage=storage(current_app), max_bytes=limit)
        return "照片已上传"
    return _perform(number, change)


def _reached(value):
    """The call-back form's 已接通 (1) / 未接通 (0); None when neither was picked."""
    return {"1": True, "0": False}.get(value or "")


def _callback_done(reached, rating, rated, ticket):
    """What the flash says after a call-back is recorded."""
    said = f"居民{RATINGS[rating]}" if rating else callbacks.REACHED[reached]
    if rated and ticket.status is Status.CLOSED:
        return f"已记录回访：{said}，工单已关闭"
    if rated:
        return f"已记录回访：{said}，已记为这次办结的评价。需要重新办理的，请点「重办…」"
    if rating:
        why = "工单已关闭" if ticket.status is Status.CLOSED else "这次办结已有评价"
        return f"已记录回访：{said}（{why}，满意度只记在回访记录里）"
    return f"已记录回访：{said}"


@bp.post("/tickets/<number>/callbacks")
@login_required
def call_back(number):
    """Record a call-back (回访): reached or not, the resident's satisfaction, what was said."""
    principal = console_principal()
    ticket = services.get_visible(principal, number)
    try:
        data = load_form(CallbackForm(), request.form)
        reached, rating = _reached(data["reached"]), data["rating"]
        rated = callbacks.record_callback(principal, ticket, reached, rating, data["note"], now(),
                                          version=data["version"])
    except (StaleDataError, Conflict) as exc:  # changed since the page was shown, or not resolved: show it as it is
        db.session.rollback()
        flash(_reason(exc), "error")
        return _refreshed(number)
    except Invalid as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _detail_page(number, typed=("callback", request.form.to_dict())), 422
    flash(_callback_done(reached, rating, rated, ticket), "success")
    return redirect(url_for(".detail", number=number))
