"""The director's dispatch page: ranked volunteers with why, departments for the category, two clicks to send."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from dispatch.console.tickets import volunteer_choices
from dispatch.errors import AppError, Conflict, Invalid
from dispatch.extensions import db
from dispatch.forms import load_form
from dispatch.org.auth import console_principal
from dispatch.teams import services
from dispatch.teams.guard import NeedsConfirmation
from dispatch.teams.forms import DispatchForm
from dispatch.tickets import services as tickets
from dispatch.tickets.lifecycle import ACTIONS, ActionNotPermitted, IllegalTransition, Status, check_role
from dispatch.timeutil import local, now

bp = Blueprint("teams", __name__)

# A NEW ticket is accepted and dispatched in one step; these are the states dispatch itself starts from.
DISPATCHABLE = ACTIONS["dispatch"].sources | {Status.NEW}
RACE_MESSAGE = "工单刚被他人处理（派单或状态已变），以下是最新情况，请确认后再操作"


@volunteer_choices
def _choices(ticket, at):
    """The ticket page's dispatch drop-down lists the team with the standing the guard judges by."""
    return services.choices(ticket, at)


def _page(ticket, status=200, note="", confirming=None):
    """The dispatch page for a ticket, as it stands now; confirming is (target, NeedsConfirmation) to ask about."""
    at = now()
    offer = services.offer(ticket, at) if ticket.status in DISPATCHABLE else services.Offer([], [], ())
    return render_template("teams/dispatch.html", t=ticket, offer=offer, departments=services.departments_for(ticket),
                           dispatchable=ticket.status in DISPATCHABLE, at=local(at), note=note,
                           confirming=confirming), status


@bp.get("/tickets/<number>/dispatch")
@login_required
def dispatch_page(number):
    """Who fits this ticket and why; a director picks one (or a department) and sends it."""
    principal = console_principal()
    check_role("dispatch", principal.role)
    return _page(tickets.get_visible(principal, number))


def _target(target):
    """(volunteer username, department code) from the button pressed."""
    kind, _, value = target.partition(":")
    if kind not in ("assignee", "department") or not value:
        raise Invalid("请选择派单对象：推荐的志愿者或职能部门")
    return (value, None) if kind == "assignee" else (None, value)


@bp.post("/tickets/<number>/dispatch")
@login_required
def dispatch_ticket(number):
    """Send the ticket; a lost race answers 409 with the refreshed page, nothing half-done."""
    principal = console_principal()
    ticket = tickets.get_visible(principal, number)
    note = request.form.get("note", "")  # as typed: a refused page shows it again
    try:
        data = load_form(DispatchForm(), request.form)
        volunteer, department = _target(data["target"])
        services.assign(principal, ticket, now(), volunteer=volunteer, department=department, note=data["note"],
                        version=data["version"], confirm=data["confirm"])
    except (StaleDataError, Conflict, IntegrityError, IllegalTransition) as exc:
        db.session.rollback()
        flash(RACE_MESSAGE if not isinstance(exc, IllegalTransition) else str(exc), "error")
        return _page(tickets.get_visible(principal, number), status=409, note=note)
    except NeedsConfirmation as exc:  # on leave, off shift or without the skill: ask, saying why
        db.session.rollback()
        return _page(tickets.get_visible(principal, number), status=422, note=note,
                     confirming=(data["target"], exc))
    except (AppError, ActionNotPermitted) as exc:
        db.session.rollback()
        flash(exc.message if isinstance(exc, AppError) else str(exc), "error")
        return _page(tickets.get_visible(principal, number), status=422, note=note)
    holder = ticket.assignee.display_name if ticket.assignee else ticket.department.name
    flash(f"已派给{holder}", "success")
    return redirect(url_for("tickets.detail", number=number), 303)
