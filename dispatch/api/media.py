"""Ticket photos and voices: served only to callers who may see the ticket."""
from flask import Blueprint, current_app, g, send_file
from flask_login import current_user
from sqlalchemy import select

from dispatch import audio
from dispatch.api.common import authenticate_bearer
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


def _file_in_scope(principal, key):
    """(content type) of a photo, thumbnail or voice file of a ticket the caller may see, else None."""
    photo = db.session.scalar(select(TicketPhoto).join(Ticket).where(TicketPhoto.stored_as(key), visible(principal)))
    if photo is not None:
        return photo.content_type_of(key)
    # A voice's MP3 copy is the ticket's as much as the original it was made from.
    voice = db.session.scalar(select(Ticket.id).where(Ticket.voice_key.in_(audio.originals_of(key)),
                                                      visible(principal)).limit(1))
    return audio.content_type(key) if voice else None


@bp.get("/media/<path:key>")
def photo(key):
    """A ticket's photo, thumbnail or voice; 404 when the ticket is outside the caller's scope."""
    content_type = _file_in_scope(_caller(), key)
    path = storage(current_app).path(key) if content_type else None
    if path is None:
        raise NotFound("找不到该文件")
    return send_file(path, mimetype=content_type, max_age=3600)


@bp.app_template_global()
def voice_of(ticket):
    """A ticket's voice for its page (the original, and the MP3 to play or why there is none), or None."""
    if not ticket.voice_key:
        return None
    return audio.make_playable(storage(current_app), ticket.voice_key, current_app.config["FFMPEG"])
