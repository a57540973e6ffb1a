"""The district account's report form on a 360-pixel phone: the words kept from the chat, a short list of
communities, a search by road or 小区 name, and the ticket opened with those words in the community picked."""
import os
import re
from datetime import datetime, timezone

import pytest

from tests.browser.conftest import missing_browser
from tests.browser.test_h5_browser import WIDTH, assert_fits, phone_context

if missing_browser() and os.environ.get("REQUIRE_BROWSER") != "1":
    pytest.skip(missing_browser(), allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402  (only importable where the browser tests run)

OPENID = "o_browser_district"
SHOTS = os.environ.get("SCREENSHOT_DIR")


@pytest.fixture(scope="module")
def district(live):
    """The district's account, two roads in the gazetteer, and a resident whose note waits for a community."""
    from dispatch.extensions import db
    from dispatch.intake.models import PlaceName
    from dispatch.org.models import Resident
    from dispatch.wechat.accounts import add_account

    with live.app.app_context():
        add_account("shinan", "市南区", "wxabcdefabcdef1234", "districtToken", "secret-district")
        db.session.add_all([
            PlaceName(community_id=live.org.c1.id, name="湛山路", first=1, last=49, parity="all"),
            PlaceName(community_id=live.org.c2.id, name="湛山路", first=50, parity="all"),
            PlaceName(community_id=live.org.c2.id, name="古田新村", parity="all"),
            Resident(account_code="shinan", openid=OPENID, pending_note="湛山路上的路灯坏了好几天了，晚上看不见路",
                     pending_note_at=datetime.now(timezone.utc))])
        db.session.commit()
    return "shinan"


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def test_the_form_carries_the_words_over_offers_a_short_list_and_finds_by_estate(browser, live, district):
    context = phone_context(browser, live, openid=OPENID)
    page = context.new_page()
    try:
        page.goto("/h5/shinan/report")
        description = page.locator("#description")
        expect(description).to_have_value("湛山路上的路灯坏了好几天了，晚上看不见路")
        choices = page.locator("[data-community-picker] .choice")
        expect(choices).to_have_count(2)
        expect(page.locator("#community")).to_have_count(0)  # no long drop-down first
        assert_fits(page)
        _shot(page, "district-form-short-list")

        description.fill("湛山路上的路灯坏了好几天了，晚上看不见路。在小区门口")
        page.locator("#find").fill("古田新村")
        page.get_by_role("button", name="查找").click()
        expect(page.get_by_text("按“古田新村”找到：")).to_be_visible()
        expect(page.locator("#description")).to_have_value("湛山路上的路灯坏了好几天了，晚上看不见路。在小区门口")
        expect(page.locator('input[name="community"][value="fuzhoulu"]')).to_be_checked()
        assert_fits(page)
        _shot(page, "district-form-found")

        page.get_by_role("button", name="提交").click()
        expect(page).to_have_url(re.compile(r"/h5/shinan/tickets/\d{8}-\d{4}$"))
        expect(page.get_by_text("提交成功")).to_be_visible()
        expect(page.get_by_text("湛山路上的路灯坏了好几天了，晚上看不见路。在小区门口")).to_be_visible()
        assert_fits(page)
        _shot(page, "district-ticket")
    finally:
        context.close()


def test_a_search_that_finds_nothing_says_so_and_offers_every_community(browser, live, district):
    context = phone_context(browser, live, openid="o_browser_district_2")
    page = context.new_page()
    try:
        page.goto("/h5/shinan/report")
        page.locator("#find").fill("火星路")
        page.get_by_role("button", name="查找").click()
        expect(page.get_by_text("没有找到“火星路”")).to_be_visible()
        expect(page.locator("#community")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
        _shot(page, "district-form-not-found")
    finally:
        context.close()


def test_the_admin_keeps_the_gazetteer_in_the_console(page, live, district):
    from tests.browser.conftest import PASSWORD
    page.goto("/login")
    page.get_by_label("用户名").fill("admin")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.goto("/teams/places")
    form = page.locator("form[data-form='add-place']")
    form.locator("select[name='community']").select_option("yanchenglu")
    form.get_by_label("路名或小区名").fill("湛山路")
    form.get_by_label("起始门牌号").fill("40")
    form.get_by_label("结束门牌号").fill("60")
    form.get_by_role("button", name="添加").click()
    expect(page.get_by_text("湛山路的这段门牌已划给福州路社区")).to_be_visible()
    expect(form.get_by_label("路名或小区名")).to_have_value("湛山路")
    _shot(page, "admin-places-refused")
    form.get_by_label("起始门牌号").fill("")
    form.get_by_label("结束门牌号").fill("")
    form.get_by_label("路名或小区名").fill("盐城路")
    form.get_by_role("button", name="添加").click()
    expect(page.get_by_text("已把「盐城路 全部门牌」加入盐城路社区")).to_be_visible()
    _shot(page, "admin-places")
    page.locator("tr", has_text="盐城路").filter(has_text="全部门牌").get_by_role("button", name="删除").click()
    expect(page.get_by_text("已从盐城路社区删除「盐城路 全部门牌」")).to_be_visible()
