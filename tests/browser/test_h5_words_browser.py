"""Words residents understand on a 360-pixel phone: the promised contact time, who is coming, plain states."""
import os

import pytest
from sqlalchemy import select

from tests.browser.conftest import missing_browser

if missing_browser() and os.environ.get("REQUIRE_BROWSER") != "1":
    pytest.skip(missing_browser(), allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

from dispatch.extensions import db  # noqa: E402
from dispatch.org.models import User  # noqa: E402
from dispatch.org.principal import Principal  # noqa: E402
from dispatch.tickets import pipeline  # noqa: E402
from dispatch.tickets.models import Ticket  # noqa: E402
from tests.browser.test_h5_actions_browser import _act, shots  # noqa: E402,F401
from tests.browser.test_h5_browser import _reported, assert_fits, h5_account, phone  # noqa: E402,F401


def _as_volunteer(live, number, action, **fields):
    with live.app.app_context():
        ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
        volunteer = db.session.scalar(select(User).where(User.username == "volunteer"))
        pipeline.act(Principal.from_user(volunteer), ticket, action, **fields)


def test_the_ticket_page_says_when_we_call_and_who_is_coming(phone, live, shots):
    page = phone
    number = _reported(page, "古田路16号3号楼楼道灯坏了")
    page.reload()  # the page as the resident finds it later, without the banner
    expect(page.locator("#promise")).to_contain_text("前联系您")
    expect(page.locator(".status-line")).to_contain_text("已收到")
    assert_fits(page)
    page.screenshot(path=str(shots / "words-new.png"), full_page=True)
    _act(live, number, "accept")
    _act(live, number, "dispatch", assignee="volunteer")
    _as_volunteer(live, number, "sign")
    page.reload()
    expect(page.locator("#promise")).to_have_count(0)
    expect(page.locator("#coming")).to_contain_text("李师傅（365服务队）负责办理，会联系您。")
    expect(page.locator(".steps")).to_contain_text("已安排李师傅（365服务队）来办理")
    expect(page.locator(".status-line")).to_contain_text("人员已接手")
    assert_fits(page)
    page.screenshot(path=str(shots / "words-signed.png"), full_page=True)
    page.get_by_role("link", name="我的工单", exact=True).click()
    expect(page.locator(".ticket-card").first).to_contain_text("人员已接手")
    assert_fits(page)
    page.screenshot(path=str(shots / "words-list.png"), full_page=True)
