"""The resident's side of family members (代办人): the parent makes a link (and its QR code), the child confirms
it in their own WeChat, then reports for the parent, follows and rates their tickets; the parent removes them."""
from sqlalchemy import select

from dispatch.errors import AppError, Invalid, NotFound
from dispatch.extensions import db
from dispatch.intake.wechat_service import RESIDENT
from dispatch.org.family import LINK_LIFETIME, MAX_LABEL, FamilyLink, hash_token, link_between, new_token, parents_of
from dispatch.org.links import qr_data_uri  # noqa: F401  (the family page draws its link with it)
from dispatch.org.models import Resident
from dispatch.resident import services
from dispatch.tickets import pipeline
from dispatch.tickets.models import Ticket, TicketPhoto

FAMILY_TICKETS_LIMIT = 20


class LinkRefused(AppError):
    """A family link that cannot be used (wrong, used, expired, one's own): said kindly, with what to do."""

    status = 410


def _label(raw, what, default=None):
    value = " ".join((raw or "").split())
    if not value and default:
        return default
    if not value:
        raise Invalid(f"请写上{what}", fields={"label": ["必填"]})
    if len(value) > MAX_LABEL:
        raise Invalid(f"{what}最多 {MAX_LABEL} 个字，现在是 {len(value)} 个字", fields={"label": ["过长"]})
    return value


def make_link(parent, label, now):
    """A new single-use link for the parent (valid LINK_LIFETIME); returns (link, token). Only the hash is kept."""
    label = _label(label, "家人怎么称呼您，例如：张阿姨")
    for older in db.session.scalars(select(FamilyLink).where(  # a new link replaces the one not used yet
            FamilyLink.parent_id == parent.id, FamilyLink.member_id.is_(None), FamilyLink.removed_at.is_(None))):
        older.removed_at = now
    token = new_token()
    link = FamilyLink(parent_id=parent.id, token_hash=hash_token(token), parent_label=label, created_at=now,
                      expires_at=now + LINK_LIFETIME)
    db.session.add(link)
    db.session.commit()
    return link, token


def open_link(token):
    """The unconfirmed link a token names, if it is still waiting (None once used, removed or unknown)."""
    if not token or len(token) > 100:
        return None
    return db.session.scalar(select(FamilyLink).where(FamilyLink.token_hash == hash_token(token)))


def usable(token, resident, now):
    """The link the token names, if this resident may confirm it now; else LinkRefused with a kind message."""
    link = open_link(token)
    if link is None or link.parent.account_code != resident.account_code:
        raise LinkRefused("这个家人链接不对，可能没有复制完整。请让家人在「我的家人」页面重新生成一个。")
    if link.member_id is not None:
        raise LinkRefused("这个家人链接已经用过了，每个链接只能用一次。请让家人重新生成一个。")
    if link.removed_at is not None:
        raise LinkRefused("这个家人链接已经换成新的了。请用家人最新发给您的链接或二维码。")
    if now >= link.expires_at:
        raise LinkRefused("这个家人链接已经过期了（生成后 24 小时内有效）。请让家人重新生成一个。")
    if link.parent_id == resident.id:
        raise LinkRefused("这是您自己生成的链接。请把它发给您的子女或亲属，让他们用自己的微信打开。", status=400)
    if link_between(resident.id, link.parent_id) is not None:
        raise LinkRefused(f"您已经是{link.parent_label}的家人代办人了，不用再确认。", status=409)
    return link


def confirm(token, member, label, now):
    """The member confirms: from now on they act for the parent."""
    link = usable(token, member, now)
    link.member_label = _label(label, "您的称呼", default="家人")
    link.member_id, link.linked_at = member.id, now
    db.session.commit()
    return link


def waiting_link(parent, token, now):
    """The parent's own link made a moment ago (its token kept in their session), while it can still be used."""
    link = open_link(token)
    if link is None or link.parent_id != parent.id or link.member_id is not None or link.removed_at is not None \
            or now >= link.expires_at:
        return None
    return link


def remove(parent, link_id, now):
    """The parent removes a family member: everything they could do stops at once."""
    link = db.session.get(FamilyLink, link_id)
    if link is None or link.parent_id != parent.id or link.removed_at is not None:
        raise NotFound("这位家人已经不在您的家人名单里了。")
    link.removed_at = now
    db.session.commit()
    return link


def link_for(member, parent_id):
    """The member's active link to this parent, or NotFound (removed links answer like missing ones)."""
    link = link_between(member.id, parent_id)
    if link is None:
        raise NotFound("找不到这位家人。可能家人已经取消了您的代办，请向家人确认。")
    return link


def acting_as(resident, ticket):
    """Who the resident speaks for on this ticket: the parent when they are its reporter's family member."""
    if ticket.resident_id != resident.id and link_between(resident.id, ticket.resident_id) is not None:
        return db.session.get(Resident, ticket.resident_id)
    return resident


def family_label(resident_id, ticket):
    """How the page names the ticket's reporter when the resident sees it as their family member, or None."""
    if resident_id is None or ticket.resident_id == resident_id:
        return None
    link = link_between(resident_id, ticket.resident_id)
    return link.parent_label if link else None


def parents_tickets(member_id):
    """[(link, tickets)] of the parents this resident acts for, newest tickets first."""
    return [(link, services.my_tickets(link.parent, FAMILY_TICKETS_LIMIT)) for link in parents_of(member_id)]


def photo_type(member, key):
    """The content type of a photo of a parent's ticket, for their family member, else None."""
    parents = [link.parent_id for link in parents_of(member.id)]
    if not parents:
        return None
    photo = db.session.scalar(select(TicketPhoto).join(Ticket).where(TicketPhoto.stored_as(key),
                                                                     Ticket.resident_id.in_(parents)))
    return photo.content_type_of(key) if photo is not None else None


def report_for(account, link, report, now):
    """Open the parent's ticket from the member's form; the timeline says which family member reported it."""
    with pipeline.unit():
        ticket, created = services.submit_report(account, link.parent, report, now)
        if created:
            pipeline.act(RESIDENT, ticket, "reported_by_family",
                         note=f"由家人（{link.member_label or '家人'}）代{link.parent_label}提交", now=now)
    return ticket, created



def parents_of_resident(member_id):
    """The links that let this resident act for a parent."""
    return parents_of(member_id)


def my_or_parents_ticket(resident, number):
    """One of the resident's tickets, or one of a parent's they act for; anyone else's is like a missing one."""
    ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
    if ticket is None or (ticket.resident_id != resident.id and link_between(resident.id, ticket.resident_id) is None):
        raise NotFound("找不到这张工单")
    return ticket


def last_label(parent):
    """How the parent asked to be called on their latest link (to fill the form in again), or None."""
    return db.session.scalar(select(FamilyLink.parent_label).where(FamilyLink.parent_id == parent.id)
                             .order_by(FamilyLink.id.desc()).limit(1))
