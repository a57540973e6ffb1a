"""Ticket photos: served only to callers who may see the ticket."""
from flask import Blueprint, current_app, g, send_file
from flask_login import current_user
from sqlalchemy import select

from dispatch.apiutil import authenticate_bearer
from dispatch.errors import NotFound
from dispatch.extensions import db
from dispatch.org.principal import Principal
from dispatch.storage import storage
from dispatch.tickets.models import Ticket, TicketPhoto
from dispatch.tickets.scopes import visible

bp = Blueprint("media", __name__)


def _caller():
    """A logged-in staff user, or else a bearer token (which raises 401 when absent)."""
    if current_user.is_authenticated:
        return Principal.from_user(current_user)
    authenticate_bearer()
    return g.principal


@bp.get("/media/<path:key>")
def photo(key):
    """A ticket photo; 404 when the ticket is outside the caller's scope."""
    principal = _caller()
    query = (select(TicketPhoto).join(Ticket)
             .where(TicketPhoto.storage_key == key, visible(principal)))
    found = db.session.scalar(query)
    path = storage(current_app).path(key) if found else None
    if path is None:
        raise NotFound("找不到该照片")
    return send_file(path, mimetype=found.content_type, max_age=3600)
