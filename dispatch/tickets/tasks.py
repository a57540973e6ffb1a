"""A ticket's tasks (Assignment rows): opened by dispatch, signed for, ended by a return, withdrawal or resolution."""
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.tickets.consequences import step
from dispatch.tickets import lifecycle
from dispatch.tickets.lifecycle import COMMUNITY, Holder
from dispatch.tickets.models import Assignment


def open_task(ticket):
    """The ticket's task still under way, or None."""
    return db.session.scalar(select(Assignment).where(Assignment.ticket_id == ticket.id,
                                                      Assignment.ended_at.is_(None)))


def holder_of(task):
    """Who holds an open task (the community when there is none), for the lifecycle's holder check."""
    if task is None:
        return COMMUNITY
    name = task.user.display_name if task.user is not None else task.department.name
    return Holder(user_id=task.user_id, department_id=task.department_id, name=name)


def holds(principal, ticket, task=None):
    """Whether the ticket's open task (read unless given) is the caller's (or their department's)."""
    task = task if task is not None else open_task(ticket)
    return task is not None and lifecycle.holds(principal, holder_of(task))


@step("task.start", "task")
def start(change, _):
    """A new task for the volunteer or department the ticket was just dispatched to."""
    ticket, now = change.ticket, change.now
    minutes = current_app.config["VOLUNTEER_SIGN_MINUTES"]
    db.session.add(Assignment(ticket_id=ticket.id, user=ticket.assignee, department=ticket.department,
                              dispatched_at=now, dispatched_by_id=change.principal.user_id, note=change.note,
                              sign_due_at=now + timedelta(minutes=minutes) if ticket.assignee is not None else None))


@step("task.sign", "task")
def sign(change, _):
    """The holder has signed for the task (签收)."""
    if change.task is not None:
        change.task.signed_at = change.now


@step("task.end", "task")
def end(change, outcome):
    """The task ends (returned, withdrawn, timed_out, resolved); a volunteer's return is a decline."""
    task = change.task
    if task is None:
        return {}
    task.ended_at, task.reason = change.now, change.note
    task.outcome = "declined" if outcome == "returned" and task.user_id is not None else outcome
    if outcome == "resolved":
        due = change.ticket.resolution_due_at
        task.on_time = due is None or change.now <= due
    else:
        change.ticket.assignee, change.ticket.department = None, None
    return {"task_outcome": task.outcome}


@step("task.on_behalf", "task")
def on_behalf(change, _):
    """The timeline names whose task the director closes for them (代为办结): 志愿者李四, or the department."""
    task = change.task
    if task is None:
        return {}
    who = f"{task.user.role.label}{task.user.display_name}" if task.user is not None else task.department.name
    return {"on_behalf_of": who}
