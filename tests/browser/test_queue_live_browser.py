"""The queue at 1366 px in a real browser: one line per ticket, and a ticket opened after the page loaded announced
by the live poll (a banner, and for 紧急 a beep and a flashing title) without a reload."""
import os

import pytest

from tests.browser.conftest import missing_browser
from tests.browser.test_console import log_in

if missing_browser() and os.environ.get("REQUIRE_BROWSER") != "1":
    pytest.skip(missing_browser(), allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

from dispatch.tickets.models import Priority  # noqa: E402

SCREEN = {"width": 1366, "height": 768}


def test_a_new_urgent_ticket_raises_the_banner_a_beep_and_the_title(open_browser, live, tmp_path):
    live.make_ticket("3号楼2单元楼道灯不亮，晚上看不见台阶")
    page = open_browser(SCREEN)
    log_in(page, "director")
    rows = page.locator("table.tickets tbody tr")
    expect(rows.first).to_be_visible()
    heights = rows.evaluate_all("rows => rows.map(r => r.getBoundingClientRect().height)")
    assert max(heights) < 34, heights  # one line each
    banner = page.locator("#live-banner")
    page.evaluate("window.dispatchQueue.poll()")
    expect(banner).to_be_hidden()  # nothing new yet

    number = live.make_ticket("我母亲在家摔倒了起不来，快来人", priority=Priority.URGENT)
    page.evaluate("window.dispatchQueue.poll()")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("1 条新工单，点击查看")
    expect(banner).to_have_class("live-banner is-urgent")
    assert page.evaluate("window.dispatchQueue.beeps") == 1
    page.wait_for_function("document.title.indexOf('紧急工单') >= 0")
    page.screenshot(path=str(tmp_path / "banner.png"))

    page.evaluate("window.dispatchQueue.poll()")  # the same news again: no second beep
    assert page.evaluate("window.dispatchQueue.beeps") == 1
    banner.get_by_role("button").click()
    expect(rows.first).to_have_attribute("data-number", number)  # 紧急 first
    expect(banner).to_be_hidden()
