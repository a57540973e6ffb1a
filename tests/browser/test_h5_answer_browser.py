"""Answering staff's question on the H5 ticket page, on a 360-pixel phone."""
import io
import os
import re

import pytest
from PIL import Image
from sqlalchemy import select

from tests.browser.conftest import missing_browser

if missing_browser() and os.environ.get("REQUIRE_BROWSER") != "1":
    pytest.skip(missing_browser(), allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402  (only importable where the browser tests run)

from tests.browser.test_h5_browser import TICKET_URL, assert_fits, h5_account, phone  # noqa: E402,F401

QUESTION = "请问是哪栋楼哪个单元的灯不亮？"
SHOTS = os.environ.get("SCREENSHOT_DIR")


def ask(live, number):
    """The community accepts the ticket and asks the resident a question (as the console would)."""
    from dispatch.extensions import db
    from dispatch.tickets import pipeline
    from dispatch.tickets.models import Ticket

    with live.app.app_context():
        ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
        pipeline.act(live.org.admin, ticket, "accept")
        pipeline.act(live.org.admin, ticket, "wait_for_resident", note=QUESTION)


def shot(page, tmp_path, name):
    page.screenshot(path=os.path.join(SHOTS or str(tmp_path), f"{name}.png"), full_page=True)


def test_answer_the_question_with_words_and_a_photo(phone, live, tmp_path):
    page = phone
    page.goto("/h5/yanchenglu/report")
    page.get_by_label("请说说遇到了什么问题").fill("古田路16号的楼道灯不亮")
    page.get_by_role("button", name="提交").click()
    expect(page).to_have_url(TICKET_URL)
    number = page.url.rsplit("/", 1)[-1]
    ask(live, number)

    page.reload()
    card = page.locator("#answer")
    expect(card).to_contain_text("工作人员想请您补充情况")
    expect(card).to_contain_text(QUESTION)
    assert_fits(page)
    shot(page, tmp_path, "answer-form")

    not_photo = tmp_path / "note.jpg"
    not_photo.write_bytes(b"this is not a photo")
    page.get_by_label("您的回答").fill("是古田路16号5号楼1单元4楼的灯")
    page.locator("#answer-photos").set_input_files(str(not_photo))
    page.get_by_role("button", name="提交补充").click()
    expect(page.locator("#answer")).to_contain_text("没能收下")
    expect(page.get_by_label("您的回答")).to_have_value("是古田路16号5号楼1单元4楼的灯")
    assert_fits(page)
    shot(page, tmp_path, "answer-refused")

    photo = tmp_path / "lamp.jpg"
    out = io.BytesIO()
    Image.new("RGB", (1200, 900), (90, 90, 90)).save(out, "JPEG")
    photo.write_bytes(out.getvalue())
    page.locator("#answer-photos").set_input_files(str(photo))
    page.get_by_role("button", name="提交补充").click()
    expect(page).to_have_url(re.compile(re.escape(live.url) + rf"/h5/yanchenglu/tickets/{number}$"))
    expect(page.locator(".banner-success")).to_contain_text("我们继续为您办理")
    expect(page.locator(".steps")).to_contain_text("您补充了情况，继续办理")
    expect(page.locator(".steps")).to_contain_text("是古田路16号5号楼1单元4楼的灯")
    expect(page.locator("#answer")).to_have_count(0)
    expect(page.locator(".photos img")).to_have_count(1)
    assert_fits(page)
    shot(page, tmp_path, "answered")
