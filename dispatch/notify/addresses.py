"""Where each notification goes: the person's openid, the account that reaches them, and the page to open.

Residents are found by id; staff by user id, with their openid from users.wechat_openid or from a source
another feature registers (teams: the volunteer profile's openid), so notify need not import teams.
"""
from dataclasses import dataclass
from urllib.parse import quote

from sqlalchemy import select, update

from dispatch.extensions import db
from dispatch.org.models import Resident, User
from dispatch.urls import base_url
from dispatch.wechat.models import WeChatAccount

OPENID_SOURCES = []  # functions: user ids → {user id: openid}


def openid_source(function):
    """Register a function that knows more staff openids (decorator)."""
    OPENID_SOURCES.append(function)
    return function


@dataclass(frozen=True)
class Address:
    """How to reach one person; `stopped` or `why` say why they cannot be reached."""

    openid: str | None = None
    account: WeChatAccount | None = None
    phone: str | None = None
    stopped: str | None = None
    why: str | None = None
    audience: str = "resident"
    number: str = ""

    @property
    def account_code(self):
        return self.account.code if self.account else None

    def url(self, mapping):
        """The page the message opens: the resident's ticket (or rating), the volunteer's task, the console."""
        base = base_url()
        if self.audience == "resident":
            suffix = "#rating" if mapping.page == "rate" else ""
            return f"{base}/h5/{self.account_code}/tickets/{self.number}{suffix}"
        if self.audience == "volunteer" and self.account:
            return f"{base}/login/wechat/{self.account_code}?next={quote(f'/desk/tasks/{self.number}')}"
        return f"{base}/tickets/{self.number}"


def addresses_for(rows):
    """{notification id: Address} for a batch, in a handful of queries whatever its size."""
    accounts = {a.code: a for a in db.session.scalars(select(WeChatAccount))}
    by_community = {a.community_id: a for a in accounts.values() if a.community_id}
    district = next((a for a in accounts.values() if not a.community_id), None)
    # A street's staff follow the district's account, or failing that one of their street's communities'.
    by_street = {a.community.street_id: a for a in accounts.values() if a.community is not None}
    residents = _by_id(Resident, {r.resident_id for r in rows if r.resident_id})
    users = _by_id(User, {r.user_id for r in rows if r.user_id})
    openids = staff_openids(users)
    found = {}
    for row in rows:
        number = (row.facts or {}).get("number", "")
        if row.resident_id:
            found[row.id] = _resident_address(residents.get(row.resident_id), accounts, number)
        elif row.user_id in users:
            user = users[row.user_id]
            account = (by_community.get(user.community_id) or (district if not user.community_id else None)
                       or by_street.get(user.street_id) or district)
            found[row.id] = Address(openid=openids.get(user.id), account=account, phone=user.phone,
                                    audience=row.audience, number=number,
                                    why=None if openids.get(user.id) else f"{user.display_name}未绑定微信")
    return found


def _by_id(model, ids):
    if not ids:
        return {}
    return {item.id: item for item in db.session.scalars(select(model).where(model.id.in_(ids)))}


def staff_openids(users):
    """{user id: openid} from the user rows and every registered source."""
    found = {uid: u.wechat_openid for uid, u in users.items() if u.wechat_openid}
    missing = [uid for uid in users if uid not in found]
    for source in OPENID_SOURCES:
        if not missing:
            break
        found.update({uid: oid for uid, oid in source(missing).items() if oid})
        missing = [uid for uid in missing if uid not in found]
    return found


def _resident_address(resident, accounts, number):
    if resident is None:
        return Address(why="居民信息缺失", number=number)
    stopped = None
    if not resident.subscribed:
        stopped = "居民已取消关注公众号"
    elif resident.messages_refused_at is not None:
        stopped = "居民拒收公众号消息"
    why = None if resident.openid else "居民通过电话或其他渠道反映，没有微信"
    return Address(openid=resident.openid, account=accounts.get(resident.account_code), phone=resident.phone,
                   stopped=stopped, why=why, number=number)


def mark_resident(resident_id, code, now):
    """Remember that a resident unfollowed (43004) or refuses messages (43101): no more sends until they return."""
    values = ({"subscribed": False, "unsubscribed_at": now} if code == "43004"
              else {"messages_refused_at": now})
    db.session.execute(update(Resident).where(Resident.id == resident_id).values(**values))
