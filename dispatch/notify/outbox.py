"""Writing the outbox: the rows for one or many News, in the caller's transaction; quiet hours decide when."""
from datetime import datetime, time, timedelta

from flask import current_app
from sqlalchemy import insert, select

from dispatch.extensions import db
from dispatch.notify.models import Notification, Status
from dispatch.notify.rules import messages_for
from dispatch.org.models import User
from dispatch.org.roles import Role
from dispatch.timeutil import as_utc, local


def publish(news_items):
    """Write the notifications the events call for (nothing is sent here); returns how many."""
    rows = [row for news in news_items for row in _rows(news)]
    if rows:
        db.session.execute(insert(Notification.__table__), rows)
    return len(rows)


def _rows(news):
    for message in messages_for(news):
        for resident_id, user_id in _recipients(news, message.who):
            urgent = message.urgent or news.urgent
            yield {"created_at": news.at, "event": message.event, "audience": message.audience,
                   "ticket_id": news.ticket_id, "resident_id": resident_id, "user_id": user_id,
                   "facts": news.facts, "urgent": urgent, "status": Status.PENDING, "attempts": 0,
                   "next_attempt_at": _first_attempt(news.at, message.audience, urgent)}


def _recipients(news, who):
    """(resident_id, user_id) pairs for one audience of one event."""
    if who == "residents":
        return [(rid, None) for rid in dict.fromkeys(news.resident_ids) if rid]
    if who == "volunteer":
        ids = [news.volunteer_id]
    elif who == "previous_volunteer":
        ids = [news.previous_volunteer_id]
    elif who == "named":
        ids = list(news.to_user_ids)
    elif who == "directors":
        ids = _staff(Role.COMMUNITY_DIRECTOR, User.community_id, news.community_id)
    else:
        ids = _staff(Role.STREET_SUPERVISOR, User.street_id, news.street_id)
    return [(None, uid) for uid in dict.fromkeys(ids) if uid]


def _staff(role, column, scope_id):
    if scope_id is None:
        return []
    return list(db.session.scalars(select(User.id).where(User.role == role, column == scope_id,
                                                         User.active.is_(True)).order_by(User.id)))


def _first_attempt(at, audience, urgent):
    """Now, or for a resident's non-urgent message inside quiet hours, the moment they end."""
    if urgent or audience != "resident":
        return at
    return after_quiet_hours(at, current_app.config["NOTIFY_QUIET_HOURS"])


def parse_quiet_hours(spec):
    """'22:00-07:00' → (time(22), time(7)); blank → None (no quiet hours)."""
    if not (spec or "").strip():
        return None
    start, _, end = spec.partition("-")
    return tuple(time.fromisoformat(part.strip()) for part in (start, end))


def after_quiet_hours(at, spec):
    """`at` itself outside quiet hours, else the (UTC) moment the quiet hours that hold `at` end."""
    window = parse_quiet_hours(spec)
    if window is None:
        return at
    start, end = window
    here = local(at)
    clock = here.time()
    quiet = (start <= clock or clock < end) if start > end else (start <= clock < end)
    if not quiet:
        return at
    wake = datetime.combine(here.date(), end, tzinfo=here.tzinfo)
    if wake <= here:
        wake += timedelta(days=1)
    return as_utc(wake)
