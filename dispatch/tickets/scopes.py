"""Which tickets a caller may see: the one rule every door (API, console, later Open311) applies."""
from sqlalchemy import false, select, true

from dispatch.org.models import Community
from dispatch.org.roles import COMMUNITY_ROLES, Role
from dispatch.tickets.models import Ticket


def visible(principal):
    """A WHERE clause limiting tickets to the caller's scope."""
    role = principal.role
    if role is Role.DISTRICT_ADMIN:
        return true()
    if role is Role.STREET_SUPERVISOR:
        street_communities = select(Community.id).where(Community.street_id == principal.street_id)
        return Ticket.community_id.in_(street_communities)
    if role in COMMUNITY_ROLES:
        return Ticket.community_id == principal.community_id
    if role is Role.DEPARTMENT_USER:
        return Ticket.department_id == principal.department_id
    if role is Role.VOLUNTEER:
        return Ticket.assignee_id == principal.user_id
    return false()


def community_in_scope(principal, community):
    """May this caller open tickets in (or otherwise act on) this community?"""
    role = principal.role
    if role is Role.DISTRICT_ADMIN:
        return True
    if role is Role.STREET_SUPERVISOR:
        return community.street_id == principal.street_id
    return role in COMMUNITY_ROLES and community.id == principal.community_id
