"""Console pages for SLA policies and the working calendar (district admins only)."""
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
from dispatch.sla.services import recount_errors
from dispatch.sla import calendars, policies
from dispatch.sla.calendar import format_office_hours, parse_office_hours
from dispatch.sla.clock import UNIT_LABELS, Unit
from dispatch.sla.models import CHAIN_LABELS, CHAIN_ROLES, CalendarDay, CalendarYear, SlaPolicy
from dispatch.tickets.models import PRIORITY_LABELS, Category, Priority, Ticket

bp = Blueprint("sla", __name__, url_prefix="/sla")

POLICY_FIELDS = {"name": "名称", "category": "分类", "priority": "紧急程度", "response_amount": "响应时限",
                 "response_unit": "响应时限单位", "resolution_amount": "办结时限",
                 "resolution_unit": "办结时限单位", "warn_percent": "预警点", "escalation_chain": "升级链",
                 "escalation_step_percent": "升级间隔"}
EDIT_NOTICE = "修改只对之后新建的工单生效，已有工单按原规则计时"
ERROR_TICKETS = 50


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
    return "；".join(f"{POLICY_FIELDS.get(name, name)}：{errors[0]}" for name, errors in exc.fields.items())


# ---- policies ----

def _int(form, name, errors):
    value = (form.get(name) or "").strip()
    try:
        return int(value)
    except ValueError:
        errors[name] = ["请填写整数"]
        return 0


def _choice(form, name, enum, errors, allow_blank=False):
    value = (form.get(name) or "").strip()
    if not value and allow_blank:
        return None
    try:
        return enum(value)
    except ValueError:
        errors[name] = ["请从列表中选择"]
        return None


def _policy_input(form):
    """The policy form as a PolicyInput; what cannot even be read is refused the way validate() refuses."""
    errors = {}
    category = None
    code = (form.get("category") or "").strip()
    if code:
        category = db.session.scalar(select(Category).where(Category.code == code))
        if category is None:
            errors["category"] = [f"未知的分类「{code}」"]
    data = policies.PolicyInput(
        name=(form.get("name") or "").strip(), category=category,
        priority=_choice(form, "priority", Priority, errors, allow_blank=True),
        response_amount=_int(form, "response_amount", errors),
        response_unit=_choice(form, "response_unit", Unit, errors),
        resolution_amount=_int(form, "resolution_amount", errors),
        resolution_unit=_choice(form, "resolution_unit", Unit, errors),
        warn_percent=_int(form, "warn_percent", errors),
        escalation_chain=tuple(form.getlist("escalation_chain")),
        escalation_step_percent=_int(form, "escalation_step_percent", errors))
    if len(data.name) > 64:
        errors["name"] = ["不超过 64 字"]
    if errors:
        try:
            policies.validate(data)  # name every field that is wrong, not only those that could not be read
        except Invalid as exc:
            errors = exc.fields | errors
        raise Invalid("时限规则填写有误", fields={name: errors[name] for name in POLICY_FIELDS if name in errors})
    return data


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
    return {name: form.get(name, "") for name in POLICY_FIELDS} | {"escalation_chain": form.getlist("escalation_chain")}


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
        policy = policies.add_policy(_policy_input(request.form), created_by=_who())
    except Invalid as exc:
        db.session.rollback()
        return _policies_page(new=_typed(request.form), error=_refused(exc), status=400)
    flash(f"已添加时限规则「{policy.name}」", "success")
    return redirect(url_for(".policies_page"))


@bp.post("/policies/<int:policy_id>")
def edit_policy(policy_id):
    """An edit: a new row replaces the old for new tickets; tickets already open keep the old one."""
    try:
        policy = policies.replace_policy(policy_id, _policy_input(request.form), created_by=_who())
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

def _calendar_page(error=None, form=None, typed=None, status=200):
    """Office hours, the holiday table and the years entered by hand."""
    communities = db.session.scalars(select(Community).join(Street).options(joinedload(Community.street))
                                     .order_by(Street.code, Community.code)).all()
    days = db.session.scalars(select(CalendarDay).options(joinedload(CalendarDay.community))
                              .order_by(CalendarDay.day.desc(), CalendarDay.id)).all()
    years = db.session.scalars(select(CalendarYear).order_by(CalendarYear.year)).all()
    first, last = calendars.package_years()
    return render_template(
        "sla/calendar.html", default_hours=format_office_hours(calendars.default_office_hours()),
        communities=communities, days=days, years=years, package_first=first, package_last=last,
        error=error, form=form, typed=typed or {}), status


def _changed(message):
    """After any edit: this process forgets its calendars, open tickets without clocks are counted again."""
    calendars.forget_calendars()
    counted, _ = recount_errors()
    flash(message + (f"；{counted} 张原先无法计时的工单已开始计时" if counted else ""), "success")
    return redirect(url_for(".calendar"))


