"""Resident-side services for the H5 pages: who is signed in, their own tickets, a new report, a rating."""
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from dispatch.errors import Conflict, Invalid, NotFound
from dispatch.extensions import db
from dispatch.images import RejectedPhoto, process_photo
from dispatch.intake import gazetteer
from dispatch.intake.wechat_service import RESIDENT, community_for, forget_pending_note, open_ticket, resident_for
from dispatch.org.models import Community, Resident, Street
from dispatch.storage import storage
from dispatch.tickets import pipeline
from dispatch.tickets.lifecycle import TERMINAL_STATUSES, Status
from dispatch.tickets.models import Channel, Ticket, TicketPhoto
from dispatch.tickets.pipeline import Command
from dispatch.tickets.ratings import RATINGS, rate as rate_command, rated_since_resolved

MAX_PHOTOS = 9
MAX_DESCRIPTION = 2000
MAX_ADDRESS = 200
MAX_COMMENT = 500
MY_TICKETS_LIMIT = 100
DUPLICATE_WINDOW = timedelta(minutes=10)
MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0[1-9]\d{8,10}$")  # area code (3 or 4 digits with the 0) + 7 or 8 digits
PHONE_MESSAGE = "请填写手机号（11 位，如 13812345678）或带区号的座机（如 0532-83880001）"


# ---- who is signed in, and what is theirs ----

def signed_in(account, openid, now):
    """The resident behind an openid of this account; created (and committed) on the first visit."""
    resident = db.session.scalar(select(Resident).where(Resident.account_code == account.code,
                                                        Resident.openid == openid))
    if resident is None:
        resident = resident_for(account, openid, now)
        db.session.commit()
    return resident


def my_tickets(resident, limit=MY_TICKETS_LIMIT):
    """The resident's tickets, newest first."""
    return db.session.scalars(select(Ticket).options(joinedload(Ticket.category))
                              .where(Ticket.resident_id == resident.id)
                              .order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit)).all()


def my_ticket(resident, number):
    """One of the resident's tickets; anyone else's answers exactly like a missing one."""
    ticket = db.session.scalar(select(Ticket).where(Ticket.number == number, Ticket.resident_id == resident.id))
    if ticket is None:
        raise NotFound("找不到这张工单")
    return ticket


def my_photo_type(resident, key):
    """The content type of a photo or thumbnail of one of the resident's tickets, else None."""
    photo = db.session.scalar(select(TicketPhoto).join(Ticket).where(
        TicketPhoto.stored_as(key), Ticket.resident_id == resident.id))
    return photo.content_type_of(key) if photo is not None else None


def last_address(resident):
    """The address of the resident's latest ticket that has one (to fill the form in for them)."""
    return db.session.scalar(select(Ticket.address).where(Ticket.resident_id == resident.id,
                                                          Ticket.address.is_not(None))
                             .order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(1))


def communities_by_street():
    """[(street name, [communities])] for the district account's community picker."""
    rows = db.session.execute(select(Community, Street.name).join(Street)
                              .order_by(Street.code, Community.code)).all()
    grouped = {}
    for community, street in rows:
        grouped.setdefault(street, []).append(community)
    return list(grouped.items())


def short_list(values, query):
    """The few communities offered first on the district account's form: those found by the search, else those
    the words point to, with the one already chosen."""
    if query:
        found = gazetteer.search(query)
    else:
        words = gazetteer.find(" ".join(filter(None, (values.get("address"), values.get("description")))))
        found = [words.community] if words.community else words.candidates
    chosen = values.get("community") and db.session.scalar(select(Community).where(
        Community.code == values["community"]))
    if chosen and chosen not in found:
        found = [chosen, *found]
    return found


def needs_community(account):
    """Whether the report form asks which community the resident lives in (the district account)."""
    return account.community_id is None


# ---- the report form ----

@dataclass
class Report:
    """A checked report, ready to become a ticket."""

    description: str
    address: str | None
    phone: str | None
    category: object = None
    community: Community | None = None
    photos: list = field(default_factory=list)


class ReportRefused(Exception):
    """The form cannot be accepted as sent: a message per field, and what was typed, to show again."""

    def __init__(self, errors, values):
        super().__init__("; ".join(errors.values()))
        self.errors, self.values = errors, values


def form_values(form):
    """The form's text fields as typed (trimmed), to fill the form in again."""
    return {name: (form.get(name) or "").strip()
            for name in ("description", "address", "phone", "category", "community")}


def clean_phone(raw):
    """A mainland mobile (13812345678) or landline with area code (0532-83880001); raises ValueError."""
    value = unicodedata.normalize("NFKC", raw)
    value = re.sub(r"[\s()\-—–]", "", value)
    for prefix in ("+86", "0086"):
        if value.startswith(prefix):
            value = value[len(prefix):]
    if MOBILE.match(value):
        return value
    if LANDLINE.match(value):
        area = 3 if value[1] in "12" else 4  # 010 and 02x are the three-digit area codes
        return f"{value[:area]}-{value[area:]}"
    raise ValueError(PHONE_MESSAGE)


