"""A ticket's tasks (Assignment rows): opened by dispatch, ended by sign-for's opposites or by resolution."""
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.tickets.models import Assignment

# How a task ends, by the action that ends it.
ENDINGS = {"return": "returned", "withdraw": "withdrawn", "take_back": "timed_out", "resolve": "resolved"}


def open_task(ticket):
    """The ticket's task still under way, or None."""
    return db.session.scalar(select(Assignment).where(Assignment.ticket_id == ticket.id,
                                                      Assignment.ended_at.is_(None)))


def start_task(principal, ticket, user, department, note, now):
    """A new task for the volunteer or department a ticket was just dispatched to."""
    minutes = current_app.config["VOLUNTEER_SIGN_MINUTES"]
    task = Assignment(ticket_id=ticket.id, user=user, department=department, dispatched_at=now,
                      dispatched_by_id=principal.user_id, note=note,
                      sign_due_at=now + timedelta(minutes=minutes) if user is not None else None)
    db.session.add(task)
    return task


def follow(principal, ticket, name, now, note=None):
    """Move the ticket's open task along with a lifecycle action (sign, return, withdraw, resolve…)."""
    task = open_task(ticket) if name == "sign" or name in ENDINGS else None
    if task is None:
        return {}
    if name == "sign":
        task.signed_at = now
        return {}
    task.ended_at, task.reason = now, note
    task.outcome = "declined" if name == "return" and task.user_id is not None else ENDINGS[name]
    if name == "resolve":
        task.on_time = ticket.resolution_due_at is None or now <= ticket.resolution_due_at
    else:
        ticket.assignee, ticket.department = None, None
    return {"task_outcome": task.outcome}
