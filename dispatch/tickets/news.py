"""What a ticket's change tells the outbox: the News of one event, handed to notify in the same transaction."""
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.notify.outbox import publish
from dispatch.notify.rules import News, any_for_residents
from dispatch.org.family import family_of
from dispatch.org.services import community_by_id
from dispatch.org.roles import Role
from dispatch.tickets.consequences import step
from dispatch.tickets.effects import holder_name
from dispatch.tickets.lifecycle import Status
from dispatch.tickets.models import Priority, TicketReporter
from dispatch.timeutil import local

TIME = "%Y年%m月%d日 %H:%M"
# The sweep's timeline entries that someone must hear of, and the message each sends.
SLA_MESSAGES = {"sla_breach": "breach", "sla_escalation": "escalated"}


def _when(value):
    return local(value).strftime(TIME) if value else ""


def facts(ticket, now, note=None):
    """The values a template may show (templates.SOURCES)."""
    return {"number": ticket.number, "category": ticket.category.name if ticket.category else "未分类",
            "status": ticket.status.label if isinstance(ticket.status, Status) else str(ticket.status),
            # Residents' messages carry the state in their words (outbox swaps it in for them).
            "resident_status": Status(ticket.status).resident_label,
            "note": note or "", "holder": holder_name(ticket),
            "community": ticket.community.name if ticket.community else "",
            "time": _when(now), "due": _when(ticket.resolution_due_at), "description": ticket.description or "",
            "address": ticket.address or ""}


def _residents(ticket):
    merged = db.session.scalars(select(TicketReporter.resident_id).where(TicketReporter.ticket_id == ticket.id)
                                .order_by(TicketReporter.added_at)).all()
    reporters = ([ticket.resident_id] if ticket.resident_id else []) + list(merged)
    return tuple(dict.fromkeys(reporters + list(family_of(reporters))))  # and their family members (代办人)


def _volunteer(user):
    return user.id if user is not None and user.role is Role.VOLUNTEER else None


@step("news", "news")
def announce(change, messages):
    """Write the notifications this change calls for: the table names the messages (notify/rules.MESSAGES)."""
    ticket, principal = change.ticket, change.principal
    community = ticket.community
    role = principal.role
    publish([News(kind=change.command.action, ticket_id=ticket.id, at=change.now, messages=messages,
                  facts=facts(ticket, change.now, change.note),
                  resident_ids=_residents(ticket) if any_for_residents(messages) else (),
                  community_id=ticket.community_id, street_id=community.street_id if community else None,
                  volunteer_id=_volunteer(ticket.assignee), previous_volunteer_id=_volunteer(change.previous_assignee),
                  actor_role=role.value if role else None, urgent=ticket.priority is Priority.URGENT)])


def announce_sla(rows, events, now):
    """The sweep's breaches and escalations, for the people its events name (rows: the claimed ticket rows)."""
    by_id = {row["id"]: row for row in rows}
    items = []
    for event in events:
        if event["kind"] not in SLA_MESSAGES:
            continue
        row = by_id[event["ticket_id"]]
        community = community_by_id(row["community_id"])
        data = event["data"]
        items.append(News(kind=event["kind"], ticket_id=row["id"], at=now, messages=(SLA_MESSAGES[event["kind"]],), to_user_ids=tuple(data["to_user_ids"]),
                          to_role=data.get("to_role"),
                          community_id=row["community_id"], street_id=community.street_id if community else None,
                          urgent=True, facts={"number": row["number"], "note": event["note"], "time": _when(now),
                                              "status": Status(row["status"]).label, "address": row["address"] or "",
                                              "community": community.name if community else "",
                                              "due": data["due_at"][:16].replace("T", " "), "category": ""}))
    if items:
        publish(items)