def _check_text(values, errors):
    """Description, address and phone; messages go into errors."""
    description = values["description"].replace("\r\n", "\n")
    if not description:
        errors["description"] = "请写下您遇到的问题，例如：3号楼2单元楼道灯坏了"
    elif len(description) > MAX_DESCRIPTION:
        errors["description"] = f"问题描述最多 {MAX_DESCRIPTION} 字，现在是 {len(description)} 字，请删减一些"
    if len(values["address"]) > MAX_ADDRESS:
        errors["address"] = f"地址最多 {MAX_ADDRESS} 字"
    phone = None
    if values["phone"]:
        try:
            phone = clean_phone(values["phone"])
        except ValueError as exc:
            errors["phone"] = str(exc)
    return description, phone


def _check_choices(account, resident, values, categories, errors):
    """The category (optional) and, on the district account, the community."""
    category = None
    if values["category"]:
        category = next((c for c in categories if c.code == values["category"]), None)
        if category is None:
            errors["category"] = "请从列表中选择问题类型"
    community = None
    if needs_community(account):
        if values["community"]:
            community = db.session.scalar(select(Community).where(Community.code == values["community"]))
        if community is None and not values["community"]:  # the address typed may tell it
            community = gazetteer.find(f"{values['address']} {values['description']}").community
        if community is None and (values["community"] or community_for(account, resident) is None):
            errors["community"] = "请选择您所在的社区"
    return category, community


def _read_photos(files, errors):
    """Each uploaded photo checked and cleaned (upright, no EXIF, shrunk); refusals named one by one."""
    chosen = [f for f in files if f and f.filename]
    if len(chosen) > MAX_PHOTOS:
        errors["photos"] = f"照片最多 {MAX_PHOTOS} 张，您选了 {len(chosen)} 张，请少选几张"
        return []
    limit, photos, refused = current_app.config["MAX_PHOTO_BYTES"], [], []
    for number, upload in enumerate(chosen, start=1):
        try:
            photos.append(process_photo(upload.read(limit + 1), max_bytes=limit))
        except RejectedPhoto as exc:
            refused.append(f"第 {number} 张（{_short_name(upload.filename)}）{exc}")
    if refused:
        errors["photos"] = "这些照片没能收下：" + "；".join(refused) + "。文字已为您保留，请重新选择照片后再提交"
    return photos


def _short_name(name, limit=30):
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    return name if len(name) <= limit else name[:limit] + "…"


def read_report(account, resident, form, files, categories):
    """The form as a Report; raises ReportRefused with a message per field and the values typed."""
    values, errors = form_values(form), {}
    description, phone = _check_text(values, errors)
    category, community = _check_choices(account, resident, values, categories, errors)
    photos = _read_photos(files, errors)
    if errors:
        raise ReportRefused(errors, values)
    return Report(description=description, address=values["address"] or None, phone=phone,
                  category=category, community=community, photos=photos)


def recent_duplicate(resident, description, now):
    """The resident's ticket with the same words from the last few minutes (sent twice, or back and again)."""
    return db.session.scalar(select(Ticket).where(
        Ticket.resident_id == resident.id, Ticket.description == description,
        Ticket.created_at >= now - DUPLICATE_WINDOW).order_by(Ticket.id.desc()).limit(1))


def submit_report(account, resident, report, now):
    """Open the ticket with its photos, in one transaction; returns (ticket, False) for a repeated report."""
    repeated = recent_duplicate(resident, report.description, now)
    if repeated is not None:
        _add_new_photos(repeated, report.photos, now)
        return repeated, False
    with pipeline.unit():
        if report.community is not None:
            resident.community_id = report.community.id
        if report.phone:
            resident.phone = report.phone
        ticket = open_ticket(account, resident, now, report.description, Channel.WEB_FORM)
        forget_pending_note(resident)  # the words kept from the chat are now a ticket
        if ticket is None:
            raise Invalid("请选择您所在的社区", fields={"community": ["必选"]})
        if report.address:
            ticket.address = report.address  # the resident's own words beat the address guessed from the text
        if report.category is not None and ticket.category_id != report.category.id:
            pipeline.act(RESIDENT, ticket, "classify", note="居民在报事单上选择的问题类型", now=now,
                         category=report.category)
        _attach(ticket, report.photos, now)
    return ticket, True


def _add_new_photos(ticket, photos, now):
    """Photos added when a report is sent again (back, add a photo, send): only those not there yet."""
    kept = {p.size for p in ticket.photos}  # cleaning is deterministic: the same photo has the same size
    new = [p for p in photos if len(p.data) not in kept][:max(0, MAX_PHOTOS - len(ticket.photos))]
    if new:
        _attach(ticket, new, now)


