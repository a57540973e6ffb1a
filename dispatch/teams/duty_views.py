"""The duty roster page (值班表): who is on duty tonight first, the week's shifts, adding and removing one."""
from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select

from dispatch.errors import Forbidden, Invalid, NotFound
from dispatch.extensions import db
from dispatch.org.auth import console_principal
from dispatch.org.models import Street
from dispatch.org.roles import ROLE_LABELS, Role
from dispatch.org.services import communities_in_scope
from dispatch.sla.calendars import office_hours_text
from dispatch.teams import duty, duty_roster
from dispatch.timeutil import local, now

bp = Blueprint("duty", __name__, url_prefix="/duty")

# Volunteers are on the roster too: they read their community's (their own nights among them), never edit it.
VIEWERS = {Role.DISTRICT_ADMIN, Role.STREET_SUPERVISOR, Role.COMMUNITY_DIRECTOR, Role.COMMUNITY_STAFF, Role.VOLUNTEER}
EDITORS = {Role.DISTRICT_ADMIN, Role.STREET_SUPERVISOR, Role.COMMUNITY_DIRECTOR}
WEEKDAY_NAMES = "一二三四五六日"


@bp.before_request
@login_required
def _staff_only():
    if console_principal().role not in VIEWERS:
        raise Forbidden("值班表只供社区、街道、区的工作人员和服务队志愿者查看")


def _choices(principal):
    """(key, label, Roster) of every roster the caller may open: the street's own first, then each community."""
    communities = communities_in_scope(principal)
    choices = []
    if principal.role in (Role.DISTRICT_ADMIN, Role.STREET_SUPERVISOR):
        street_ids = list(dict.fromkeys(c.street_id for c in communities))
        for street in db.session.scalars(select(Street).where(Street.id.in_(street_ids)).order_by(Street.code)):
            roster = duty_roster.roster_of(street=street)
            choices.append((f"street-{street.code}", roster.name, roster))
    choices += [(c.code, c.name, duty_roster.roster_of(community=c)) for c in communities]
    return communities, choices


def _chosen(choices, key):
    if not choices:
        raise NotFound("没有可查看的值班表")
    if not key:
        return choices[0]
    found = next((choice for choice in choices if choice[0] == key), None)
    if found is None:
        raise NotFound("找不到这个值班表")
    return found


def _page(key, typed=None, errors=None, status=200):
    principal = console_principal()
    at = now()
    communities, choices = _choices(principal)
    chosen = _chosen(choices, key)
    roster = chosen[2]
    covered = [roster.community] if roster.community else [c for c in communities if c.street_id == roster.street_id]
    return render_template(
        "teams/duty.html", choices=choices, chosen=chosen, roster=roster, at=local(at),
        on_duty=[duty_roster.tonight(c, at) for c in covered], shifts=duty_roster.week(roster, at),
        people=duty_roster.people(roster), alerts=duty_roster.waiting_alerts([c.id for c in covered]),
        can_edit=principal.role in EDITORS, typed=typed or {}, errors=errors or {}, local=local,
        office_hours=office_hours_text(covered[0]) if covered else "", minutes=duty.escalate_minutes(),
        tomorrow=(local(at) + timedelta(days=1)).strftime("%Y-%m-%d"), ROLE_LABELS=ROLE_LABELS, WEEKDAY_NAMES=WEEKDAY_NAMES, called=duty.called), status


@bp.get("")
def roster_page():
    """Who is on duty tonight, the week's shifts, and (for the director or supervisor) a form to add one."""
    return _page(request.args.get("roster"))


def _editable(key):
    principal = console_principal()
    if principal.role not in EDITORS:
        raise Forbidden("只有社区主任、街道督办员和区管理员可以安排值班")
    return _chosen(_choices(principal)[1], key)[2]


@bp.post("/shifts")
def add_shift():
    """Add a shift (person, from, to) to the chosen roster."""
    key = request.form.get("roster") or ""
    roster = _editable(key)
    try:
        shift = duty_roster.add_shift(roster, request.form, console_principal().label, now())
    except Invalid as exc:
        return _page(key, typed=request.form.to_dict(), errors={"message": exc.message, **exc.fields}, status=422)
    flash(f"已安排 {shift.user.display_name} 值班：{local(shift.starts_at):%m月%d日 %H:%M} 至 "
          f"{local(shift.ends_at):%m月%d日 %H:%M}", "success")
    return redirect(url_for("duty.roster_page", roster=key))


@bp.post("/shifts/<int:shift_id>/delete")
def remove_shift(shift_id):
    """Take a shift off the roster."""
    key = request.form.get("roster") or ""
    shift = duty_roster.remove_shift(_editable(key), shift_id)
    flash(f"已取消 {shift.user.display_name} {local(shift.starts_at):%m月%d日 %H:%M} 起的值班", "success")
    return redirect(url_for("duty.roster_page", roster=key))


@bp.get("/shifts")
@bp.get("/shifts/<int:shift_id>/delete")
def back_to_roster(shift_id=None):
    """A form's address opened directly: back to the roster page."""
    return redirect(url_for("duty.roster_page"))
