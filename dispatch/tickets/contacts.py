"""A resident's phone number as a caller may see it on a ticket, and the access log of whole-number views."""
from dispatch.extensions import db
from dispatch.org.access_log import PHONE, record_view
from dispatch.org.principal import mask_phone, phone_ground
from dispatch.tickets import tasks


def shown_phone(principal, ticket, now, task=None):
    """The resident's phone for this caller now: whole while they hold the ticket's open task (a volunteer, a
    department; `task` is that task when already loaded) or are its community's staff, else masked.
    A whole number is added to the access log; the caller commits (phone_of does)."""
    resident = ticket.resident
    if resident is None or not resident.phone:
        return None
    why = phone_ground(principal, resident, holding=tasks.holds(principal, ticket, task))
    if why is None:
        return mask_phone(resident.phone)
    record_view(at=now, user_id=principal.user_id, resident_id=resident.id, ticket_id=ticket.id, what=PHONE, why=why)
    return resident.phone


def phone_of(principal, ticket, now):
    """shown_phone for one ticket's page, its access log row committed."""
    phone = shown_phone(principal, ticket, now)
    db.session.commit()
    return phone


def phones_of(principal, held, now):
    """shown_phone for each (ticket, open task) of a desk page, by ticket id, committed once."""
    phones = {ticket.id: shown_phone(principal, ticket, now, task) for ticket, task in held}
    db.session.commit()
    return phones
