"""Ratings of a resolution: whether it is still open to rating, keeping one, and the auto-close when none comes."""
from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.orm.exc import StaleDataError

from dispatch.extensions import db
from dispatch.org.principal import SYSTEM
from dispatch.tickets import pipeline
from dispatch.tickets.lifecycle import RATING, RESOLVING, IllegalTransition, Status
from dispatch.tickets.models import Ticket
from dispatch.tickets.pipeline import Command
from dispatch.tickets.rating_scale import RATINGS  # noqa: F401 (callers read the names here)

AUTO_CLOSE_BATCH = 200


def rated_since_resolved(ticket):
    """Whether the latest resolution has a rating (the resident's own, or one heard on a call-back)."""
    last_resolve = max((e.id for e in ticket.events if e.kind in RESOLVING), default=0)
    return any(e.kind in RATING and e.id > last_resolve for e in ticket.events)


def rate(principal, ticket, rating, note, **data):
    """The command that keeps a rating (the "rate" action: rating columns and a "rated" entry)."""
    return Command(principal, ticket, "rate", note=note, fields={"rating": rating, **data})


def _awaiting_rating(cutoff):
    """Resolved at or before cutoff and not rated since (the rate action sets rated_at with every "rated" event)."""
    return (Ticket.status == Status.RESOLVED, Ticket.resolved_at <= cutoff,
            or_(Ticket.rated_at.is_(None), Ticket.rated_at < Ticket.resolved_at))


def _still_unrated(ticket):
    """The same test in Python, on the row as loaded (no timeline read per ticket)."""
    return ticket.status is Status.RESOLVED and (ticket.rated_at is None or ticket.rated_at < ticket.resolved_at)


def auto_close(now, days=None):
    """Close resolved tickets nobody rated within AUTO_CLOSE_DAYS (0: never); returns the numbers closed."""
    days = current_app.config["AUTO_CLOSE_DAYS"] if days is None else days
    if days <= 0:
        return []
    cutoff, closed, after = now - timedelta(days=days), [], 0
    while True:
        batch = db.session.scalars(select(Ticket).where(*_awaiting_rating(cutoff), Ticket.id > after)
                                   .order_by(Ticket.id).limit(AUTO_CLOSE_BATCH)).all()
        if not batch:
            return closed
        after = batch[-1].id  # read now: a rollback below expires the objects
        closed.extend(ticket.number for ticket in batch if _close_unrated(ticket, days, now))


def _close_unrated(ticket, days, now):
    """Close one ticket as the system; one rated or changed meanwhile is skipped (its version moved on)."""
    try:
        # After an earlier ticket's rollback this reloads the row, so the check sees it as it is now.
        if not _still_unrated(ticket):
            return False
        pipeline.act(SYSTEM, ticket, "close", note=f"居民 {days} 天未评价，系统自动关闭", now=now)
    except (StaleDataError, IllegalTransition):
        db.session.rollback()
        return False
    return True


def run_auto_close(now):
    """The scheduler job: close resolved tickets left unrated; returns how many."""
    return len(auto_close(now))
