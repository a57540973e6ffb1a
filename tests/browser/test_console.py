"""The console in a real browser: log in, filter the queue, accept and dispatch, take a call, log out."""
import os
import re

import pytest

from tests.browser.conftest import PASSWORD, missing_browser

if missing_browser() and os.environ.get("REQUIRE_BROWSER") != "1":
    pytest.skip(missing_browser(), allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402  (only importable where the browser tests run)

TICKET_URL = re.compile(r"/tickets/\d{8}-\d{4}$")


def log_in(page, username, password=PASSWORD):
    """Fill the login form and submit it."""
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def test_login_shows_the_queue_and_a_wrong_password_says_so(page, live, tmp_path):
    live.make_ticket("盐城路5号楼道灯不亮，晚上看不见台阶")
    live.make_ticket("水管爆了，家里淹了", priority=None)
    log_in(page, "staff", "wrong-password")
    expect(page.get_by_role("alert")).to_contain_text("用户名或密码不正确")
    log_in(page, "staff")
    expect(page).to_have_url(live.url + "/")
    expect(page.get_by_role("heading", name="工单队列")).to_be_visible()
    expect(page.locator("table.tickets")).to_contain_text("盐城路5号楼道灯不亮")
    expect(page.locator(".prio-urgent").first).to_have_text(re.compile("紧急"))
    page.screenshot(path=str(tmp_path / "queue.png"), full_page=True)


def test_filter_the_queue_by_status(page, live):
    live.make_ticket("已受理：3号楼门口垃圾堆积", accepted=True)
    live.make_ticket("待受理：2单元单元门坏了")
    log_in(page, "director")
    page.get_by_label("状态").select_option("accepted")
    page.get_by_role("button", name="查找").click()
    expect(page).to_have_url(re.compile(r"status=accepted"))
    rows = page.locator("table.tickets tbody tr")
    expect(rows.filter(has_text="3号楼门口垃圾堆积")).to_have_count(1)
    expect(rows.filter(has_text="2单元单元门坏了")).to_have_count(0)
    expect(page.get_by_label("状态")).to_have_value("accepted")


def test_accept_and_dispatch_to_a_volunteer(page, live):
    number = live.make_ticket("6号楼3单元暖气不热，老人在家")
    log_in(page, "director")
    page.get_by_role("link", name=number).click()
    expect(page.get_by_role("heading", name=f"工单 {number}")).to_be_visible()
    page.locator("form[data-action='accept']").get_by_role("button", name="受理").click()
    expect(page.locator(".flash-success")).to_contain_text("已执行「受理」")
    dispatch = page.locator("form[data-action='dispatch']")
    expect(dispatch.locator("option[value='assignee:volunteer']")).to_contain_text("李师傅 · 在岗 · 在办")
    dispatch.get_by_label("派给").select_option(value="assignee:volunteer")
    dispatch.get_by_role("button", name="派单").click()
    expect(page.locator(".flash-success")).to_contain_text("工单当前状态：已派单")
    expect(page.locator(".head-badges")).to_contain_text("已派单")
    expect(page.locator(".timeline")).to_contain_text("派给志愿者：李师傅")
    expect(page.locator(".facts")).to_contain_text("李师傅")


def test_take_a_phone_call_with_the_suggested_category(page, live, tmp_path):
    log_in(page, "staff")
    page.get_by_role("link", name="电话受理").click()
    page.get_by_label("来电号码").fill("13812345678")
    page.get_by_label("来电人姓名").fill("张阿姨")
    page.get_by_label("诉求内容").press_sequentially("厨房水管爆了，地上全是水")
    suggestion = page.locator("#suggestion")
    expect(suggestion).to_be_visible()
    expect(suggestion).to_contain_text("建议分类：水电维修 · 紧急")
    suggestion.get_by_role("button", name="采用").click()
    expect(page.locator("#category")).to_have_value("water_power")
    expect(page.locator("#priority")).to_have_value("urgent")
    page.screenshot(path=str(tmp_path / "phone.png"), full_page=True)
    page.get_by_role("button", name="登记为工单").click()
    expect(page).to_have_url(TICKET_URL)
    expect(page.locator(".flash-success")).to_contain_text("已创建工单")
    expect(page.locator(".facts")).to_contain_text("13812345678")
    expect(page.locator(".facts")).to_contain_text("一键拨号")


def test_phone_form_errors_are_shown_beside_the_fields(page, live):
    log_in(page, "staff")
    page.goto("/phone")
    page.get_by_label("来电号码").fill("abc")
    page.get_by_role("button", name="登记为工单").click()
    expect(page.locator("#caller_phone-error")).to_contain_text("号码应为 5–20 位数字")
    expect(page.locator("#description-error")).to_contain_text("请填写诉求内容")
    expect(page.get_by_label("来电号码")).to_have_value("abc")


def test_record_an_unsatisfied_call_back_then_redo(page, live, tmp_path):
    number = live.make_ticket("8号楼楼道灯不亮", accepted=True)
    live.resolve(number)
    log_in(page, "director")
    page.goto(f"/tickets/{number}")
    form = page.locator("form[data-form='callback']")
    form.get_by_label("已接通").check()
    form.get_by_label("不满意").check()
    form.get_by_label("回访情况").fill("居民说晚上又不亮了")
    page.screenshot(path=str(tmp_path / "callback.png"), full_page=True)
    form.get_by_role("button", name="记录回访").click()
    expect(page.locator(".flash-success")).to_contain_text("已记录回访：居民不满意")
    expect(page.locator(".timeline")).to_contain_text("已接通 · 居民不满意")
    page.locator("details[data-action='reopen'] summary").click()
    page.locator("form[data-action='reopen'] textarea").fill("回访不满意，重新派人查线路")
    page.locator("form[data-action='reopen']").get_by_role("button", name="重办").click()
    expect(page.locator(".flash-success")).to_contain_text("工单当前状态：重办")


def test_log_out(page, live):
    log_in(page, "staff")
    page.get_by_role("button", name="退出").click()
    expect(page.get_by_role("alert")).to_contain_text("已退出登录")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))
