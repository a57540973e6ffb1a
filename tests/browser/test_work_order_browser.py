"""The director on a volunteer's ticket (代为办结 in the browser) and the printed work order (派工单), at 1366 px."""
import os
import re

import pytest
from sqlalchemy import select

from tests.browser.conftest import missing_browser
from tests.browser.test_console import log_in

if missing_browser() and os.environ.get("REQUIRE_BROWSER") != "1":
    pytest.skip(missing_browser(), allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402  (only importable where the browser tests run)

from dispatch.extensions import db  # noqa: E402
from dispatch.tickets import pipeline  # noqa: E402
from dispatch.tickets.models import Ticket  # noqa: E402


def dispatched_to_the_volunteer(live, description):
    number = live.make_ticket(description, accepted=True, address="盐城路6号3号楼2单元",
                              resident_phone="13812341234", resident_name="张阿姨")
    with live.app.app_context():
        ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
        pipeline.act(live.org.admin, ticket, "dispatch", assignee="volunteer")
    return number


def test_the_director_resolves_a_volunteers_ticket_on_their_behalf(page, live):
    number = dispatched_to_the_volunteer(live, "3号楼2单元楼道灯不亮")
    log_in(page, "director")
    page.goto(f"/tickets/{number}")
    box = page.locator(".card-actions")
    expect(box).to_contain_text("这张工单现由李师傅承办")
    expect(box.get_by_role("button", name="签收")).to_have_count(0)
    expect(box.locator("button.primary")).to_have_count(0)
    box.locator("details[data-action='resolve_for_holder'] summary").click()
    box.get_by_label("代为办结的原因和办理结果（必填）").fill("李师傅已修好，手机没电未能点办结")
    box.get_by_role("button", name="代为办结").click()
    expect(page.locator(".head-badges")).to_contain_text("已办结")
    expect(page.locator("[data-on-behalf]")).to_contain_text("盐城路主任（社区主任）代为办结（代 365服务队志愿者李师傅）")


def test_the_work_order_prints_on_one_a4_page(page, live, tmp_path):
    number = dispatched_to_the_volunteer(live, "楼下水管漏水，地面都是水")
    log_in(page, "director")
    page.goto(f"/tickets/{number}")
    with page.expect_popup() as opened:
        page.get_by_role("link", name="打印派工单").click()
    sheet = opened.value
    expect(sheet.locator("[data-work-order]")).to_contain_text(number)
    expect(sheet.locator("[data-qr] svg")).to_be_visible()
    for text in ("张阿姨", "13812341234", "盐城路6号3号楼2单元", "承办人签字", "居民签字", "日期"):
        expect(sheet.locator("[data-work-order]")).to_contain_text(text)
    sheet.emulate_media(media="print")
    expect(sheet.locator("[data-toolbar]")).to_be_hidden()
    pdf = sheet.pdf(prefer_css_page_size=True, print_background=True)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1  # one sheet
    box = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert abs(float(box.group(1)) - 595) < 2 and abs(float(box.group(2)) - 842) < 2  # A4 in points