def _attach(ticket, photos, now):
    """Store each cleaned photo and its thumbnail, one timeline entry per photo (one transaction)."""
    if not photos:
        return
    store = storage(current_app)
    pipeline.execute(*(Command(RESIDENT, ticket, "photo", note=f"居民在报事单上传的照片（{number}/{len(photos)}）",
                               fields={"cleaned": photo, "storage": store})
                       for number, photo in enumerate(photos, start=1)), now=now)


# ---- rating ----

def can_rate(ticket):
    """A resolved ticket whose result the resident has not rated yet."""
    return ticket.status is Status.RESOLVED and not rated_since_resolved(ticket)


def _refusal(ticket):
    """Why this ticket cannot be rated now, or None."""
    if can_rate(ticket):
        return None
    if rated_since_resolved(ticket):
        return "您已经评价过这张工单了，谢谢您！"
    if ticket.status in TERMINAL_STATUSES:
        return f"这张工单现在是「{ticket.status.resident_label}」，不能再评价了。"
    return f"问题办好以后才能评价。这张工单现在是「{ticket.status.resident_label}」。"


def _check_rating(ticket, rating, comment):
    """Refuse a rating that cannot be kept; returns the comment trimmed."""
    refusal = _refusal(ticket)
    if refusal:
        raise Conflict(refusal)
    return check_choice(rating, comment)


def check_choice(rating, comment):
    """A rating from the scale and a comment within its limit; returns the comment trimmed."""
    comment = (comment or "").strip()
    if rating not in RATINGS:
        raise Invalid("请选择「满意」「基本满意」或「不满意」", fields={"rating": ["必选"]})
    if len(comment) > MAX_COMMENT:
        raise Invalid(f"意见最多 {MAX_COMMENT} 字，现在是 {len(comment)} 字", fields={"comment": ["过长"]})
    return comment


def rate(ticket, rating, comment, now, redo=True, by=None):
    """Keep the resident's rating: satisfied closes the ticket; unsatisfied has it redone, or closed if they decline.

    A neighbour whose report was merged into the ticket (by) is named on the entry: only they may change it."""
    comment = _check_rating(ticket, rating, comment)
    label, unsatisfied = RATINGS[rating], rating == "unsatisfied"
    follower = {"resident_id": by.id} if by is not None and by.id != ticket.resident_id else {}
    kept = rate_command(RESIDENT, ticket, rating, label + (f"：{comment}" if comment else ""),
                        comment=comment or None, source="resident", **({"redo": redo} if unsatisfied else {}),
                        **follower)
    if unsatisfied and redo:
        then = Command(RESIDENT, ticket, "reopen", note=f"居民不满意：{comment or '未填写原因'}")
    elif unsatisfied:
        then = Command(RESIDENT, ticket, "close", note=f"居民不满意，但不需要重新办理：{comment or '未填写意见'}")
    else:
        then = Command(RESIDENT, ticket, "close", note=f"居民评价：{label}")
    return pipeline.execute(kept, then, now=now)


# ---- answering staff's question (待居民补充) ----

MAX_ANSWER = 1000


def question_of(ticket):
    """What staff asked the resident (the latest 待居民补充 note), while the ticket waits for the answer."""
    if ticket.status is not Status.WAITING_RESIDENT:
        return None
    return next((e.note for e in sorted(ticket.events, key=lambda e: e.id, reverse=True)
                 if e.kind == "wait_for_resident"), None)


def read_answer(form, files):
    """The answer as (text, cleaned photos); raises ReportRefused with a message and the words typed."""
    text = (form.get("answer") or "").strip().replace("\r\n", "\n")
    errors = {}
    if len(text) > MAX_ANSWER:
        errors["answer"] = f"回答最多 {MAX_ANSWER} 字，现在是 {len(text)} 字，请删减一些"
    photos = _read_photos(files, errors)
    if not text and not photos and not errors:
        errors["answer"] = "请写下您要补充的情况，或者选一张照片"
    if errors:
        raise ReportRefused(errors, {"answer": text})
    return text, photos


def answer(ticket, text, photos, now):
    """The resident's answer on the timeline, with its photos; the ticket resumes and its holder hears of it."""
    if ticket.status is not Status.WAITING_RESIDENT:
        raise Conflict("这张工单现在不需要您补充情况了，工作人员正在办理。")
    store = storage(current_app)
    note = text or f"居民补充了 {len(photos)} 张照片"
    commands = [Command(RESIDENT, ticket, "answer", note=note)]
    commands += [Command(RESIDENT, ticket, "photo", note=f"居民补充的照片（{number}/{len(photos)}）",
                         fields={"cleaned": photo, "storage": store})
                 for number, photo in enumerate(photos, start=1)]
    return pipeline.execute(*commands, now=now)
