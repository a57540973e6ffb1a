"""The console queue's own rules: the view and order each user keeps, a ticket number typed in search, the live poll.

The live poll is a tiny JSON answer about what changed in the caller's scope since a cursor (a moment of
tickets.updated_at in microseconds), read through the updated_at index; an unchanged answer is a 304 to the
ETag the console sent, so fifty open consoles polling every 15 s cost the server a few cheap queries a second.
"""
import hashlib
import json
import re
from datetime import datetime, timedelta, timezone

from dispatch.errors import Invalid
from dispatch.extensions import db
from dispatch.org.roles import COMMUNITY_ROLES
from dispatch.tickets import queries
from dispatch.tickets.lifecycle import MANAGERS
from dispatch.tickets.models import Priority

DEFAULTS = {"view": "mine", "sort": "urgent"}
CHOICES = {"view": queries.VIEWS, "sort": queries.SORTS}
NUMBER = re.compile(r"^(\d{8})-?(\d{4})$")
# A change is stamped with the moment its transaction began and becomes visible when it commits: each poll
# looks this far behind its cursor, so a write that committed late is still seen (the console skips repeats).
LAG = timedelta(seconds=10)
MAX_ITEMS = 100
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def choice(user, args):
    """The view and order to show: those asked for in the query string, else those the user kept.

    Returns (choice, bad): bad names the values that were not understood (the kept or default one is used)."""
    kept = {**DEFAULTS, **((user.preferences or {}).get("queue") or {})}
    picked, bad = {}, {}
    for name, allowed in CHOICES.items():
        asked = (args.get(name) or "").strip()
        if asked and asked not in allowed:
            bad[name] = asked
        picked[name] = asked if asked in allowed else (kept[name] if kept.get(name) in allowed else DEFAULTS[name])
    return picked, bad


def remember(user, picked):
    """Keep the user's view and order on their account (written only when it changed)."""
    preferences = dict(user.preferences or {})
    if preferences.get("queue") != picked:
        preferences["queue"] = dict(picked)
        user.preferences = preferences
        db.session.commit()


def typed_number(text):
    """The ticket number a search box holds (20261201-0012, or the 12 digits without the dash), else None."""
    found = NUMBER.match((text or "").strip())
    return f"{found.group(1)}-{found.group(2)}" if found else None


def columns(principal):
    """Which columns say something to this caller: the community for those who see several, the holder for managers."""
    return {"community": principal.role not in COMMUNITY_ROLES, "holder": principal.role in MANAGERS}


# ---- the live poll ----

def cursor_of(moment):
    """A moment as the poll's cursor: whole microseconds since 1970 (UTC)."""
    return (moment - EPOCH) // timedelta(microseconds=1) if moment else 0


def moment_of(cursor):
    """The moment a cursor from the page stands for; a 400 with what to do when it is not one."""
    try:
        value = int(cursor)
        return EPOCH + timedelta(microseconds=value)
    except (TypeError, ValueError, OverflowError):
        raise Invalid("刷新参数无效，请重新打开工单队列页面") from None


def _item(row):
    ticket_id, number, version, status, priority, created_at, updated_at, description, awaits = row
    return {"id": ticket_id, "number": number, "version": version, "status": status.label,
            "urgent": priority is Priority.URGENT, "awaits": bool(awaits), "created": cursor_of(created_at),
            "updated": cursor_of(updated_at), "text": (description or "")[:30]}


def changes(principal, cursor, now):
    """What changed in the caller's scope since the cursor (and LAG before it), and its ETag.

    The answer's cursor is the latest change read, so the next poll starts there."""
    since = moment_of(cursor)
    items = [_item(row) for row in queries.changed_since(principal, since - LAG, now, limit=MAX_ITEMS)]
    latest = max([int(cursor)] + [item["updated"] for item in items])
    body = {"cursor": latest, "items": items}
    etag = hashlib.blake2b(json.dumps(body, sort_keys=True).encode(), digest_size=12).hexdigest()
    return body, etag
