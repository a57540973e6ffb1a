"""WeChat messages become tickets: stored raw first, acted on once per MsgId, answered in plain Chinese."""
import functools
import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam, exists, func, literal, or_, select, true, update
from sqlalchemy.dialects import postgresql

from dispatch.extensions import db
from dispatch.intake import gazetteer, replies, small_talk
from dispatch.intake.address import extract_address
from dispatch.intake.models import MediaFetch
from dispatch.org.models import Resident
from dispatch.org.principal import Principal
from dispatch.org.roles import Role
from dispatch.org.services import community_by_code, community_by_id
from dispatch.rows import merged
from dispatch.statements import dialect, typed
from dispatch.tickets import categories, pipeline, ratings, store
from dispatch.tickets.lifecycle import OPEN_STATUSES, Status
from dispatch.tickets.pipeline import Command
from dispatch.tickets.models import Channel, Ticket
from dispatch.wechat.models import InboundMessage, TemplateResult

log = logging.getLogger(__name__)

# Intake doors choose the community themselves; the principal only names who acted on the timeline.
RESIDENT = Principal(label="居民（微信）", role=Role.DISTRICT_ADMIN)
WECHAT_CHANNELS = (Channel.WECHAT_TEXT, Channel.WECHAT_PHOTO, Channel.WECHAT_VOICE)
PHOTO_PLACEHOLDER = "（居民发来照片，待补充文字说明）"
VOICE_PLACEHOLDER = "（居民发来语音留言，待工作人员收听）"


@dataclass
class Outcome:
    """What acting on a message produced: the reply text (None: answer 'success') and the ticket touched."""

    reply: str | None
    ticket: Ticket | None = None
    opened: bool = False   # the message opened the ticket: its reply is made again from it, not stored
    stored: bool = False   # the message's row already says so (written in the ticket's own statement)
    joined: bool = False   # an attachment that joined an earlier ticket: "这是新问题" can make it one of its own


OPENED = "opened"  # processed, and it opened the ticket it names; its reply is made again from that ticket
JOINED = "joined"  # processed: a photo, voice or location that joined the earlier ticket it names
RAW_KEYS = ("account_id", "dedup_key", "msg_type", "event", "from_openid", "create_time", "raw", "received_at",
            "status", "error")
RESIDENT_KEYS = ("account_code", "openid", "community_id", "created_at", "subscribed")


# The callback is the hottest path: its statements are built once per process and dialect, not per message.
@functools.cache
def _raw_insert(dialect):
    """Store one raw message unless its dedup key is known: returns the new row's id, or no row."""
    table = InboundMessage.__table__
    return (dialect.insert(table).values(typed(table, RAW_KEYS))
            .on_conflict_do_nothing(index_elements=["account_id", "dedup_key"]).returning(table.c.id))


@functools.cache
def _resident_upsert(dialect):
    """The resident of (account, openid), created on first contact: returns the whole row."""
    table = Resident.__table__
    stmt = dialect.insert(table).values(typed(table, RESIDENT_KEYS))
    return stmt.on_conflict_do_update(index_elements=["account_code", "openid"],
                                      set_={"openid": stmt.excluded.openid}).returning(*table.c)


@functools.cache
def _arrival_postgresql():
    """Store the raw message and, only if it is new, upsert its sender: one round trip on PostgreSQL."""
    raw = _raw_insert(postgresql).cte("raw")
    table = Resident.__table__
    params = typed(table, RESIDENT_KEYS)
    upsert = postgresql.insert(table).from_select(
        list(RESIDENT_KEYS), select(*params.values()).where(exists(select(raw.c.id))))
    sender = upsert.on_conflict_do_update(index_elements=["account_code", "openid"],
                                          set_={"openid": upsert.excluded.openid}).returning(*table.c).cte("sender")
    return select(raw.c.id.label("inbound_id"), *sender.c).select_from(raw.outerjoin(sender, true()))


# A note stored with its ticket gets its status and ticket id from the statement, and has no error.
NOTE_RAW_KEYS = tuple(key for key in RAW_KEYS if key not in ("status", "error"))


