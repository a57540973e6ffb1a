"""The staff console's ticket pages: the queue, a ticket with its actions, and phone intake."""
from dataclasses import dataclass
from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from marshmallow import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from dispatch.errors import STALE_MESSAGE, AppError, Conflict, Invalid, NotFound
from dispatch.extensions import db
from dispatch.notify import services as notify_services
from dispatch.notify.rules import AUDIENCE_LABELS, EVENT_LABELS as EVENT_NAMES
from dispatch.org.auth import console_principal
from dispatch.org.models import Department, User
from dispatch.org.roles import Role
from dispatch.org.services import communities_in_scope
from dispatch.sla import display as sla_display, services as sla
from dispatch.sla.calendars import calendar_for
from dispatch.storage import storage
from dispatch.tickets import callbacks, contacts, duplicates, pipeline, queries, services, tasks
from dispatch.tickets.pipeline import Command
from dispatch.tickets.categories import active_categories, category_named
from dispatch.tickets.effects import DEFAULT_EXTENSION_DAYS, holder_name
from dispatch.tickets.lifecycle import (ACTIONS, ANYONE, CHASES, MANAGERS, STAFF_TRANSITIONS, SUPERVISORS,
                                        ActionNotPermitted, IllegalTransition, NotHolder, OPEN_STATUSES, Status,
                                        allowed_actions,
                                        holds, may_hold)
from dispatch.tickets.models import PRIORITY_LABELS, Channel, Priority, TicketEvent
from dispatch.tickets.ratings import RATINGS
from dispatch.api.schemas import TicketListIn
from dispatch.console import queue as queue_rules
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
                 "page": "页码", "per_page": "每页条数", "sort": "排序", "view": "视图"}
QUEUE_PAGE = 50
# What each timeline entry is called: every action's own label from the lifecycle table (so a new action never
# shows its code), then the entries no action writes (opening, the SLA sweep) and wordings kinder than the label.
EVENT_LABELS = {action.kind: action.label for action in ACTIONS.values()} | {
    "created": "创建工单", "merged_in": "重复工单并入", "classified": "调整分类", "rated": "居民评价",
    "sla_warning": "时限预警", "sla_breach": "已超时", "sla_escalation": "超时升级"}


# ---- queue ----

def _read_filters(args, user):
    """The queue's query string as filters; values that fail are dropped and named for the page.

    The view (待我处理, 全部在办…) and the order come from the query string, else from what the user kept."""
    raw = {k: v.strip() for k, v in args.items() if v.strip() and k not in queue_rules.CHOICES}
    try:
        filters, bad = TicketListIn().load(raw), {}
    except ValidationError as exc:
        bad = {k: raw.get(k, "") for k in exc.messages}
        filters = TicketListIn().load({k: v for k, v in raw.items() if k not in bad})
    if len(raw.get("created_to", "")) == 10 and filters["created_to"]:
        filters["created_to"] += timedelta(days=1)  # a date picked as the end includes that whole day
    if "per_page" not in raw:
        filters["per_page"] = QUEUE_PAGE  # compact rows: a laptop screen holds this many, a scroll holds the rest
    picked, wrong = queue_rules.choice(user, args)
    filters.update(picked)
    kept = {k: v for k, v in raw.items() if k not in bad} | picked
    problems = [f"筛选条件「{FILTER_LABELS.get(k, k)}」的取值无效（{v}），已忽略" for k, v in (bad | wrong).items()]
    return filters, kept, picked, problems


def _without(args, *names):
    """A copy of the query arguments without some of them (for tab and page links)."""
    return {k: v for k, v in args.items() if k not in names}


@dataclass(frozen=True)
class ClockCell:
    """One SLA clock as a page shows it: the view, its words and its colour class."""

    view: sla.ClockView
    text: str
    css: str


