"""A ticket's timeline: append-only events, written only with the change they record."""
from dispatch.extensions import db
from dispatch.tickets.models import TicketEvent


def event_fields(principal, kind, now, note=None, from_status=None, to_status=None, **data):
    """The columns of a timeline event."""
    return {"at": now, "kind": kind, "actor_user_id": principal.user_id, "actor_label": principal.label,
            "note": note, "data": data, "from_status": from_status.value if from_status else None,
            "to_status": to_status.value if to_status else None}


def record(ticket, principal, kind, now, **fields):
    """Append one event to a ticket's timeline (committed with the change it records)."""
    event = TicketEvent(ticket=ticket, **event_fields(principal, kind, now, **fields))
    db.session.add(event)
    return event