def _note_arrival_ctes():
    """The door's part of a plain note's one statement (PostgreSQL): store it, upsert its sender and, when nothing
    of theirs waits for words (no draft inside its window, no location kept, no question asked), draw its ticket's
    id."""
    residents, inbound = Resident.__table__, InboundMessage.__table__
    sender = _resident_upsert(postgresql).cte("sender")
    now = bindparam("now", type_=residents.c.draft_until.type)
    # The ticket's id is drawn first, so the message row can name its ticket as it is inserted.
    free = select(store.next_ticket_id().label("ticket_id")).select_from(sender).where(
        or_(sender.c.draft_until.is_(None), sender.c.draft_until <= now), sender.c.pending_latitude.is_(None),
        sender.c.asked_at.is_(None))
    free = free.cte("free")
    status = func.coalesce(select(literal(OPENED)).select_from(free).scalar_subquery(), "received")
    raw = (postgresql.insert(inbound).from_select(
        [*NOTE_RAW_KEYS, "status", "ticket_id"],
        select(*typed(inbound, NOTE_RAW_KEYS).values(), status, select(free.c.ticket_id).scalar_subquery()))
        .on_conflict_do_nothing(index_elements=["account_id", "dedup_key"])
        .returning(inbound.c.id, inbound.c.ticket_id).cte("raw"))
    guard = select(raw.c.ticket_id, sender.c.id.label("resident_id")).select_from(raw.join(sender, true())).where(
        raw.c.ticket_id.is_not(None)).cte("guard")
    # The sender outer-joined to the message: a retry or a held-back note still hands back its row.
    source = sender.outerjoin(raw, true())
    return store.DoorPart(guard, source, (raw.c.id.label("inbound_id"), *sender.c))


def _note_along(account, inbound, now):
    """The raw message and its sender, written in the same statement as the ticket they open (PostgreSQL)."""
    params = {**_raw_values(account, inbound, now), **_resident_values(account, inbound.openid, now), "now": now}
    return store.Along(key="wechat-note", build=_note_arrival_ctes, params=params)


@functools.cache
def _mark_processed():
    """Record the outcome, the reply given and the ticket touched, for WeChat's retries."""
    table = InboundMessage.__table__
    return update(table).where(table.c.id == bindparam("row_id")).values(
        status=bindparam("status", type_=table.c.status.type), reply=bindparam("reply", type_=table.c.reply.type),
        ticket_id=bindparam("ticket_id", type_=table.c.ticket_id.type))


def _raw_values(account, inbound, now, status="received", error=None):
    return {"account_id": account.id, "dedup_key": inbound.dedup_key, "msg_type": inbound.msg_type or "unknown",
            "event": inbound.event, "from_openid": inbound.openid, "create_time": inbound.create_time,
            "raw": inbound.xml, "received_at": now, "status": status, "error": error}


def _resident_values(account, openid, now):
    return {"account_code": account.code, "openid": openid, "community_id": account.community_id,
            "created_at": now, "subscribed": True}


def _store_raw(account, inbound, now, status="received", error=None):
    """Keep the message as sent; None when WeChat already delivered it (the unique key decides, atomically)."""
    return db.session.connection().execute(_raw_insert(dialect()),
                                           _raw_values(account, inbound, now, status, error)).scalar()


def _arrive(account, inbound, now):
    """Store the raw message first; (row id, sender) when it is new, (None, None) when WeChat sent it before."""
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        row_id = _store_raw(account, inbound, now)
        return (row_id, resident_for(account, inbound.openid, now)) if row_id is not None else (None, None)
    params = {**_raw_values(account, inbound, now), **_resident_values(account, inbound.openid, now)}
    row = connection.execute(_arrival_postgresql(), params).mappings().first()
    if row is None:
        return None, None
    values = dict(row)
    return values.pop("inbound_id"), merged(Resident, values)


def reply_given(account, row, now):
    """What the account answered a stored message: as stored, or for an opening note, made again from its ticket."""
    if row.status == OPENED:
        return replies.ticket_opened(account, db.session.get(Ticket, row.ticket_id), now)
    return row.reply


def _plain_note(account, inbound):
    """The words of a text message that may open its ticket in the arrival statement (PostgreSQL, community account)."""
    if inbound.msg_type != "text" or not account.community_id or dialect() is not postgresql:
        return None
    text = (inbound.get("Content") or "").strip()
    if small_talk.candidate(text) is not None:  # on_text answers small talk, and opens no ticket
        return None
    return text or None


