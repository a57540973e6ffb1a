"""Reading tickets for the doors: the one a caller may see, and who hears its outcome."""
from sqlalchemy import select

from dispatch.errors import NotFound
from dispatch.extensions import db
from dispatch.org.models import Resident
from dispatch.tickets.models import Ticket, TicketReporter
from dispatch.tickets.scopes import visible


def get_visible(principal, number):
    """The ticket with this number if the caller may see it; otherwise 404, as if it did not exist."""
    ticket = db.session.scalar(select(Ticket).where(Ticket.number == number, visible(principal)))
    if ticket is None:
        raise NotFound(f"找不到工单 {number}")
    return ticket


def reporters_of(ticket):
    """Every resident who hears a ticket's outcome: its own reporter first, then those of merged duplicates."""
    extra = db.session.scalars(select(Resident).join(TicketReporter, TicketReporter.resident_id == Resident.id)
                               .where(TicketReporter.ticket_id == ticket.id).order_by(TicketReporter.added_at)).all()
    return ([ticket.resident] if ticket.resident else []) + list(extra)
