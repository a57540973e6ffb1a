"""Demo WeChat accounts: the district's and one per named community, with made-up but well-formed keys."""
import hashlib

from sqlalchemy import select

from dispatch.extensions import db
from dispatch.org.models import Community
from dispatch.wechat.accounts import add_account

DEMO_ACCOUNT_COMMUNITIES = ("yanchenglu", "zhanshanerlu", "xiangganghuayuan", "jinkoulu", "wuxinglu", "tuandaolu")
DISTRICT_HOTLINE = "0532-12345"


def _fake(code, length, alphabet="0123456789abcdef"):
    """A stable made-up value (the demo must not need real WeChat credentials)."""
    digest = hashlib.sha256(f"dispatch-demo-{code}".encode()).hexdigest()
    return "".join(alphabet[int(digest[i % 64], 16) % len(alphabet)] for i in range(length))


def seed_accounts():
    """Register the demo accounts (idempotent); returns the line to print."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    add_account("shinan", "市南区社区服务", "wx" + _fake("shinan", 16), "shinanDemoToken", _fake("s-secret", 32),
                aes_key=_fake("shinan-aes", 43, letters), hotline=DISTRICT_HOTLINE)
    made = 1
    for code in DEMO_ACCOUNT_COMMUNITIES:
        community = db.session.scalar(select(Community).where(Community.code == code))
        if community is None:
            continue
        add_account(code, community.name, "wx" + _fake(code, 16), f"{code[:20]}Token", _fake(code + "-s", 32),
                    aes_key=_fake(code + "-aes", 43, letters), community_code=code)
        made += 1
    return f"wechat accounts: {made} (district + communities); try them at /dev/wechat (WeChat simulator)"
