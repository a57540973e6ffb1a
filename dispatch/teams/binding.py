"""Binding a volunteer's WeChat without anyone typing an openid: the director shows a single-use QR code (the link
mechanism of org/links.py, as family links use), the volunteer scans it in WeChat, a silent OAuth round trip
tells their openid, and it is recorded on their profile. The link then stops working."""
from datetime import timedelta

from sqlalchemy import select

from dispatch.errors import AppError
from dispatch.extensions import db
from dispatch.org.links import hash_token, new_token
from dispatch.org.models import User
from dispatch.teams.models import Volunteer
from dispatch.wechat.models import WeChatAccount

BIND_LIFETIME = timedelta(hours=24)


class BindRefused(AppError):
    """A bind link that cannot be used (wrong, used, replaced, expired), said kindly with what to do."""

    status = 410


def make_link(volunteer, now):
    """A new single-use link for this volunteer (a new one replaces the one not used yet); returns its token."""
    token = new_token()
    volunteer.bind_token_hash, volunteer.bind_expires_at = hash_token(token), now + BIND_LIFETIME
    db.session.commit()
    return token


def waiting(volunteer, token, now):
    """Whether this token (kept in the director's session) is the volunteer's link, still unused and in time."""
    return bool(token and volunteer.bind_token_hash == hash_token(token) and volunteer.bind_expires_at
                and now < volunteer.bind_expires_at)


def volunteer_for_link(token, now):
    """The volunteer a bind link names, while it can be used; else BindRefused."""
    volunteer = None
    if token and len(token) <= 100:
        volunteer = db.session.scalar(select(Volunteer).where(Volunteer.bind_token_hash == hash_token(token)))
    if volunteer is None:
        raise BindRefused("这个绑定二维码已经用过了，或者已经换了新的。每个二维码只能用一次，"
                          "请社区主任在「服务队」里重新生成。")
    if now >= volunteer.bind_expires_at:
        raise BindRefused("这个绑定二维码已经过期了（生成后 24 小时内有效）。请社区主任重新生成一个。")
    if not volunteer.user.active:
        raise BindRefused("这个队员账号已停用，不能绑定微信。请联系社区主任。", status=403)
    return volunteer


def account_for(volunteer):
    """The official account a volunteer signs in through: their community's, else the district's."""
    accounts = db.session.scalars(select(WeChatAccount).where(
        (WeChatAccount.community_id == volunteer.user.community_id) | WeChatAccount.community_id.is_(None))
        .order_by(WeChatAccount.community_id.is_(None), WeChatAccount.id)).all()
    return accounts[0] if accounts else None


def bind(token, openid, now):
    """Record the openid on the link's volunteer and use the link up; another volunteer's hold on it is released."""
    volunteer = volunteer_for_link(token, now)
    for other in db.session.scalars(select(Volunteer).where(Volunteer.openid == openid, Volunteer.id != volunteer.id)):
        other.openid = None  # one WeChat signs in as one volunteer: the newest binding wins
    volunteer.openid, volunteer.bind_token_hash, volunteer.bind_expires_at = openid, None, None
    db.session.commit()
    return db.session.get(User, volunteer.user_id)


def unbind(volunteer):
    """Forget the volunteer's WeChat (a lost phone): they sign in by password until bound again."""
    volunteer.openid, volunteer.bind_token_hash, volunteer.bind_expires_at = None, None, None
    db.session.commit()
