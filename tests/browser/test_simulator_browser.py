"""The demo's WeChat simulator in Chromium: play two residents in one browser, and each reply's link opens that
resident's own ticket (the stub's sign-in answers as the resident being played)."""
import os

import pytest

from tests.browser.conftest import missing_browser

if missing_browser() and os.environ.get("REQUIRE_BROWSER") != "1":
    pytest.skip(missing_browser(), allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402  (only importable where the browser tests run)

from tests.browser.test_h5_browser import h5_account  # noqa: E402,F401  (盐城路社区's account in the live app)


def _play(page, openid, note):
    """Switch the simulator to this resident, send a note; the ticket number in the reply."""
    page.goto("/dev/wechat?account=yanchenglu")
    page.fill("input[name=openid]", openid)
    page.click("button:has-text('切换')")
    page.fill("textarea[name=content]", note)
    page.click("button:has-text('发送')")
    reply = page.locator(".chat-reply").last
    expect(reply).to_contain_text("工单号")
    return reply.locator("text=查看办理进度")


@pytest.mark.parametrize("width", [360, 1366])
def test_two_residents_in_one_browser_each_link_opens_their_own_ticket(open_browser, live, h5_account, width,
                                                                        tmp_path):
    page = open_browser({"width": width, "height": 800})
    zhang = _play(page, "o_sim_zhang", "南京路8号楼下井盖丢了")
    zhang_href = zhang.get_attribute("href")
    li = _play(page, "o_sim_li", "湛山路3号楼道灯不亮了")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=str(tmp_path / f"simulator-{width}.png"), full_page=True)
    li_href = li.get_attribute("href")
    assert li_href.startswith(live.url + "/h5/yanchenglu/tickets/") and li_href != zhang_href
    li.click()  # 李's link: through the stub's OAuth, signed in as 李
    expect(page.locator("h1, h2").filter(has_text=li_href.rsplit("/", 1)[1]).first).to_be_visible()
    expect(page.get_by_text("楼道灯不亮了").first).to_be_visible()
    page.goto("/dev/wechat?account=yanchenglu&openid=o_sim_zhang")  # switch back to 张
    page.locator(".chat-reply").last.locator("text=查看办理进度").click()
    expect(page.get_by_text("井盖丢了").first).to_be_visible()
    assert page.url.split("#")[0] == zhang_href
