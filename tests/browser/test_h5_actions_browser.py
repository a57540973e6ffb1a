"""A resident's own actions on a 360-pixel phone: 催一催, 撤回, 修改评价, and a merged report following the kept one."""
import os
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.browser.conftest import missing_browser

if missing_browser() and os.environ.get("REQUIRE_BROWSER") != "1":
    pytest.skip(missing_browser(), allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

from dispatch.extensions import db  # noqa: E402
from dispatch.tickets import pipeline  # noqa: E402
from dispatch.tickets.models import Ticket  # noqa: E402
from tests.browser.test_h5_browser import (_reported, assert_fits, h5_account, phone,  # noqa: E402,F401
                                           phone_context)
from tests.conftest import FrozenClock  # noqa: E402


@pytest.fixture
def shots(tmp_path):
    """Where the screenshots go (SHOTS_DIR to keep them and look at them)."""
    folder = Path(os.environ.get("SHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def clock(live):
    """The live app's clock, frozen at the real time now and moved by the test; the real one again after."""
    frozen = FrozenClock(datetime.now(timezone.utc))
    live.app.config["CLOCK"] = frozen
    yield frozen
    live.app.config["CLOCK"] = None


@pytest.fixture
def neighbour_phone(browser, live, h5_account):
    """A second resident's phone (another openid)."""
    context = phone_context(browser, live, "o_browser_neighbour")
    yield context.new_page()
    context.close()


def _act(live, number, action, **fields):
    with live.app.app_context():
        ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
        pipeline.act(live.org.admin, ticket, action, **fields)


def test_nudge_once_the_promised_time_has_passed(phone, live, clock, shots):
    page = phone
    number = _reported(page, "6号楼门口的路灯不亮了")
    expect(page.locator("#nudge")).to_contain_text("到时还没人联系您，可以在这里催一催")
    expect(page.get_by_role("button", name="催一催")).to_have_count(0)
    assert_fits(page)
    page.screenshot(path=str(shots / "nudge-not-yet.png"), full_page=True)
    clock.advance(days=4)
    page.reload()
    button = page.get_by_role("button", name="催一催")
    assert button.bounding_box()["height"] >= 48
    assert_fits(page)
    page.screenshot(path=str(shots / "nudge-offered.png"), full_page=True)
    button.click()
    expect(page.locator(".banner-success")).to_contain_text("已帮您催了一下")
    expect(page.locator(".steps")).to_contain_text("您催了一下，已告诉工作人员")
    expect(page.locator("#nudge")).to_contain_text("您已经催过了")
    assert_fits(page)
    page.screenshot(path=str(shots / "nudge-done.png"), full_page=True)
    assert number


def test_withdraw_with_a_reason(phone, live, shots):
    page = phone
    _reported(page, "楼下的垃圾桶满了没人收")
    page.get_by_text("可以撤回").click()
    page.get_by_label("撤回的原因").fill("已经有人收走了")
    assert_fits(page)
    page.screenshot(path=str(shots / "withdraw-form.png"), full_page=True)
    page.get_by_role("button", name="撤回这个诉求").click()
    expect(page.locator(".banner-success")).to_contain_text("已撤回")
    expect(page.locator(".status-line")).to_contain_text("已撤回")
    expect(page.locator(".steps")).to_contain_text("已经有人收走了")
    assert_fits(page)
    page.screenshot(path=str(shots / "withdrawn.png"), full_page=True)


def test_change_a_rating(phone, live, shots):
    page = phone
    number = _reported(page, "3号楼楼道灯坏了")
    live.resolve(number)
    page.reload()
    page.locator(".choice", has_text="基本满意").click()
    page.get_by_role("button", name="提交评价").click()
    expect(page.locator("#my-rating")).to_contain_text("前可以修改评价")
    page.get_by_role("link", name="修改评价").click()
    expect(page.get_by_role("heading", name="修改评价")).to_be_visible()
    expect(page.locator("input[name=rating][value=basically_satisfied]")).to_be_checked()
    assert_fits(page)
    page.screenshot(path=str(shots / "rating-change-form.png"), full_page=True)
    page.locator(".choice", has_text="满意").first.click()
    page.get_by_label("还有什么想说的？").fill("后来又来看了一次，很负责")
    page.get_by_role("button", name="提交修改").click()
    expect(page.locator(".banner-success")).to_contain_text("评价已修改")
    expect(page.locator("#my-rating")).to_contain_text("满意：后来又来看了一次，很负责")
    assert_fits(page)
    page.screenshot(path=str(shots / "rating-changed.png"), full_page=True)


def test_a_merged_report_follows_and_rates_the_kept_ticket(phone, neighbour_phone, live, shots):
    kept = _reported(phone, "古田路16号5号楼1单元的楼道灯不亮")
    duplicate = _reported(neighbour_phone, "5号楼1单元楼道黑了，灯坏了")
    _act(live, kept, "accept")
    _act(live, duplicate, "merge", into=kept)
    page = neighbour_phone
    page.reload()
    expect(page.locator("#merged")).to_contain_text(f"已与工单 {kept} 合并办理")
    expect(page.locator(".steps")).to_contain_text("社区已收到，正在安排人员")
    assert_fits(page)
    page.screenshot(path=str(shots / "merged-progress.png"), full_page=True)
    live.resolve(kept)
    page.goto(f"/h5/yanchenglu/tickets/{kept}")  # the link in the messages they hear
    expect(page).to_have_url(re.compile(rf"/tickets/{duplicate}$"))
    expect(page.get_by_role("heading", name="办好了吗？请您评价")).to_be_visible()
    assert_fits(page)
    page.screenshot(path=str(shots / "merged-rate.png"), full_page=True)
    page.locator(".choice", has_text="满意").first.click()
    page.get_by_role("button", name="提交评价").click()
    expect(page.locator(".banner-success")).to_contain_text("谢谢您的评价")
    expect(page.locator("#merged")).to_contain_text("已完成")
    page.screenshot(path=str(shots / "merged-rated.png"), full_page=True)
