"""The residents' H5 pages on a 360-pixel phone: OAuth via the stub, a report with a photo, the ticket, rating."""
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


def phone_context(browser, live, openid="o_browser_resident"):
    """A fresh phone-sized browser context (360×740, touch, zh-CN) for one resident (the stub's openid)."""
    context = browser.new_context(viewport={"width": WIDTH, "height": 740}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="zh-CN", base_url=live.url)
    context.add_cookies([{"name": "stub_openid", "value": openid, "url": live.url}])
    context.set_default_timeout(5000)
    return context


@pytest.fixture
def phone(browser, live, h5_account):
    """One resident's phone."""
    context = phone_context(browser, live)
    yield context.new_page()
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
    expect(page.locator(".steps")).to_contain_text("您反映了问题")
    expect(page.locator("a[href='tel:0532-83880001']")).to_be_visible()
    assert_fits(page)
    page.screenshot(path=str(tmp_path / "ticket.png"), full_page=True)

    page.get_by_role("link", name="我的工单", exact=True).click()
    expect(page.locator(".ticket-card")).to_have_count(1)
    expect(page.locator(".ticket-card")).to_contain_text("已收到")
    assert page.locator(".ticket-card").bounding_box()["height"] >= 48
    assert_fits(page)


def _reported(page, description):
    """Report a problem from the phone and return the ticket's number."""
    page.goto("/h5/yanchenglu/report")
    page.get_by_label("请说说遇到了什么问题").fill(description)
    page.get_by_role("button", name="提交").click()
    expect(page).to_have_url(TICKET_URL)
    return page.url.rsplit("/", 1)[-1]


def test_the_redo_choice_appears_when_unsatisfied_is_picked(phone, live):
    page = phone
    number = _reported(page, "5号楼楼道灯又坏了")
    live.resolve(number)
    page.reload()
    redo = page.locator("#redo")
    expect(redo).to_be_hidden()
    page.locator(".choice", has_text="不满意").click()
    expect(redo).to_be_visible()
    expect(page.locator("input[name=redo][value='1']")).to_be_checked()
    assert redo.locator(".choice").first.bounding_box()["height"] >= 48
    assert_fits(page)
    page.locator(".choice", has_text="基本满意").click()
    expect(redo).to_be_hidden()
    page.locator(".choice", has_text="不满意").click()
    page.locator(".choice", has_text="不用重新办理，只提意见").click()
    page.get_by_role("button", name="提交评价").click()
    expect(page.locator(".banner-success")).to_contain_text("不再重新办理")
    expect(page.locator(".status-line")).to_contain_text("已完成")


def test_without_javascript_the_redo_choice_is_shown_and_works(browser, live, h5_account):
    context = browser.new_context(viewport={"width": WIDTH, "height": 740}, java_script_enabled=False,
                                  locale="zh-CN", base_url=live.url)
    context.add_cookies([{"name": "stub_openid", "value": "o_browser_no_js", "url": live.url}])
    context.set_default_timeout(5000)
    page = context.new_page()
    try:
        number = _reported(page, "7号楼门口垃圾没人清")
        live.resolve(number)
        page.reload()
        expect(page.locator("#redo")).to_be_visible()
        page.locator(".choice", has_text="不满意").click()
        page.get_by_role("button", name="提交评价").click()
        expect(page.locator(".banner-success")).to_contain_text("我们会重新办理")
        expect(page.locator(".status-line")).to_contain_text("重新办理中")
    finally:
        context.close()
