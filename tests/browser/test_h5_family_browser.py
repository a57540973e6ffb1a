"""Family members (代办人) on a 360-pixel phone: the parent's 「我的家人」 page with its QR code, the child's
confirmation in their own WeChat, reporting for the parent."""
import os
import re

import pytest

from tests.browser.conftest import missing_browser

if missing_browser() and os.environ.get("REQUIRE_BROWSER") != "1":
    pytest.skip(missing_browser(), allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

from tests.browser.test_h5_actions_browser import shots  # noqa: E402,F401 (fixture)
from tests.browser.test_h5_browser import (_reported, assert_fits, h5_account, phone,  # noqa: E402,F401
                                           phone_context)


@pytest.fixture
def child_phone(browser, live, h5_account):
    context = phone_context(browser, live, "o_browser_child")
    yield context.new_page()
    context.close()


def test_a_parent_links_a_child_who_reports_for_them(phone, child_phone, live, shots):
    page = phone
    _reported(page, "楼道灯坏了，晚上看不见")
    page.goto("/h5/yanchenglu/tickets")
    page.get_by_role("link", name=re.compile("我的家人")).click()
    expect(page.get_by_role("heading", name="我的家人")).to_be_visible()
    page.get_by_label("家人怎么称呼您？").fill("张阿姨")
    page.get_by_role("button", name="生成二维码").click()
    qr = page.get_by_alt_text("请家人用微信扫这个二维码")
    expect(qr).to_be_visible()
    box = qr.bounding_box()
    assert box["width"] >= 200 and box["x"] >= 0 and box["x"] + box["width"] <= 360
    assert_fits(page)
    page.screenshot(path=str(shots / "family-parent-qr.png"), full_page=True)
    link = page.locator("a.join-link").get_attribute("href")

    child = child_phone
    child.goto(link)
    expect(child.get_by_text("请您做家人代办人")).to_be_visible()
    assert_fits(child)
    child.screenshot(path=str(shots / "family-child-confirm.png"), full_page=True)
    child.get_by_label(re.compile("您是张阿姨的什么人")).fill("儿子小张")
    child.get_by_role("button", name="确认，我来代办").click()
    expect(child.get_by_role("heading", name="家人（张阿姨）的工单")).to_be_visible()
    expect(child.get_by_text("楼道灯坏了，晚上看不见")).to_be_visible()
    assert_fits(child)
    child.screenshot(path=str(shots / "family-child-tickets.png"), full_page=True)
    child.get_by_role("link", name="为家人（张阿姨）报事").first.click()
    expect(child.get_by_role("heading", name="为家人（张阿姨）报事")).to_be_visible()
    child.get_by_label("请说说遇到了什么问题").fill("家里水管漏水了")
    child.screenshot(path=str(shots / "family-child-report.png"), full_page=True)
    child.get_by_role("button", name="提交").click()
    expect(child.get_by_text("这是家人（张阿姨）的工单")).to_be_visible()
    assert_fits(child)
    child.screenshot(path=str(shots / "family-child-ticket.png"), full_page=True)

    page.goto("/h5/yanchenglu/family")
    expect(page.get_by_text("儿子小张", exact=True)).to_be_visible()
    assert_fits(page)
    page.screenshot(path=str(shots / "family-parent-members.png"), full_page=True)
    page.get_by_role("button", name="取消儿子小张的代办").click()
    expect(page.get_by_text("已取消儿子小张的代办")).to_be_visible()