def _arrive_with_ticket(account, inbound, text, now):
    """_arrive for a plain note, opening its ticket in the same statement when the sender has nothing pending:
    (row id, sender, Outcome or None when act() must still run); (None, None, None) for a retry."""
    data = _new_ticket(account, community_by_id(account.community_id), None, text, Channel.WECHAT_TEXT, {})
    ticket, row = pipeline.open_ticket(RESIDENT, data, now, along=_note_along(account, inbound, now))
    if ticket is None:  # a retry (no row id), or something of the sender's waits for this note
        return row["inbound_id"], store.resident_in(row), None
    return row["inbound_id"], ticket.resident, Outcome(replies.ticket_opened(account, ticket, now), ticket,
                                                       opened=True, stored=True)


def _earlier_reply(account, inbound, now):
    """The answer given the first time this message came (WeChat's retries get the same one)."""
    row = db.session.execute(select(InboundMessage.status, InboundMessage.reply, InboundMessage.ticket_id).where(
        InboundMessage.account_id == account.id, InboundMessage.dedup_key == inbound.dedup_key)).one_or_none()
    if row is None or row.status == "failed":
        return replies.RECEIVED
    return reply_given(account, row, now)


def receive(account, inbound, now):
    """Store, deduplicate and act on one inbound message; returns the reply text, None for 'success'."""
    try:
        with pipeline.unit():
            text, outcome = _plain_note(account, inbound), None
            if text is not None:
                row_id, resident, outcome = _arrive_with_ticket(account, inbound, text, now)
            else:
                row_id, resident = _arrive(account, inbound, now)
            if row_id is None:
                return _earlier_reply(account, inbound, now)
            outcome = outcome or act(account, resident, inbound, now)
            db.session.flush()
            if not outcome.stored:
                db.session.connection().execute(_mark_processed(), {
                    "row_id": row_id, "status": OPENED if outcome.opened else JOINED if outcome.joined else "processed",
                    "reply": None if outcome.opened else outcome.reply,
                    "ticket_id": outcome.ticket.id if outcome.ticket else None})
        return outcome.reply
    except Exception as exc:  # nothing is lost: keep the raw message for staff, tell the resident it arrived
        log.exception("wechat message %s of %s could not be processed", inbound.dedup_key, account.code)
        with pipeline.unit():
            _store_raw(account, inbound, now, status="failed", error=f"{exc.__class__.__name__}: {exc}"[:2000])
        return replies.RECEIVED


def resident_for(account, openid, now):
    """The resident behind an openid of this account, created on first contact (one upsert)."""
    row = db.session.connection().execute(_resident_upsert(dialect()), _resident_values(account, openid, now))
    return merged(Resident, dict(row.mappings().one()))


def _window():
    return timedelta(minutes=current_app.config["WECHAT_DRAFT_MINUTES"])


def _marked_draft(resident, now):
    """The still-open ticket marked on the resident row (the one they reported last), while its window is open."""
    if not (resident.draft_ticket_id and resident.draft_until and resident.draft_until > now):
        return None
    ticket = db.session.get(Ticket, resident.draft_ticket_id)
    return ticket if ticket is not None and ticket.status in OPEN_STATUSES else None


def _draft(resident, now):
    """The ticket photos and a location join: the one marked (reported last), else the newest reported in the
    window (a note's ticket opened in the arrival statement is not marked)."""
    return _marked_draft(resident, now) or db.session.scalar(select(Ticket).where(
        Ticket.resident_id == resident.id, Ticket.status.in_(OPEN_STATUSES), Ticket.channel.in_(WECHAT_CHANNELS),
        Ticket.created_at > now - _window()).order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(1))


def _awaiting_words(resident, now):
    """The photo or voice ticket that a note sent now completes, if any (read from the resident row alone)."""
    ticket = _marked_draft(resident, now)
    return ticket if ticket is not None and ticket.description_pending else None


def _keep_open(resident, ticket, now):
    """Photos, a location or the missing words sent within the window join this ticket."""
    resident.draft_ticket_id = ticket.id if ticket else None
    resident.draft_until = now + _window()
    if ticket is not None:
        ticket.updated_at = max(ticket.updated_at, now)


def community_for(account, resident):
    """Where a ticket from this account goes: the account's community, the resident's, or the triage one."""
    if account.community_id:
        return community_by_id(account.community_id)
    if resident.community_id:
        return community_by_id(resident.community_id)
    triage = current_app.config["WECHAT_TRIAGE_COMMUNITY"]
    return community_by_code(triage) if triage else None


