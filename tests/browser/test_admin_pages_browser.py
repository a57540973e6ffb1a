"""The district admin's notification and calendar pages in a real browser: the preview follows the drop-downs,
a click on the grid sets a day, the office-hours table filters as one types."""
import os

import pytest

from tests.browser.conftest import PASSWORD, missing_browser

if missing_browser() and os.environ.get("REQUIRE_BROWSER") != "1":
    pytest.skip(missing_browser(), allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402  (only importable where the browser tests run)


def log_in_as_admin(page):
    page.goto("/login")
    page.get_by_label("用户名").fill("admin")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_the_preview_shows_what_the_chosen_field_will_carry(page, live, tmp_path):
    log_in_as_admin(page)
    page.goto("/notify/")
    message = page.locator("details.message").first
    expect(message.locator(".wx-card")).to_be_hidden()
    message.locator("> summary").click()
    card = message.locator(".wx-card")
    expect(card.locator("[data-preview-field='1'] dd")).to_have_text("楼道及路灯")
    message.get_by_label("「工单类别」填入").select_option(label="社区")
    expect(card.locator("[data-preview-field='1'] dd")).to_have_text("盐城路社区")
    page.screenshot(path=str(tmp_path / "notify.png"), full_page=True)


def test_a_click_on_the_grid_sets_a_day_off_and_the_table_filters(page, live):
    log_in_as_admin(page)
    page.goto("/sla/calendar?year=2030")  # a year no other test's clocks reach
    editor = page.locator("#day-editor")
    expect(editor.locator("form")).to_be_hidden()
    page.locator("a[data-day='2030-01-01']").click()
    expect(editor.locator("[data-day-label]")).to_have_text("1月1日（周二）")
    editor.get_by_label("名称").fill("元旦")
    editor.get_by_role("button", name="保存").click()
    expect(page.get_by_role("alert").first).to_contain_text("2030-01-01（周二）设为放假：元旦")
    expect(page.locator("td.d-holiday.own a[data-day='2030-01-01']")).to_be_visible()
    page.get_by_label("查找社区").fill("福州")
    expect(page.locator("tr[data-community='fuzhoulu']")).to_be_visible()
    expect(page.locator("tr[data-community='yanchenglu']")).to_be_hidden()
