"""The accounts of the alliance: register, list (secrets masked), look up by code."""
import re

from sqlalchemy import select

from dispatch.cache import TtlCache
from dispatch.errors import Invalid, NotFound
from dispatch.extensions import db
from dispatch.org.models import Community
from dispatch.rows import cached_instance
from dispatch.wechat.models import WeChatAccount
from dispatch.wechat.protocol import Keys

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,31}$")
TOKEN_RE = re.compile(r"^[A-Za-z0-9]{3,32}$")  # WeChat's rule for the callback token
AES_KEY_RE = re.compile(r"^[A-Za-z0-9]{43}$")

_accounts = TtlCache("REFERENCE_CACHE_SECONDS")


def mask(secret):
    """Enough of a secret to recognise it, never the whole of it."""
    if not secret:
        return "-"
    return secret[:3] + "…" + secret[-2:] if len(secret) > 8 else "…"


def _validate(code, appid, token, aes_key, secret):
    problems = {}
    if not CODE_RE.match(code or ""):
        problems["code"] = ["小写字母、数字、- 或 _，2 到 32 位"]
    if not re.match(r"^wx[0-9a-f]{16}$", appid or ""):
        problems["appid"] = ["AppID 形如 wx 加 16 位十六进制"]
    if not TOKEN_RE.match(token or ""):
        problems["token"] = ["Token 为 3 到 32 位字母或数字"]
    if aes_key and not AES_KEY_RE.match(aes_key):
        problems["aes_key"] = ["EncodingAESKey 为 43 位字母或数字"]
    if not secret:
        problems["secret"] = ["AppSecret 必填"]
    if problems:
        raise Invalid("公众号参数有误：" + "；".join(f"{k} {v[0]}" for k, v in problems.items()), fields=problems)


def add_account(code, name, appid, token, secret, aes_key=None, community_code=None, hotline=None,
                templates=None):
    """Register an account, or update the one with this code (idempotent); returns (account, created)."""
    _validate(code, appid, token, aes_key, secret)
    community = None
    if community_code:
        community = db.session.scalar(select(Community).where(Community.code == community_code))
        if community is None:
            raise NotFound(f"找不到社区「{community_code}」")
    account = db.session.scalar(select(WeChatAccount).where(WeChatAccount.code == code))
    created = account is None
    if created:
        account = WeChatAccount(code=code, templates={})
        db.session.add(account)
    account.name = name or account.name or (community.name if community else code)
    account.appid, account.token, account.secret, account.aes_key = appid, token, secret, aes_key
    account.community = community
    account.hotline = hotline or account.hotline
    if templates:
        account.templates = {**(account.templates or {}), **templates}
    db.session.commit()
    _accounts.forget()
    return account, created


def all_accounts():
    """Every account, district first, then by code."""
    return db.session.scalars(select(WeChatAccount).order_by(WeChatAccount.community_id.is_not(None),
                                                             WeChatAccount.code)).all()


def account_by_code(code):
    """The account with this code, or None (cached briefly: every callback names one)."""
    return cached_instance(_accounts, code, lambda: db.session.scalar(
        select(WeChatAccount).where(WeChatAccount.code == code)))


def keys(account):
    """What the protocol needs to check and open this account's messages."""
    return Keys(token=account.token, appid=account.appid, aes_key=account.aes_key)


def hotline(account):
    """The number a resident of this account calls: the account's own, else its community's."""
    if account.hotline:
        return account.hotline
    return account.community.phone if account.community else None