def _new_ticket(account, community, resident, description, channel, columns):
    """What a message of this account tells about a new ticket (the address read from its words)."""
    address = None if columns.get("description_pending") else extract_address(description)
    return store.NewTicket(description=description, community=community, channel=channel, address=address,
                           resident=resident, columns=columns, extra={"wechat_account": account.code})


def open_ticket(account, resident, now, description, channel, community=None, **columns):
    """Open a ticket for a resident of an account (in the community given, else the one community_for tells);
    None when no community can be told."""
    community = community or community_for(account, resident)
    if community is None:
        return None
    if resident.pending_latitude is not None:
        if resident.draft_until and resident.draft_until > now:
            columns.update(latitude=resident.pending_latitude, longitude=resident.pending_longitude,
                           location_label=resident.pending_location_label)
        resident.pending_latitude = resident.pending_longitude = resident.pending_location_label = None
    ticket = pipeline.open_ticket(RESIDENT, _new_ticket(account, community, resident, description, channel, columns),
                                  now=now)
    if columns.get("description_pending"):
        _keep_open(resident, ticket, now)  # the note that follows completes it (see _awaiting_words)
    return ticket


def _fetch_later(account, ticket, media_id, kind, now, audio_format=None):
    """Queue a download by MediaId: never inside WeChat's 5 seconds."""
    db.session.add(MediaFetch(account_id=account.id, ticket_id=ticket.id, media_id=media_id, kind=kind,
                              audio_format=audio_format, created_at=now, next_attempt_at=now))


def on_text(account, resident, text, now, channel=Channel.WECHAT_TEXT):
    """A note (便民纸条): the words a photo draft was waiting for, or a new ticket."""
    text = (text or "").strip()
    if not text:
        return Outcome(replies.EMPTY_TEXT)
    if is_new_problem(text):
        return split_last_attachment(account, resident, now)
    waiting = waiting_for(resident)
    # A question waits: "好的", "可以" answer it; thanks, greetings and faces are small talk all the same.
    chat = _small_talk(account, resident, text, now, answering=waiting is not None)
    if chat is not None:
        return chat
    if waiting is not None:
        return _answered(account, resident, waiting, now, Command(RESIDENT, waiting, "answer", note=text))
    draft = _awaiting_words(resident, now)
    if draft is not None:
        pipeline.act(RESIDENT, draft, "describe", note=text, now=now, address=extract_address(text))
        _keep_open(resident, draft, now)
        return Outcome(replies.ticket_updated(account, draft, now), draft)
    if not account.community_id:
        return _district_note(account, resident, text, now, channel)
    ticket = open_ticket(account, resident, now, text, channel)
    if ticket is None:
        return Outcome(replies.choose_community(account))
    _keep_open(resident, ticket, now)  # photos and a location sent next join the problem just reported
    return Outcome(replies.ticket_opened(account, ticket, now), ticket, opened=True)


# ---- the district account: the community from the words, the location, the QR code or the resident ----

PENDING_NOTE_HOURS = 24
MAX_PENDING_NOTE = 2000
PICK = re.compile(r"^[第]?([1-9])[号个]?$")


def pending_note(resident, now):
    """The note the resident sent the district account while their community was unknown (kept a day)."""
    if resident.pending_note and resident.pending_note_at and \
            resident.pending_note_at > now - timedelta(hours=PENDING_NOTE_HOURS):
        return resident.pending_note
    return None


def forget_pending_note(resident):
    resident.pending_note = resident.pending_note_at = None


def where_from(account, resident, words):
    """The community of a district-account note: the address in the words, the label of the location sent, the
    QR code followed or the community picked before (the resident row), the triage community; Found(None, short
    list) when none tells."""
    found = gazetteer.find(words)
    if found.community is None and resident.pending_location_label:
        located = gazetteer.find(resident.pending_location_label)
        found = located if located.community is not None else gazetteer.Found(
            None, found.candidates or located.candidates)
    if found.community is None:
        known = community_for(account, resident)
        if known is not None:
            return gazetteer.Found(known, [])
    return found


def _is_pick(text):
    return PICK.match(PUNCTUATION.sub("", unicodedata.normalize("NFKC", text)))


