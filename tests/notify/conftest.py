"""Fixtures for notify: the WeChat stub over real HTTP, the default template mapping, a following resident."""
import pytest

from dispatch.extensions import db
from dispatch.notify.templates import load_defaults
from dispatch.org.models import Resident
from dispatch.tickets.models import Channel

OPENID = "o_resident_wang"


@pytest.fixture(autouse=True)
def mappings(clean_db):
    """Every event mapped to its placeholder template, as the migration leaves a new database (pure tests: none)."""
    if clean_db is not None:
        load_defaults()


@pytest.fixture
def resident(account):
    """A resident who follows 盐城路社区's account."""
    person = Resident(account_code=account.code, openid=OPENID, phone="13800138000", name="王阿姨",
                      community_id=account.community_id)
    db.session.add(person)
    db.session.commit()
    return person


@pytest.fixture
def reported(make_ticket, resident):
    """A ticket the resident reported through WeChat."""
    def make(description="3号楼2单元走廊灯坏了，晚上看不见", who=None, **kw):
        return make_ticket(description, resident=who or resident, channel=Channel.WECHAT_TEXT,
                           address="古田路16号3号楼", **kw)
    return make
