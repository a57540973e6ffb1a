"""Console pages for SLA policies and the working calendar (district admins only), and the calendar's banner."""
from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from dispatch.errors import Forbidden, Invalid, NotFound
from dispatch.extensions import db
from dispatch.org.auth import console_principal
from dispatch.org.models import Community, Street
from dispatch.org.roles import Role
from dispatch.sla import calendar_admin, calendars, policies
from dispatch.sla.calendar import format_office_hours
from dispatch.sla.clock import UNIT_LABELS, Unit
from dispatch.sla.models import CHAIN_LABELS, CHAIN_ROLES, CalendarDay, CalendarYear, SlaPolicy
from dispatch.tickets.models import PRIORITY_LABELS, Category, Priority, Ticket
from dispatch.timeutil import local, now

bp = Blueprint("sla", __name__, url_prefix="/sla")

EDIT_NOTICE = "修改只对之后新建的工单生效，已有工单按原规则计时"
ERROR_TICKETS = 50
BANNER_MONTH = 11  # from November on, next year's holidays are due (the State Council publishes them then)


@bp.before_request
@login_required
def _district_admins_only():
    """Every page here is for district admins; anyone else gets 403 like the rest of the console."""
    if console_principal().role is not Role.DISTRICT_ADMIN:
        raise Forbidden("只有区管理员可以管理时限规则和工作日历")


def _refused(exc):
    """An Invalid's message with its fields named in Chinese."""
    if not exc.fields:
        return exc.message
    return "；".join(f"{policies.FORM_FIELDS.get(name, name)}：{errors[0]}" for name, errors in exc.fields.items())


# ---- policies ----

def _values(policy):
    """A policy as the edit form shows it."""
    return {"name": policy.name, "category": policy.category.code if policy.category else "",
            "priority": policy.priority.value if policy.priority else "",
            "response_amount": policy.response_amount, "response_unit": policy.response_unit.value,
            "resolution_amount": policy.resolution_amount, "resolution_unit": policy.resolution_unit.value,
            "warn_percent": policy.warn_percent, "escalation_chain": list(policy.chain),
            "escalation_step_percent": policy.escalation_step_percent}


def _typed(form):
    """What was typed, to show again after a refusal."""
    typed = {name: form.get(name, "") for name in policies.FORM_FIELDS}
    return typed | {"escalation_chain": form.getlist("escalation_chain")}


NEW_POLICY = {"name": "", "category": "", "priority": "", "response_amount": 1,
              "response_unit": Unit.WORKING_DAYS.value, "resolution_amount": 7, "resolution_unit": Unit.DAYS.value,
              "warn_percent": 75, "escalation_chain": list(CHAIN_ROLES), "escalation_step_percent": 25}


def _policies_page(new=None, edits=None, error=None, status=200):
    """The policies page; new and edits hold typed values after a refusal, error its message."""
    rows = db.session.scalars(select(SlaPolicy).where(SlaPolicy.active).options(joinedload(SlaPolicy.category))).all()
    rows = policies.in_choice_order(rows)
    errored = db.session.scalars(
        select(Ticket).where(Ticket.sla_error.is_not(None)).options(joinedload(Ticket.community))
        .order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(ERROR_TICKETS)).all()
    edits = edits or {}
    return render_template(
        "sla/policies.html", policies=rows, values={p.id: edits.get(p.id) or _values(p) for p in rows},
        open_edit=next(iter(edits), None), new=new or NEW_POLICY, error=error, notice=EDIT_NOTICE,
        categories=db.session.scalars(select(Category).where(Category.active).order_by(Category.sort_order)).all(),
        priorities=list(Priority), PRIORITY_LABELS=PRIORITY_LABELS, units=list(Unit), UNIT_LABELS=UNIT_LABELS,
        chain_roles=CHAIN_ROLES, CHAIN_LABELS=CHAIN_LABELS, errored=errored, error_limit=ERROR_TICKETS), status


def _who():
    return current_user.username


@bp.get("/policies")
def policies_page():
    """Active policies, most specific first, with forms to add, edit and retire; tickets without clocks."""
    return _policies_page()


@bp.post("/policies")
def add_policy():
    """A new policy, for tickets opened from now on."""
    try:
        policy = policies.add_policy(policies.read_form(request.form), created_by=_who())
    except Invalid as exc:
        db.session.rollback()
        return _policies_page(new=_typed(request.form), error=_refused(exc), status=400)
    flash(f"已添加时限规则「{policy.name}」", "success")
    return redirect(url_for(".policies_page"))


@bp.post("/policies/<int:policy_id>")
def edit_policy(policy_id):
    """An edit: a new row replaces the old for new tickets; tickets already open keep the old one."""
    try:
        policy = policies.replace_policy(policy_id, policies.read_form(request.form), created_by=_who())
    except Invalid as exc:
        db.session.rollback()
        return _policies_page(edits={policy_id: _typed(request.form)}, error=_refused(exc), status=400)
    except NotFound as exc:
        db.session.rollback()
        flash(exc.message + "（可能已被修改或停用，请刷新后再试）", "error")
        return redirect(url_for(".policies_page"))
    flash(f"已修改时限规则「{policy.name}」：{EDIT_NOTICE}", "success")
    return redirect(url_for(".policies_page"))


@bp.post("/policies/<int:policy_id>/retire")
def retire_policy(policy_id):
    """Stop choosing a policy for new tickets (open tickets keep it)."""
    try:
        policy = policies.retire_policy(policy_id)
    except NotFound as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(f"已停用时限规则「{policy.name}」，已有工单仍按它计时", "success")
    return redirect(url_for(".policies_page"))


