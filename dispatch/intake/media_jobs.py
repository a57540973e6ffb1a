"""The media-fetch job: download photos and voices by MediaId after the reply, clean them, attach them.

Run by the scheduler every few seconds; rows are claimed with FOR UPDATE SKIP LOCKED on PostgreSQL so
several scheduler processes can share the work.
"""
import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select

from dispatch.audio import make_playable
from dispatch.extensions import db
from dispatch.images import RejectedPhoto, process_photo
from dispatch.intake.models import MediaFetch
from dispatch.org.principal import SYSTEM
from dispatch.storage import storage
from dispatch.tickets import pipeline
from dispatch.tickets.models import Ticket
from dispatch.wechat.client import WeChatError, download_media
from dispatch.wechat.models import WeChatAccount

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
AUDIO_TYPES = {"amr": "amr", "speex": "speex", "mp3": "mp3"}


def due_fetches(now, limit):
    """Pending fetches whose time has come, claimed for this transaction."""
    query = (select(MediaFetch).where(MediaFetch.status == "pending", or_(
        MediaFetch.next_attempt_at.is_(None), MediaFetch.next_attempt_at <= now))
        .order_by(MediaFetch.id).limit(limit))
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return db.session.scalars(query).all()


def run_media_fetches(now, limit=20):
    """Fetch what is due; returns how many fetches were finished (done or refused)."""
    finished = 0
    for job in due_fetches(now, limit):
        with pipeline.unit():  # the job's row and what it attached commit together
            finished += fetch_one(job, now)
    db.session.commit()
    return finished


def fetch_one(job, now):
    """Download one file and attach it; a transient error is retried later, a bad file refused with a note."""
    account = db.session.get(WeChatAccount, job.account_id)
    ticket = db.session.get(Ticket, job.ticket_id)
    job.attempts += 1
    try:
        _, data = download_media(account, job.media_id, now, current_app.config["MAX_PHOTO_BYTES"])
    except WeChatError as exc:
        if exc.transient and job.attempts < MAX_ATTEMPTS:
            job.next_attempt_at = now + timedelta(minutes=2 ** job.attempts)
            job.error = str(exc)
            return 0
        return _refuse(job, ticket, str(exc), now)
    if job.kind == "voice":
        return _keep_voice(job, ticket, data, now)
    return _attach_photo(job, ticket, data, now)


def _attach_photo(job, ticket, data, now):
    """Clean the photo (EXIF and location removed, upright, ≤ 2048 px), keep it and a thumbnail."""
    try:
        photo = process_photo(data, max_bytes=current_app.config["MAX_PHOTO_BYTES"])
    except RejectedPhoto as exc:
        return _refuse(job, ticket, str(exc), now)
    pipeline.act(SYSTEM, ticket, "photo", note="居民通过微信发来的照片", now=now, cleaned=photo,
                 storage=storage(current_app))
    return _done(job, now)


def _keep_voice(job, ticket, data, now):
    """Keep the audio for staff to listen to, and an MP3 copy of it their browsers play (ffmpeg permitting)."""
    ext = AUDIO_TYPES.get((job.audio_format or "").lower(), "amr")
    store = storage(current_app)
    ticket.voice_key = store.save(data, ext)
    make_playable(store, ticket.voice_key, current_app.config["FFMPEG"])  # else the page says why, and retries
    pipeline.act(SYSTEM, ticket, "voice_saved", note="语音已保存，待工作人员收听", now=now)
    return _done(job, now)


def _refuse(job, ticket, reason, now):
    """The file could not be used: say so on the timeline; the ticket itself is untouched."""
    job.status, job.error, job.done_at = "failed", reason, now
    what = "语音" if job.kind == "voice" else "照片"
    pipeline.act(SYSTEM, ticket, "media_refused", note=f"居民发来的{what}未能保存：{reason}", now=now)
    log.warning("media %s for ticket %s refused: %s", job.media_id, ticket.number, reason)
    return 1


def _done(job, now):
    job.status, job.error, job.done_at = "done", None, now
    return 1