def _clock_cell(ticket, view, at=None):
    """A clock's words in its own measure (a working day is the community's day of office hours); given `at`, a
    late clock says how late in calendar time, as every list of tickets does."""
    if view is None:
        return None
    day = calendar_for(ticket.community).day_minutes if view.working else sla_display.DAY_MINUTES
    late = at is not None and view.state == "overdue" and view.due_at is not None
    text = sla_display.late_text(view.due_at, at) if late else sla_display.time_left_text(view, day)
    return ClockCell(view, text, sla_display.css_class(view))


def _queue_clocks(tickets, at):
    """The clock that matters now for each row of this page only (policies come from sla's per-process cache)."""
    return {t.id: _clock_cell(t, sla.current_view(t, at), at) for t in tickets}


def _nudged(tickets):
    """How many times the residents of this page's open tickets pressed 催一催 (one query for the page)."""
    ids = [t.id for t in tickets if t.status in ACTIONS["nudge"].sources]
    if not ids:
        return {}
    rows = db.session.execute(select(TicketEvent.ticket_id, func.count()).where(
        TicketEvent.ticket_id.in_(ids), TicketEvent.kind == ACTIONS["nudge"].kind).group_by(TicketEvent.ticket_id))
    return dict(rows.all())


def _opened_by_number(principal, filters):
    """A ticket number typed in search opens that ticket; (redirect, None), or (None, problem) when none is visible."""
    number = queue_rules.typed_number(filters.get("q"))
    if number is None:
        return None, None
    try:
        services.get_visible(principal, number)
    except NotFound:  # missing and out of scope read the same: nothing is revealed
        return None, f"没有找到工单 {number}，请核对工单号"
    return redirect(url_for(".detail", number=number)), None


@bp.get("/")
@login_required
def queue():
    """The caller's queue: what awaits them first (紧急, then least time left), in the view and order they keep."""
    principal = console_principal()
    filters, kept, picked, problems = _read_filters(request.args, current_user)
    opened, missing = _opened_by_number(principal, filters)
    if opened:
        return opened
    queue_rules.remember(current_user, picked)
    page, per_page, at = filters.pop("page"), filters.pop("per_page"), now()
    result = queries.list_tickets(principal, filters, at, page, per_page, sort=filters["sort"],
                                  holders=True)
    html = render_template(
        "tickets/queue.html", result=result, clocks=_queue_clocks(result.items, at), nudged=_nudged(result.items),
        counts=queries.counts_by_status(principal, filters, at), views=queries.counts_by_view(principal, filters, at),
        view_labels=queries.VIEW_LABELS, problems=problems + [missing] * bool(missing), args=kept,
        tab_args=_without(kept, "status", "view", "page"), page_args=_without(kept, "page"),
        communities=communities_in_scope(principal), categories=active_categories(),
        channels=list(Channel), sorts=queries.SORT_LABELS, at=at, is_late=queries.is_overdue,
        can_intake=principal.role in MANAGERS, show=queue_rules.columns(principal), holder_name=holder_name,
        cursor=queue_rules.cursor_of(at), poll_seconds=current_app.config["QUEUE_POLL_SECONDS"])
    return html, 404 if missing else 200


@bp.get("/queue/changes")
@login_required
def queue_changes():
    """The live poll: what changed in the caller's scope since a cursor, or 304 when the console has it already."""
    body, etag = queue_rules.changes(console_principal(), request.args.get("since"), now())
    if request.if_none_match.contains(etag):
        response = current_app.response_class(status=304)
    else:
        response = current_app.json.response(body)
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache, private"
    return response


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


# The step that moves a ticket on, in the order a person looks for it: the first one this user may take is the
# page's one blue button; the others are plain, and the ones that undo or refuse are red.
NEXT_STEPS = ("approve_extension", "accept", "dispatch", "sign", "start", "resume", "resolve", "close")
UNDOING = ("invalidate", "return", "refuse_extension", "withdraw")


@dataclass(frozen=True)
class Buttons:
    """The action box as this user sees it: the one primary action, the others, and what leads the page."""

    primary: object            # the Action of the blue button, or None
    others: list               # the other Actions, in the table's order
    undoing: tuple = UNDOING
    reassign: bool = False     # 改派: take the task back and dispatch it to someone else in one go
    overseer: bool = False     # a street supervisor: 催办/督办 and extension decisions lead, no holder's buttons


