"""Writing the outbox: the rows for one or many News, in the caller's transaction; quiet hours decide when."""
from datetime import datetime, time, timedelta

from flask import current_app
from sqlalchemy import insert, literal, select

from dispatch.extensions import db
from dispatch.notify.models import Notification, Status
from dispatch.notify.rules import messages_for
from dispatch.org.models import User
from dispatch.org.roles import Role
from dispatch.timeutil import as_utc, local


STAFF = {"directors": (Role.COMMUNITY_DIRECTOR, User.community_id, "community_id"),
         "supervisors": (Role.STREET_SUPERVISOR, User.street_id, "street_id")}


def publish(news_items):
    """Write the notifications the events call for (nothing is sent here)."""
    rows, staff = [], []
    for news in news_items:
        for message in messages_for(news):
            if message.who in STAFF:
                staff.append((news, message))
            else:
                rows.extend(_row(news, message, resident_id, user_id)
                            for resident_id, user_id in _recipients(news, message.who))
    if rows:
        db.session.execute(insert(Notification.__table__), rows)
    for news, message in staff:
        _insert_for_staff(news, message)


def _row(news, message, resident_id=None, user_id=None):
    urgent = message.urgent or news.urgent
    facts = news.facts
    if message.audience == "resident" and facts.get("resident_status"):
        facts = {**facts, "status": facts["resident_status"]}  # "已安排人员", not staff's "已派单"
    return {"created_at": news.at, "event": message.event, "audience": message.audience,
            "ticket_id": news.ticket_id, "resident_id": resident_id, "user_id": user_id,
            "facts": facts, "urgent": urgent, "status": Status.PENDING, "attempts": 0,
            "next_attempt_at": _first_attempt(news.at, message.audience, urgent)}


def _recipients(news, who):
    """(resident_id, user_id) pairs for one audience of one event, other than a community's or street's staff."""
    if who == "residents":
        return [(rid, None) for rid in dict.fromkeys(news.resident_ids) if rid]
    ids = {"volunteer": [news.volunteer_id], "previous_volunteer": [news.previous_volunteer_id],
           "named": list(news.to_user_ids)}[who]
    return [(None, uid) for uid in dict.fromkeys(ids) if uid]


def _insert_for_staff(news, message):
    """One INSERT … SELECT for the active directors (or supervisors) of the ticket's community (or street):
    a new ticket costs one statement here, not a look-up and an insert."""
    role, column, scope = STAFF[message.who]
    scope_id = getattr(news, scope)
    if scope_id is None:
        return
    table = Notification.__table__
    values = _row(news, message)
    del values["user_id"]
    chosen = select(*(literal(v, table.c[k].type).label(k) for k, v in values.items()), User.id.label("user_id"))
    chosen = chosen.where(User.role == role, column == scope_id, User.active.is_(True))
    db.session.execute(insert(table).from_select([*values, "user_id"], chosen))


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