@bp.get("/calendar")
def calendar():
    """The working calendar: office hours, holidays and 调休 days, years entered by hand."""
    return _calendar_page()


@bp.post("/calendar/communities/<code>/office-hours")
def set_office_hours(code):
    """A community's own office hours; blank goes back to the district's."""
    community = db.session.scalar(select(Community).where(Community.code == code))
    if community is None:
        raise NotFound("找不到该社区")
    text = (request.form.get("office_hours") or "").strip()
    if text:
        try:
            text = format_office_hours(parse_office_hours(text))
        except ValueError as exc:
            return _calendar_page(error=f"{community.name}的办公时间有误：{exc}",
                                  form="hours", typed={"community": code, "office_hours": text}, status=400)
        if len(text) > 64:
            return _calendar_page(error=f"{community.name}的办公时间过长（不超过 64 个字符）",
                                  form="hours", typed={"community": code, "office_hours": text}, status=400)
    community.office_hours = text or None
    db.session.commit()
    return _changed(f"已更新{community.name}的办公时间：{text or '按全区默认'}")


def _day_input(form):
    """The holiday form, checked: a date, whole district or one community, workday or not, a name."""
    try:
        day = date.fromisoformat((form.get("day") or "").strip())
    except ValueError:
        raise Invalid("请填写日期，格式如 2027-01-01") from None
    community = None
    code = (form.get("community") or "").strip()
    if code:
        community = db.session.scalar(select(Community).where(Community.code == code))
        if community is None:
            raise Invalid(f"未知的社区「{code}」")
    if form.get("workday") not in ("1", "0"):
        raise Invalid("请选择这一天是否上班")
    name = (form.get("name") or "").strip()
    if not name or len(name) > 64:
        raise Invalid("请填写名称（不超过 64 字），例如「元旦」或「春节调休上班」")
    same_place = CalendarDay.community_id == community.id if community else CalendarDay.community_id.is_(None)
    if db.session.scalar(select(CalendarDay.id).where(CalendarDay.day == day, same_place)) is not None:
        where = community.name if community else "全区"
        raise Invalid(f"{day:%Y-%m-%d}（{where}）已有设置，如需修改请先删除原有记录")
    return CalendarDay(day=day, community=community, workday=form.get("workday") == "1", name=name)


@bp.post("/calendar/days")
def add_day():
    """A holiday, a 调休 working day, or a local closure of one community."""
    try:
        row = _day_input(request.form)
    except Invalid as exc:
        return _calendar_page(error=exc.message, form="day", typed=dict(request.form.items()), status=400)
    db.session.add(row)
    db.session.commit()
    kind = "上班" if row.workday else "休息"
    return _changed(f"已添加 {row.day:%Y-%m-%d}（{row.community.name if row.community else '全区'}，{kind}）：{row.name}")


@bp.post("/calendar/days/<int:day_id>/delete")
def delete_day(day_id):
    """Remove one row of the holiday table."""
    return _delete(CalendarDay, day_id, "该记录已不存在", lambda row: f"已删除 {row.day:%Y-%m-%d} {row.name}")


def _delete(model, key, missing, done):
    """Delete one calendar row, or say it is already gone."""
    row = db.session.get(model, key)
    if row is None:
        flash(missing, "error")
        return redirect(url_for(".calendar"))
    message = done(row)
    db.session.delete(row)
    db.session.commit()
    return _changed(message)


@bp.post("/calendar/years")
def add_year():
    """A year chinese_calendar does not know, once its holidays are in the table."""
    form = request.form
    first, last = calendars.package_years()
    text, note = (form.get("year") or "").strip(), (form.get("note") or "").strip()
    error = None
    if not text.isdigit() or not 2000 <= int(text) <= 2100:
        error = "请填写 2000 到 2100 之间的年份"
    elif first <= int(text) <= last:
        error = f"{text} 年的节假日安排已由 chinese_calendar 提供，无需手工录入"
    elif db.session.get(CalendarYear, int(text)) is not None:
        error = f"{text} 年已经录入过"
    elif len(note) > 200:
        error = "备注不超过 200 字"
    if error:
        return _calendar_page(error=error, form="year", typed=dict(form.items()), status=400)
    db.session.add(CalendarYear(year=int(text), note=note or None))
    db.session.commit()
    return _changed(f"已录入 {text} 年：该年除节假日表中的日期外，周一至周五为工作日")


@bp.post("/calendar/years/<int:year>/delete")
def delete_year(year):
    """Take back a year entered by mistake: its dates become unknown again."""
    return _delete(CalendarYear, year, "该年份未录入", lambda row: f"已撤销 {year} 年的录入")