def _buttons(principal, ticket, holder):
    """The actions this user may take now, grouped: holder's actions only for the holder; a street supervisor
    never sees them (they oversee, the community and its holders act)."""
    overseer = principal.role is Role.STREET_SUPERVISOR
    actions = [a for a in allowed_actions(ticket.status, principal.role) if may_hold(a.name, principal, holder)
               and not (overseer and a.holder != ANYONE)]
    steps = NEXT_STEPS[:1] if overseer else NEXT_STEPS  # a supervisor's own step is deciding an extension
    primary = next((a for name in steps for a in actions if a.name == name), None)
    reassign = ACTIONS["withdraw"] in actions and principal.role in ACTIONS["dispatch"].roles
    return Buttons(primary, [a for a in actions if a is not primary], reassign=reassign, overseer=overseer)


def _detail_page(number, typed=None, refused=None):
    """The ticket page as it stands now; typed is (form name, values) of a refused form, to show again, and
    refused the refusal (its fields say what to ask: a dispatch's `confirm` lists why it needs a confirmation)."""
    principal = console_principal()
    ticket = services.get_visible(principal, number)
    holder = tasks.holder_of(tasks.open_task(ticket))  # a holder's buttons only for whoever holds the ticket
    buttons = _buttons(principal, ticket, holder)
    actions = ([buttons.primary] if buttons.primary else []) + buttons.others
    held_by = None if holder.is_community or holds(principal, holder) else holder.name
    wants_targets = ACTIONS["dispatch"] in actions or buttons.reassign
    at = now()
    volunteers, departments = _dispatch_targets(ticket, at) if wants_targets else ([], [])
    categories = active_categories()
    can_merge = principal.role in ACTIONS["merge"].roles and ticket.status in ACTIONS["merge"].sources
    alike = duplicates.likely_duplicates(ticket, current_app.config["DUPLICATE_WINDOW_DAYS"]) if can_merge else []
    return render_template(
        "tickets/detail.html", t=ticket, actions=actions, buttons=buttons, held_by=held_by, phone=contacts.phone_of(principal, ticket, at),
        clocks=[_clock_cell(ticket, view) for view in sla.views(ticket, at)],
        is_admin=principal.role is Role.DISTRICT_ADMIN,
        volunteers=volunteers, departments=departments, categories=categories,
        category_names={c.code: c.name for c in categories}, names=_names(ticket),
        can_classify=principal.role in ACTIONS["accept"].roles, event_labels=EVENT_LABELS,
        priorities=list(Priority), PRIORITY_LABELS=PRIORITY_LABELS, at=at, is_late=queries.is_overdue,
        alike=alike, reporters=services.reporters_of(ticket), notices=notify_services.for_ticket(ticket.id),
        notice_labels=notify_services.STATUS_LABELS, notice_events=EVENT_NAMES, audiences=AUDIENCE_LABELS,
        can_chase=principal.role in SUPERVISORS and queries.is_overdue(ticket, at), open_statuses=OPEN_STATUSES,
        can_call_back=callbacks.can_call_back(principal, ticket), ratings=RATINGS, reached_labels=callbacks.REACHED,
        typed_form=typed[0] if typed else None, typed=typed[1] if typed else {}, callback_max=callbacks.MAX_NOTE,
        refusal=refused, default_extension_days=DEFAULT_EXTENSION_DAYS,
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


@bp.post("/tickets/<number>/reassign")
@login_required
def reassign(number):
    """改派: take the task back from whoever holds it and dispatch the ticket to someone else, as one change."""
    def change(principal, ticket):
        data = load_form(ActionForm(), request.form)
        pipeline.execute(Command(principal, ticket, "withdraw", note=data["note"], version=data["version"]),
                         Command(principal, ticket, "dispatch", note=data["note"], fields=ACTION_FIELDS["dispatch"](data)))
        return f"已改派，工单当前状态：{ticket.status.label}"
    return _perform(number, change, "reassign")


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