# ---- working calendar ----

@bp.app_context_processor
def _calendar_banner():
    """From 1 November, every admin page says so while next year's holidays are not entered."""
    user = current_user
    if not (getattr(user, "is_authenticated", False) and user.role is Role.DISTRICT_ADMIN):
        return {}
    today = local(now()).date()
    if today.month < BANNER_MONTH or calendars.year_entered(today.year + 1):
        return {}
    return {"calendar_missing_year": today.year + 1}


def _year(text, default):
    """The year asked for, within what the grid shows; the default otherwise."""
    return int(text) if text and text.isdigit() and 2000 <= int(text) <= 2100 else default


def _chosen(text):
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _calendar_page(error=None, form=None, typed=None, status=200):
    """The year's month grid with its day editor, local closures, office hours one row at a time, years entered."""
    typed = typed or {}
    today = local(now()).date()
    chosen = _chosen(typed.get("day") if form == "set-day" else request.args.get("day"))
    asked = request.args.get("year") or (typed.get("year", "").strip() if form == "year" else None)
    year = _year(asked, chosen.year if chosen else today.year)
    communities = db.session.scalars(select(Community).join(Street).options(joinedload(Community.street))
                                     .order_by(Street.code, Community.code)).all()
    local_days = db.session.scalars(select(CalendarDay).where(CalendarDay.community_id.is_not(None))
                                    .options(joinedload(CalendarDay.community)).order_by(CalendarDay.day.desc())).all()
    first, last = calendars.package_years()
    return render_template(
        "sla/calendar.html", default_hours=format_office_hours(calendars.default_office_hours()),
        communities=communities, local_days=local_days, year=year, today=today, chosen=chosen,
        grid=calendar_admin.year_grid(year), entered=db.session.get(CalendarYear, year),
        package_first=first, package_last=last, kinds=calendar_admin.KINDS, weekdays=calendar_admin.WEEKDAYS,
        edit=typed.get("community") if form == "hours" else request.args.get("edit"),
        error=error, form=form, typed=typed), status


def _changed(message, counted, **where):
    """After any edit: say what changed and how many tickets without clocks now count, back to the calendar."""
    flash(message + (f"；{counted} 张原先无法计时的工单已开始计时" if counted else ""), "success")
    return redirect(url_for(".calendar", **where))


def _again(form, exc):
    """The calendar page again after a refusal: why, and the form as it was typed (400)."""
    return _calendar_page(error=exc.message, form=form, typed=dict(request.form.items()), status=400)


@bp.get("/calendar")
def calendar():
    """The working calendar: a year's holidays and 调休 days on a month grid, office hours, years entered by hand."""
    return _calendar_page()


@bp.post("/calendar/day")
def set_day():
    """One click on the grid: a day of the whole district becomes 放假, 上班 or normal again."""
    try:
        message, counted = calendar_admin.set_day(request.form)
    except Invalid as exc:
        return _again("set-day", exc)
    day = _chosen(request.form.get("day"))
    return _changed(message, counted, year=day.year, day=day.isoformat(), _anchor="grid")


@bp.post("/calendar/communities/<code>/office-hours")
def set_office_hours(code):
    """A community's own office hours; blank goes back to the district's."""
    try:
        community, counted = calendar_admin.set_office_hours(code, request.form.get("office_hours") or "")
    except calendar_admin.HoursRefused as exc:
        return _calendar_page(error=exc.message, form="hours", typed={"community": code, "office_hours": exc.text},
                              status=400)
    return _changed(f"已更新{community.name}的办公时间：{community.office_hours or '按全区统一时间'}", counted,
                    _anchor="office-hours")


@bp.post("/calendar/days")
def add_day():
    """A holiday, a 调休 working day, or a local closure of one community."""
    try:
        row, counted = calendar_admin.add_day(request.form)
    except Invalid as exc:
        return _again("day", exc)
    kind = "上班" if row.workday else "休息"
    where = row.community.name if row.community else "全区"
    return _changed(f"已添加 {row.day:%Y-%m-%d}（{where}，{kind}）：{row.name}", counted)


@bp.post("/calendar/days/<int:day_id>/delete")
def delete_day(day_id):
    """Remove one row of the holiday table."""
    try:
        row, counted = calendar_admin.delete_day(day_id)
    except NotFound as exc:
        return _gone(exc)
    return _changed(f"已删除 {row.day:%Y-%m-%d} {row.name}", counted)


def _gone(exc):
    """A row already deleted: say so on the calendar page."""
    flash(exc.message, "error")
    return redirect(url_for(".calendar"))


@bp.post("/calendar/years")
def add_year():
    """A year the system does not carry, once its holidays are in the table."""
    text = (request.form.get("year") or "").strip()
    try:
        _, counted = calendar_admin.add_year(text, request.form.get("note") or "")
    except Invalid as exc:
        return _again("year", exc)
    return _changed(f"已确认 {text} 年的安排录完：该年除日历上标出的日子外，周一至周五为工作日", counted, year=text)


@bp.post("/calendar/years/<int:year>/delete")
def delete_year(year):
    """Take back a year entered by mistake: its dates become unknown again."""
    try:
        _, counted = calendar_admin.delete_year(year)
    except NotFound as exc:
        return _gone(exc)
    return _changed(f"已撤销「{year} 年已录完」的确认", counted, year=year)