def _picked(text, pending):
    """The community a reply picks from the short list given for the pending note ("2"), or None."""
    match = _is_pick(text)
    if match is None:
        return None
    candidates = gazetteer.find(pending).candidates
    index = int(match.group(1)) - 1
    return candidates[index] if index < len(candidates) else None


def _district_note(account, resident, text, now, channel):
    """A note to the district account: opened in the community its words (with what they wrote before) point to;
    else the words are kept on the resident row and they are asked, with a short list and the report form."""
    pending = pending_note(resident, now)
    community = _picked(text, pending) if pending else None
    if community is not None:
        description = pending
    else:
        description = pending if pending and text in pending else f"{pending}\n{text}" if pending else text
        found = where_from(account, resident, description)
        community = found.community
        if community is None:
            if pending or not _is_pick(text):  # a bare "2" with no list given is nothing to keep
                resident.pending_note, resident.pending_note_at = description[-MAX_PENDING_NOTE:], now
            return Outcome(replies.ask_community(account, found.candidates))
    forget_pending_note(resident)
    ticket = open_ticket(account, resident, now, description, channel, community=community)
    _keep_open(resident, ticket, now)
    return Outcome(replies.ticket_opened(account, ticket, now), ticket, opened=True)


def _small_talk(account, resident, text, now, answering=False):
    """Thanks, an acknowledgement, a greeting or a face: a friendly reply and no ticket; None for anything else
    (also for an acknowledgement when it answers a question that waits for the resident).

    Thanks for a resolved ticket nobody has rated yet point to rating it."""
    kind = small_talk.kind(text, categories.suggest)
    if kind is None or (answering and kind == small_talk.ACK):
        return None
    to_rate = db.session.scalar(select(Ticket).where(Ticket.resident_id == resident.id, *ratings._awaiting_rating(now))
                                .order_by(Ticket.resolved_at.desc(), Ticket.id.desc()).limit(1))
    in_progress = to_rate is None and bool(_open_tickets(resident, limit=1))
    return Outcome(replies.small_talk_reply(account, kind, to_rate, _awaiting_words(resident, now), in_progress))


def on_image(account, resident, inbound, now):
    """A photo (随手拍): joins the open draft, or opens a photo ticket that staff classify."""
    if not inbound.get("MediaId"):
        return Outcome(replies.BAD_MEDIA)
    waiting = waiting_for(resident)
    if waiting is not None:
        _fetch_later(account, waiting, inbound.get("MediaId"), "image", now)
        return _answered(account, resident, waiting, now, Command(RESIDENT, waiting, "answer", note="居民发来照片"),
                         what="照片")
    draft = _draft(resident, now)
    if draft is not None:
        pipeline.act(RESIDENT, draft, "photo_received", note="居民补充照片", now=now)
        _fetch_later(account, draft, inbound.get("MediaId"), "image", now)
        _keep_open(resident, draft, now)
        return Outcome(replies.photo_joined(account, draft), draft, joined=True)
    ticket = open_ticket(account, resident, now, PHOTO_PLACEHOLDER, Channel.WECHAT_PHOTO, description_pending=True)
    if ticket is None:
        return Outcome(replies.choose_community(account))
    _fetch_later(account, ticket, inbound.get("MediaId"), "image", now)
    return Outcome(replies.photo_opened(account, ticket), ticket)


def on_voice(account, resident, inbound, now):
    """A voice message: WeChat's recognised text when there is some, else the audio for staff to hear."""
    recognition = (inbound.get("Recognition") or "").strip()
    if recognition:
        return on_text(account, resident, recognition, now, channel=Channel.WECHAT_VOICE)
    if not inbound.get("MediaId"):
        return Outcome(replies.BAD_MEDIA)
    waiting = waiting_for(resident)
    if waiting is not None:
        _fetch_later(account, waiting, inbound.get("MediaId"), "voice", now, audio_format=inbound.get("Format"))
        return _answered(account, resident, waiting, now,
                         Command(RESIDENT, waiting, "answer", note="居民发来语音留言，待工作人员收听"),
                         Command(RESIDENT, waiting, "voice_received", note="语音未能识别，待工作人员收听"), what="语音")
    draft = _draft(resident, now)
    ticket = draft or open_ticket(account, resident, now, VOICE_PLACEHOLDER, Channel.WECHAT_VOICE,
                                  description_pending=True, needs_listening=True)
    if ticket is None:
        return Outcome(replies.choose_community(account))
    pipeline.act(RESIDENT, ticket, "voice_received", note="语音未能识别，待工作人员收听", now=now)
    _fetch_later(account, ticket, inbound.get("MediaId"), "voice", now, audio_format=inbound.get("Format"))
    _keep_open(resident, ticket, now)
    if draft is not None:
        return Outcome(replies.voice_joined(account, ticket), ticket, joined=True)
    return Outcome(replies.voice_received(account, ticket), ticket)


