"""The desks: a volunteer's tasks on the phone (签收、谢绝、开始、完成) and a department's forwarded tickets."""
import functools

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from dispatch.errors import STALE_MESSAGE, AppError, Conflict, Forbidden, NotFound
from dispatch.extensions import db, login_manager
from dispatch.images import RejectedPhoto
from dispatch.org.auth import console_principal
from dispatch.org.roles import Role
from dispatch.teams import desk_cards as cards, desk_services as desk
from dispatch.teams.skills import RETURN_REASONS
from dispatch.tickets import contacts, pipeline, services
from dispatch.tickets.lifecycle import MANAGERS, ActionNotPermitted, IllegalTransition
from dispatch.console.forms import CommentForm
from dispatch.console.tickets import CHANGE_ERRORS, EVENT_LABELS
from dispatch.forms import load_form
from dispatch.teams.forms import DeclineForm, ExtensionForm, ResultForm, ReturnForm, StepForm
from dispatch.timeutil import now

bp = Blueprint("desk", __name__, url_prefix="/desk")

DESK_ERRORS = CHANGE_ERRORS + (RejectedPhoto,)
RACE_PREFIX = "工单刚被他人处理，以下是最新情况。"
TIMELINE_EXCERPT = 8


# ---- who may come in ----

@bp.before_request
def _desk_users_only():
    """Volunteers and department users only; managers are sent to the console queue, anyone else 403."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.role in desk.DESK_ROLES:
        return None
    if current_user.role in MANAGERS and request.method == "GET":
        return redirect(url_for("tickets.queue"))
    raise Forbidden("工作台只供365服务队志愿者和职能部门使用")


def only(role):
    """Limit a view to one desk role (a department cannot 'finish' a volunteer's task, and back)."""
    def wrap(view):
        @functools.wraps(view)
        def checked(*args, **kwargs):
            if current_user.role is not role:
                raise Forbidden(f"此操作只供{role.label}使用")
            return view(*args, **kwargs)
        return checked
    return wrap


# ---- pages ----

@bp.get("/")
def index():
    """我的任务 for a volunteer, the forwarded tickets for a department user."""
    principal = console_principal()
    return _task_list(principal) if principal.role is Role.VOLUNTEER else _department_page(principal)


def _task_list(principal, status=200, error=None):
    """The volunteer's open tasks, most urgent first, and their past tickets, each once."""
    at = now()
    tasks = cards.ordered(desk.open_tasks(principal), "urgent")
    return render_template("desk/tasks.html", tasks=tasks, ended=desk.ended_tasks(principal), outcomes=desk.OUTCOMES,
                           deadlines={t.ticket_id: cards.deadline(t.ticket, at) for t in tasks},
                           at=at, error=error), status


def _department_page(principal, status=200, error=None, focus=None, values=None):
    """The department desk: open forwarded tickets in the chosen order and filter, then their past tickets."""
    at = now()
    sort = cards.choose(request.args.get("sort"), cards.SORTS, "urgent")
    show = cards.choose(request.args.get("show"), cards.FILTERS, "all")
    every = desk.open_tasks(principal)
    tasks = [t for t in cards.ordered(every, sort) if cards.shown(t, show, at) or t.ticket.number == focus]
    return render_template(
        "desk/department.html", tasks=tasks, ended=desk.ended_tasks(principal), outcomes=desk.OUTCOMES,
        choices={t.ticket_id: desk.choices(principal, t.ticket, t) for t in tasks}, extras=desk.EXTRAS,
        deadlines={t.ticket_id: cards.deadline(t.ticket, at) for t in tasks},
        phones=contacts.phones_of(principal, [(t.ticket, t) for t in tasks], at),
        sort=sort, show=show, sorts=cards.SORTS, filters=cards.FILTERS,
        counts={name: sum(cards.shown(t, name, at) for t in every) for name in cards.FILTERS},
        reasons=RETURN_REASONS, at=at, error=error, focus=focus, values=values or {}), status


def _ticket_of(principal, number, past=True):
    """(ticket, until): a ticket the caller may see (until None), or (past) one they once had a task on and the
    end of that task (what happened after it is not theirs to read); else NotFound."""
    try:
        return services.get_visible(principal, number), None
    except NotFound:
        task = desk.last_task_on(principal, number) if past else None
        if task is None or task.ended_at is None:
            raise
        return task.ticket, task.ended_at


def _task_page(principal, number, status=200, error=None, values=None, past=True):
    """One of the caller's tasks, open or past, with the ticket's facts and the buttons for what they can do now."""
    ticket, until = _ticket_of(principal, number, past)
    events = [e for e in ticket.events if until is None or e.at <= until][-TIMELINE_EXCERPT:][::-1]
    can = desk.choices(principal, ticket)
    at = now()
    return render_template(
        "desk/task.html", t=ticket, task=desk.task_of(principal, ticket), can=can, moves=sorted(can - desk.EXTRAS),
        phone=contacts.phone_of(principal, ticket, at), deadline=cards.deadline(ticket, at), events=events,
        event_labels=EVENT_LABELS, outcomes=desk.OUTCOMES, error=error, values=values or {}, at=at), status


@bp.get("/tasks/<number>")
def task(number):
    """One task of the caller's, open or past (a department's open ones are cards on its desk); else 404."""
    principal = console_principal()
    if principal.role is Role.DEPARTMENT_USER and desk.choices(principal, _ticket_of(principal, number)[0]):
        return redirect(url_for(".index", _anchor=f"t-{number}"))
    return _task_page(principal, number)


@bp.get("/tasks/<number>/<any(sign, start, decline, comments, photos, finish, return, extension, resolve):action>")
def action_page(number, action):
    """An action's address opened or reloaded (it only takes a form): the page the action belongs to."""
    return redirect(url_for(".task", number=number), 303)


# ---- changes: success redirects back (PRG); a refusal shows the page again with its status ----

def _status(exc):
    """The HTTP status of a refused change."""
    if isinstance(exc, AppError):
        return exc.status
    if isinstance(exc, ActionNotPermitted):
        return 403
    return 422 if isinstance(exc, RejectedPhoto) else 409


def _message(exc):
    """The Chinese message of a refused change; a state that moved on says that someone else moved it."""
    if isinstance(exc, IllegalTransition):
        return RACE_PREFIX + str(exc)
    if isinstance(exc, AppError):
        return exc.message
    return STALE_MESSAGE if not isinstance(exc, (RejectedPhoto, ActionNotPermitted)) else str(exc)


def _refused(principal, number, exc):
    """The refreshed page after a refused change: the task, the department desk, or the list if it is gone."""
    db.session.rollback()
    status = _status(exc)
    message, values = _message(exc), request.form.to_dict()
    if principal.role is Role.DEPARTMENT_USER:
        return _department_page(principal, status, message, focus=number, values=values)
    try:
        return _task_page(principal, number, status, message, values, past=False)
    except NotFound:  # taken back or withdrawn meanwhile: the list, with why
        return _task_list(principal, status, message)


def _gone(principal, number, missing):
    """A task taken away before the click (withdrawn, taken back) is a lost race: 409, not 'no such ticket'."""
    task = desk.last_task_on(principal, number)
    if task is None or task.ended_at is None:
        raise missing
    outcome = desk.OUTCOMES.get(task.outcome, "已结束")
    return _refused(principal, number, Conflict(f"{RACE_PREFIX}这项任务：{outcome}。"))


def _perform(number, change, to_list=False):
    """Run one change on a ticket the caller holds; flash and redirect (to the task, or the list when the task
    has just left the caller's hands), or show why not."""
    principal = console_principal()
    try:
        ticket = services.get_visible(principal, number)
    except NotFound as missing:
        return _gone(principal, number, missing)
    try:
        # Visible is not enough: a past holder still sees a reopened ticket but must not act on it.
        desk.check_holding(principal, ticket)
        message = change(principal, ticket)
    except DESK_ERRORS as exc:
        return _refused(principal, number, exc)
    flash(message, "success")
    on_list = to_list or principal.role is not Role.VOLUNTEER
    back = url_for(".index") if on_list else url_for(".task", number=number)
    return redirect(back, 303)


def _form(schema):
    """The posted form through its schema (a refusal is an Invalid: the page again, with what was typed)."""
    return load_form(schema, request.form)


def _transition(name, done, schema=StepForm):
    """A view body for a plain lifecycle action; the schema says whether its note is required."""
    def change(principal, ticket):
        data = _form(schema())
        pipeline.act(principal, ticket, name, note=data["note"], version=data["version"])
        return done
    return change


@bp.post("/tasks/<number>/sign")
def sign(number):
    """签收: the holder takes the task on."""
    return _perform(number, _transition("sign", "已签收，请尽快联系居民"))


@bp.post("/tasks/<number>/start")
@only(Role.VOLUNTEER)
def start(number):
    """开始办理."""
    return _perform(number, _transition("start", "已开始办理"))


@bp.post("/tasks/<number>/decline")
@only(Role.VOLUNTEER)
def decline(number):
    """谢绝: the volunteer gives the task back with a reason; the community sends it to someone else."""
    return _perform(number, _transition("return", "已谢绝这项任务，社区会另行安排", DeclineForm), to_list=True)


@bp.post("/tasks/<number>/comments")
def add_comment(number):
    """添加备注 while the task is the caller's."""
    def change(principal, ticket):
        pipeline.act(principal, ticket, "comment", _form(CommentForm())["note"])
        return "已添加备注"
    return _perform(number, change)


@bp.post("/tasks/<number>/photos")
def add_photo(number):
    """上传照片 while the task is the caller's (checked and cleaned like residents' photos)."""
    def change(principal, ticket):
        desk.add_photo(principal, ticket, request.files.get("photo"), now())
        return "照片已上传"
    return _perform(number, change)


@bp.post("/tasks/<number>/finish")
@only(Role.VOLUNTEER)
def finish(number):
    """完成: the 'after' photo and a note, attached and resolved in one transaction."""
    def change(principal, ticket):
        data = _form(ResultForm())
        desk.finish(principal, ticket, request.files.get("photo"), data["note"], data["version"], now())
        return "已完成，谢谢您！社区会回访居民"
    return _perform(number, change)


@bp.post("/tasks/<number>/return")
@only(Role.DEPARTMENT_USER)
def return_ticket(number):
    """退单: a reason from the list plus free text; the ticket goes back to the community."""
    def change(principal, ticket):
        data = _form(ReturnForm())
        note = desk.return_note(data["reason"], data["note"])
        pipeline.act(principal, ticket, "return", note=note, version=data["version"])
        return f"工单 {number} 已退回社区"
    return _perform(number, change)


@bp.post("/tasks/<number>/extension")
@only(Role.DEPARTMENT_USER)
def request_extension(number):
    """申请延期: a reason and 1–60 days, only before the resolution deadline; the street decides."""
    def change(principal, ticket):
        data = _form(ExtensionForm())
        days = desk.extension_days(data["extension_days"])
        desk.request_extension(principal, ticket, data["note"], days, data["version"], now())
        return f"已申请延期 {days} 天，等待街道审批"
    return _perform(number, change)


@bp.post("/tasks/<number>/resolve")
@only(Role.DEPARTMENT_USER)
def resolve(number):
    """办结 with a note on what was done."""
    return _perform(number, _transition("resolve", f"工单 {number} 已办结", ResultForm))
