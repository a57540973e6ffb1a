"""The printable work order (派工单): one A4 page per ticket, for the communities that print and file them."""
from dataclasses import dataclass

import segno
from flask import Blueprint, render_template, url_for
from flask_login import login_required
from markupsafe import Markup

from dispatch.org.auth import console_principal
from dispatch.org.roles import Role
from dispatch.tickets import contacts, queries, services
from dispatch.tickets.effects import holder_name
from dispatch.timeutil import now
from dispatch.urls import base_url

bp = Blueprint("work_order", __name__)


@dataclass(frozen=True)
class Sheet:
    """What the printed page says beyond the ticket's own columns."""

    link: str        # the ticket page the QR code leads to
    qr: Markup       # the QR code, an inline SVG
    holder: str      # who does the work, as the sheet names them
    phone: str       # the resident's phone as the printing user may see it
    late: bool


def qr_svg(link):
    """The link as an inline SVG QR code (segno, made here; nothing fetched from elsewhere)."""
    svg = segno.make(link, error="m").svg_inline(scale=3, border=2, title="扫码打开工单")
    return Markup(svg)


def _holder(ticket):
    """Its volunteer (as 365服务队志愿者 王五), its department, or the community doing it itself."""
    if ticket.assignee is not None and ticket.assignee.role is Role.VOLUNTEER:
        return f"{Role.VOLUNTEER.label} {ticket.assignee.display_name}"
    if ticket.assignee is None and ticket.department is None:
        return f"{holder_name(ticket)}（尚未派给志愿者或部门）"
    return holder_name(ticket)


@bp.get("/tickets/<number>/print")
@login_required
def page(number):
    """The work order of a ticket the caller can see (any other number is a 404, as on the ticket page)."""
    principal = console_principal()
    ticket = services.get_visible(principal, number)
    link = base_url() + url_for("tickets.detail", number=ticket.number)
    at = now()
    sheet = Sheet(link, qr_svg(link), _holder(ticket), contacts.phone_of(principal, ticket, at) or "未留电话",
                  queries.is_overdue(ticket, at))
    return render_template("tickets/print.html", t=ticket, sheet=sheet, printed_at=at)
