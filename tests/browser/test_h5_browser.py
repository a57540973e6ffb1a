"""The residents' H5 pages on a 360-pixel phone: OAuth through the stub, a report with a photo, the ticket page."""
import io
import os
import re

import pytest
from PIL import Image

from tests.browser.conftest import missing_browser

if missing_browser() and os.environ.get("REQUIRE_BROWSER") != "1":
    pytest.skip(missing_browser(), allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402  (only importable where the browser tests run)

WIDTH = 360
TICKET_URL = re.compile(r"/h5/yanchenglu/tickets/\d{8}-\d{4}$")


@pytest.fixture(scope="module")
def h5_account(live):
    """盐城路社区's WeChat account in the live app (its OAuth goes to the stub the live app serves)."""
    from dispatch.wechat.accounts import add_account

    with live.app.app_context():
        add_account("yanchenglu", "盐城路社区", "wx1234567890abcdef", "yanchengluToken", "secret-yanchenglu",
                    community_code="yanchenglu", hotline="0532-83880001")
    return "yanchenglu"


@pytest.fixture
def phone(browser, live, h5_account):
    """A fresh phone-sized browser context (360×740, touch, zh-CN) for one resident."""
    context = browser.new_context(viewport={"width": WIDTH, "height": 740}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="zh-CN", base_url=live.url)
    context.add_cookies([{"name": "stub_openid", "value": "o_browser_resident", "url": live.url}])
    context.set_default_timeout(5000)
    page = context.new_page()
    yield page
    context.close()


def assert_fits(page):
    """Nothing on the page is wider than the phone's screen."""
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH


def test_report_a_problem_with_a_photo_on_a_small_phone(phone, live, tmp_path):
    page = phone
    page.goto("/h5/yanchenglu/report")  # no session: WeChat's (stub's) silent sign-in and straight back
    expect(page).to_have_url(re.compile(re.escape(live.url) + r"/h5/yanchenglu/report(#wechat_redirect)?$"))
    expect(page.get_by_role("heading", name="反映问题")).to_be_visible()
    assert_fits(page)
    assert float(page.evaluate("getComputedStyle(document.body).fontSize").removesuffix("px")) >= 18
    submit = page.get_by_role("button", name="提交")
    assert submit.bounding_box()["height"] >= 48

    photo = tmp_path / "corridor.jpg"
    out = io.BytesIO()
    Image.new("RGB", (1200, 900), (90, 90, 90)).save(out, "JPEG")
    photo.write_bytes(out.getvalue())

    page.locator(".tile", has_text="楼道及路灯").click()
    expect(page.locator("input[name=category][value=lighting]")).to_be_checked()
    page.get_by_label("请说说遇到了什么问题").fill("我单元3楼的走廊灯坏了，晚上看不见台阶")
    page.get_by_label("在什么地方？").fill("古田路16号3号楼2单元")
    page.locator("#photos").set_input_files(str(photo))
    page.get_by_label("联系电话").fill("13812345678")
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    submit.click()

    expect(page).to_have_url(TICKET_URL)
    expect(page.locator(".banner-success")).to_contain_text("提交成功")
    expect(page.locator(".facts")).to_contain_text("楼道及路灯")
    thumbnail = page.locator(".photos img").first
    expect(thumbnail).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle())
    expect(page.locator(".steps")).to_contain_text("您提交了诉求")
    expect(page.locator("a[href='tel:0532-83880001']")).to_be_visible()
    assert_fits(page)
    page.screenshot(path=str(tmp_path / "ticket.png"), full_page=True)

    page.get_by_role("link", name="我的工单", exact=True).click()
    expect(page.locator(".ticket-card")).to_have_count(1)
    expect(page.locator(".ticket-card")).to_contain_text("待受理")
    assert page.locator(".ticket-card").bounding_box()["height"] >= 48
    assert_fits(page)