def on_location(account, resident, inbound, now):
    """A location: the draft's coordinates, or kept for the ticket the resident opens next."""
    try:
        latitude, longitude = float(inbound.get("Location_X")), float(inbound.get("Location_Y"))
    except (TypeError, ValueError):
        return Outcome(replies.BAD_LOCATION)
    label = (inbound.get("Label") or "").strip()[:200] or None
    waiting = waiting_for(resident)
    if waiting is not None:
        return _answered(account, resident, waiting, now,
                         Command(RESIDENT, waiting, "answer", note=f"居民发来位置{('：' + label) if label else ''}"),
                         Command(RESIDENT, waiting, "locate", note=label,
                                 fields={"latitude": latitude, "longitude": longitude}), what="位置")
    draft = _draft(resident, now)
    if draft is not None:
        pipeline.act(RESIDENT, draft, "locate", note=label, now=now, latitude=latitude, longitude=longitude)
        _keep_open(resident, draft, now)
        return Outcome(replies.location_joined(account, draft, label), draft, joined=True)
    resident.pending_latitude, resident.pending_longitude, resident.pending_location_label = latitude, longitude, label
    _keep_open(resident, None, now)
    return Outcome(replies.location_kept(label))


# ---- answering a question (待居民补充) ----

def waiting_for(resident):
    """The resident's ticket waiting for their answer (the latest asked), looked up only when their row says a
    question was asked; a row whose questions are all settled is cleared, so their notes take the fast path again."""
    if resident.asked_at is None:
        return None
    ticket = db.session.scalar(select(Ticket).where(
        Ticket.resident_id == resident.id, Ticket.status == Status.WAITING_RESIDENT)
        .order_by(Ticket.updated_at.desc(), Ticket.id.desc()).limit(1))
    if ticket is None:
        resident.asked_at = None
    return ticket


def _answered(account, resident, ticket, now, *commands, what=""):
    """The resident's answer on the waiting ticket's timeline; it resumes and its holder hears of it."""
    pipeline.execute(*commands, now=now)
    _keep_open(resident, ticket, now)  # more photos sent right after join the same ticket
    return Outcome(replies.answer_added(account, ticket, what), ticket)


# ---- "这是新问题": the last attachment becomes a ticket of its own ----

NEW_PROBLEM = frozenset({"这是新问题", "是新问题", "新问题", "这是一个新问题", "这是另一个问题", "另一个问题",
                         "这是新的问题", "不是这个问题", "不是这张工单", "单独登记"})
PUNCTUATION = re.compile(r"[\s，。！？,.!?~～、…]+")


def is_new_problem(text):
    """Whether a note says the last photo, voice or location is about another problem (said, or the reply's link)."""
    return PUNCTUATION.sub("", text) in NEW_PROBLEM


def _last_joined(account, resident, now):
    """The resident's latest photo, voice or location that joined an earlier ticket, within the window."""
    return db.session.scalar(select(InboundMessage).where(
        InboundMessage.account_id == account.id, InboundMessage.from_openid == resident.openid,
        InboundMessage.status == JOINED, InboundMessage.received_at > now - _window())
        .order_by(InboundMessage.id.desc()).limit(1))


def _move_media(account, row, old, new, now):
    """The joined file goes to the new ticket: its download re-aimed, or fetched again when already done."""
    job = db.session.scalar(select(MediaFetch).where(MediaFetch.ticket_id == old.id,
                                                     MediaFetch.created_at == row.received_at)
                            .order_by(MediaFetch.id.desc()).limit(1))
    if job is None:
        return
    if job.status == "pending":
        job.ticket_id = new.id
    else:
        _fetch_later(account, new, job.media_id, job.kind, now, audio_format=job.audio_format)


