"""What awaits a street supervisor today (the district admin: the whole district's), most urgent first.

Four lists, each read from the live tickets in the caller's scope (tickets.scopes.visible): extension requests
to approve or refuse, tickets the SLA sweep escalated to the street, what is overdue now, and tickets a
department handed back. The landing page after login shows them with their counts.
"""
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import aliased, joinedload

from dispatch.extensions import db
from dispatch.monitor import metrics
from dispatch.monitor.metrics import URGENT_FIRST, Selection
from dispatch.monitor.services import clock_words
from dispatch.org.roles import Role
from dispatch.tickets.effects import DEFAULT_EXTENSION_DAYS
from dispatch.tickets.lifecycle import ACTIONS, CHASES, OPEN_STATUSES, Status
from dispatch.tickets.models import Assignment, Priority, Ticket, TicketEvent
from dispatch.tickets.news import SLA_MESSAGES
from dispatch.tickets.queries import is_overdue
from dispatch.tickets.scopes import visible
from dispatch.timeutil import local

OVERDUE_SHOWN = 10
STREET = "supervisor"  # the street's place in an SLA escalation chain (sla.models.CHAIN_ROLES)
ESCALATIONS = tuple(SLA_MESSAGES)  # the sweep's breach and escalation entries
LOADED = (joinedload(Ticket.community), joinedload(Ticket.category), joinedload(Ticket.assignee),
          joinedload(Ticket.department))
SOONEST = (URGENT_FIRST, Ticket.sla_deadline_at.asc().nulls_last(), Ticket.id)
CHASE_LABELS = {ACTIONS[name].kind: ACTIONS[name].label for name in CHASES}


@dataclass
class Item:
    """One ticket on the page, with what the list adds about it (who asked, when, why)."""

    ticket: object
    clock: str  # 剩余 5 小时, 已超时 3 天, 已暂停
    late: bool
    who: str = ""
    when: object = None
    note: str = ""
    extra: str = ""  # 申请延期 3 天; 街道已催办 12-01 10:00


@dataclass
class Awaiting:
    """The four lists and how many each holds (overdue may list fewer than it counts)."""

    extensions: list = field(default_factory=list)
    escalated: list = field(default_factory=list)
    overdue: list = field(default_factory=list)
    returned: list = field(default_factory=list)
    overdue_total: int = 0
    overdue_shown_above: int = 0  # overdue tickets already in the extension or escalation lists

    @property
    def urgent(self):
        """The 紧急 tickets past their deadline in any list, once each: the page names them before everything."""
        found = {}
        for item in self.escalated + self.overdue + self.extensions + self.returned:
            if item.ticket.priority is Priority.URGENT and item.late:
                found.setdefault(item.ticket.id, item)
        return list(found.values())

    @property
    def counts(self):
        """{list: how many}, in the page's order."""
        return {"extensions": len(self.extensions), "escalated": len(self.escalated),
                "overdue": self.overdue_total, "returned": len(self.returned)}


def _item(ticket, now, **extra):
    words, late = clock_words(ticket, now)
    return Item(ticket, words, late, **extra)


def _latest_events(ticket_ids, kinds):
    """{ticket id: its latest entry of these kinds}, in one query."""
    if not ticket_ids:
        return {}
    rows = db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id.in_(ticket_ids),
                                                        TicketEvent.kind.in_(kinds)).order_by(TicketEvent.id))
    return {event.ticket_id: event for event in rows}


def extension_requests(principal, now):
    """Tickets waiting for the street to approve or refuse an extension, with who asked, for how long and why."""
    tickets = db.session.scalars(select(Ticket).options(*LOADED).where(
        visible(principal), Ticket.status == Status.EXTENSION_REQUESTED).order_by(*SOONEST)).unique().all()
    asked = _latest_events([t.id for t in tickets], [ACTIONS["request_extension"].kind])
    items = []
    for ticket in tickets:
        event = asked.get(ticket.id)
        days = (event.data or {}).get("extension_days") if event else None
        wants = f"申请延期 {days} 天" if days else f"申请延期（未写天数，默认 {DEFAULT_EXTENSION_DAYS} 天）"
        items.append(_item(ticket, now, who=event.actor_label if event else "", when=event.at if event else None,
                           note=event.note or "" if event else "", extra=wants))
    return items


def escalated(principal, now):
    """Open tickets the SLA sweep escalated to the street, with the latest escalation and the street's last chase."""
    reached_street = select(TicketEvent.ticket_id).join(Ticket, Ticket.id == TicketEvent.ticket_id).where(
        visible(principal), Ticket.status.in_(OPEN_STATUSES), TicketEvent.kind.in_(ESCALATIONS),
        TicketEvent.data["to_role"].as_string() == STREET).correlate(None)
    tickets = db.session.scalars(select(Ticket).options(*LOADED).where(Ticket.id.in_(reached_street))
                                 .order_by(*SOONEST)).unique().all()
    ids = [t.id for t in tickets]
    escalations = _latest_events(ids, ESCALATIONS)
    chases = _latest_events(ids, [ACTIONS[name].kind for name in CHASES])
    items = []
    for ticket in tickets:
        event, chase = escalations.get(ticket.id), chases.get(ticket.id)
        chased = chase is not None and event is not None and chase.id > event.id
        items.append(_item(ticket, now, when=event.at if event else None, note=event.note if event else "",
                           extra=f"{local(chase.at):%m-%d %H:%M} 已{CHASE_LABELS[chase.kind]}" if chased else ""))
    return items


def returned_by_departments(principal, now):
    """Tickets a department handed back and nobody has sent on yet, with the department and its reason."""
    earlier = aliased(Assignment)
    latest = select(func.max(earlier.id)).where(earlier.ticket_id == Ticket.id).correlate(Ticket).scalar_subquery()
    rows = db.session.execute(
        select(Ticket, Assignment).options(*LOADED, joinedload(Assignment.department))
        .join(Assignment, Assignment.id == latest)
        .where(visible(principal), Ticket.status == Status.RETURNED, Assignment.department_id.is_not(None),
               Assignment.outcome == "returned")
        .order_by(URGENT_FIRST, Assignment.ended_at, Ticket.id)).unique().all()
    return [_item(ticket, now, who=task.department.name, when=task.ended_at, note=task.reason or "")
            for ticket, task in rows]


def scope_selection(principal, today):
    """The monitor's Selection for the caller's whole place (the period does not matter to live lists)."""
    street_id = principal.street_id if principal.role is Role.STREET_SUPERVISOR else None
    return Selection(today - timedelta(days=29), today, street_id=street_id)


def awaiting(principal, now, today):
    """Everything on the supervisor's page; the overdue list leaves out tickets the lists above already show."""
    selection = scope_selection(principal, today)
    extensions, escalations = extension_requests(principal, now), escalated(principal, now)
    shown = {item.ticket.id: item.ticket for item in extensions + escalations}
    overdue = [t for t in metrics.overdue_tickets(selection, now, OVERDUE_SHOWN + len(shown)) if t.id not in shown]
    return Awaiting(
        extensions=extensions, escalated=escalations, overdue=[_item(t, now) for t in overdue[:OVERDUE_SHOWN]],
        returned=returned_by_departments(principal, now),
        overdue_total=sum(metrics.overdue_counts(selection, now).values()),
        overdue_shown_above=sum(is_overdue(ticket, now) for ticket in shown.values()))
