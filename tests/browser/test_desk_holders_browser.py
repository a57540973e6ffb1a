"""A volunteer's phone at 360 x 740: the urgent task says so, the resident's number is one tap away while the task
is theirs, and declining lands back on the list with a message."""
import os

import pytest
from sqlalchemy import select

from tests.browser.conftest import missing_browser
from tests.browser.test_console import log_in

if missing_browser() and os.environ.get("REQUIRE_BROWSER") != "1":
    pytest.skip(missing_browser(), allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402  (only importable where the browser tests run)

from dispatch.extensions import db  # noqa: E402
from dispatch.tickets import pipeline  # noqa: E402
from dispatch.tickets.models import Priority, Ticket  # noqa: E402

SMALL_PHONE = {"width": 360, "height": 740}


def dispatched_to_volunteer(live, description, **overrides):
    number = live.make_ticket(description, accepted=True, address="古田路16号3号楼", **overrides)
    with live.app.app_context():
        ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
        pipeline.act(live.org.admin, ticket, "dispatch", assignee="volunteer", note="请先打电话",
                     confirm=True)  # whatever the volunteer's standing: this walk is about the desk
    return number


def test_the_urgent_task_shows_and_the_resident_is_one_tap_away_until_declined(open_browser, live, tmp_path):
    number = dispatched_to_volunteer(live, "我母亲在家摔倒了起不来", priority=Priority.URGENT,
                                     resident_phone="13912345678")
    page = open_browser(SMALL_PHONE)
    log_in(page, "volunteer")
    card = page.locator(f"[data-task='{number}']")
    expect(card.locator("[data-urgency='urgent']")).to_have_text("⚠ 紧急")
    card.click()
    call = page.locator("[data-call]")
    expect(call).to_be_in_viewport()  # above the fold, not under the facts
    expect(call).to_have_attribute("href", "tel:13912345678")
    assert page.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"]
    page.screenshot(path=str(tmp_path / "task.png"))

    page.get_by_text("谢绝这项任务…").click()
    page.get_by_label("谢绝的原因（必填）").fill("我在外地，赶不回去")
    page.get_by_role("button", name="确认谢绝").click()
    expect(page.get_by_role("heading", name="我的任务")).to_be_visible()
    expect(page.locator(".banner-success")).to_contain_text("已谢绝这项任务")
    page.locator(f"[data-past='{number}']").click()
    expect(page.locator("body")).to_contain_text("这项任务已结束：已谢绝")
    expect(page.locator("[data-phone]")).to_have_text("139****5678")
    expect(page.locator("[data-call]")).to_have_count(0)