def split_last_attachment(account, resident, now):
    """Make the last attachment that joined a ticket a new ticket (a location is kept for the next one)."""
    row = _last_joined(account, resident, now)
    if row is None:  # "my next words are a new problem": they must not answer a waiting question either
        resident.asked_at = None
        return Outcome(replies.NOTHING_TO_SPLIT)
    old = db.session.get(Ticket, row.ticket_id)
    if row.msg_type == "location":
        row.status = "processed"
        pipeline.act(RESIDENT, old, "split_off", note="居民说明刚才发的位置是另一个问题", now=now)
        resident.pending_latitude, resident.pending_longitude = old.latitude, old.longitude
        resident.pending_location_label = old.location_label
        _keep_open(resident, None, now)
        return Outcome(replies.location_split(old), old)
    voice = row.msg_type == "voice"
    new = open_ticket(account, resident, now, VOICE_PLACEHOLDER if voice else PHOTO_PLACEHOLDER,
                      Channel.WECHAT_VOICE if voice else Channel.WECHAT_PHOTO, description_pending=True,
                      **({"needs_listening": True} if voice else {}))
    if new is None:
        return Outcome(replies.choose_community(account))
    what = "语音" if voice else "照片"
    pipeline.act(RESIDENT, old, "split_off", note=f"居民说明刚才发的{what}是另一个问题，已另开工单 {new.number}",
                 now=now)
    _move_media(account, row, old, new, now)
    row.status, row.ticket_id = "processed", new.id
    return Outcome(replies.attachment_split(account, new, what), new)


def on_event(account, resident, inbound, now):
    """Follow, unfollow, menu clicks and template delivery reports."""
    event = inbound.event
    _from_qr_code(account, resident, inbound)
    if event == "subscribe":
        resident.subscribed, resident.unsubscribed_at = True, None
        return Outcome(replies.welcome(account))
    if event == "unsubscribe":
        resident.subscribed, resident.unsubscribed_at = False, now
        return Outcome(None)
    if event == "click" and inbound.get("EventKey") == "MY_TICKETS":
        return Outcome(replies.my_tickets(account, _open_tickets(resident), now))
    if event == "click" and inbound.get("EventKey") == "HOTLINE":
        return Outcome(replies.hotline_text(account))
    if event == "click" and inbound.get("EventKey") == "NEW_PROBLEM":
        return split_last_attachment(account, resident, now)
    if event == "templatesendjobfinish":
        _record_template_result(account, inbound, now)
    return Outcome(None)


def _from_qr_code(account, resident, inbound):
    """A district-account QR code names a community (scene "qrscene_yanchenglu" on following, "yanchenglu" when
    scanned by a follower): the resident's notes go there unless their words say otherwise."""
    if account.community_id or inbound.event not in ("subscribe", "SCAN", "scan"):
        return
    scene = (inbound.get("EventKey") or "").removeprefix("qrscene_").strip()
    community = community_by_code(scene) if scene else None
    if community is not None:
        resident.community_id = community.id


def _open_tickets(resident, limit=5):
    """The resident's unfinished tickets, newest first."""
    return db.session.scalars(select(Ticket).where(
        Ticket.resident_id == resident.id, Ticket.status.not_in([Status.CLOSED, Status.INVALID, Status.MERGED]))
        .order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit)).all()


def _record_template_result(account, inbound, now):
    """Keep WeChat's delivery report for the notification it concerns (matched by msgid)."""
    table = TemplateResult.__table__
    db.session.execute(dialect().insert(table).values(
        account_id=account.id, msgid=inbound.get("MsgID") or inbound.get("MsgId") or "", openid=inbound.openid,
        status=(inbound.get("Status") or "")[:64], reported_at=now)
        .on_conflict_do_nothing(index_elements=["account_id", "msgid"]))


def act(account, resident, inbound, now):
    """Do what one message from this resident asks, by its type."""
    kind = inbound.msg_type
    if kind == "text":
        return on_text(account, resident, inbound.get("Content"), now)
    if kind == "image":
        return on_image(account, resident, inbound, now)
    if kind == "voice":
        return on_voice(account, resident, inbound, now)
    if kind == "location":
        return on_location(account, resident, inbound, now)
    if kind == "event":
        return on_event(account, resident, inbound, now)
    return Outcome(replies.unsupported(account))
