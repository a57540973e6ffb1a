"""A resident's WeChat voice in a real browser: Chromium plays the MP3 on the console (1366 px) and the desk (360 px)."""
import os
import shutil

import pytest
from sqlalchemy import select

from dispatch.audio import sample_amr
from dispatch.extensions import db
from dispatch.org.models import User
from dispatch.org.principal import SYSTEM, Principal
from dispatch.storage import storage
from dispatch.tickets import pipeline, store
from dispatch.tickets.models import Channel, Ticket
from tests.browser.conftest import missing_browser
from tests.browser.test_console import log_in

if missing_browser() and os.environ.get("REQUIRE_BROWSER") != "1":
    pytest.skip(missing_browser(), allow_module_level=True)
if not shutil.which("ffmpeg") and os.environ.get("REQUIRE_BROWSER") != "1":
    pytest.skip("ffmpeg is not installed (apt-get install ffmpeg)", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402  (only importable where the browser tests run)

CONSOLE = {"width": 1366, "height": 900}
PHONE = {"width": 360, "height": 780}
# Wait until the player has read the file, then play it for a moment: what Chromium decodes, staff hear.
PLAYS = """async audio => {
  if (audio.readyState < 1) await new Promise((ok, fail) => {
    audio.addEventListener('loadedmetadata', ok, {once: true}); audio.addEventListener('error', fail, {once: true}); });
  audio.muted = true;
  await audio.play();
  await new Promise(ok => setTimeout(ok, 600));
  audio.pause();
  return {type: audio.canPlayType('audio/mpeg'), duration: audio.duration, at: audio.currentTime,
          error: audio.error && audio.error.code};
}"""


def voice_ticket(live, dispatched=False):
    """A 3-second WeChat voice WeChat could not recognise, saved as the media job saves it (AMR only)."""
    with live.app.app_context():
        community = db.session.merge(live.org.c1)
        ticket = pipeline.open_ticket(SYSTEM, store.NewTicket(
            description="（居民发来语音留言，待工作人员收听）", community=community, channel=Channel.WECHAT_VOICE,
            columns={"description_pending": True, "needs_listening": True}))
        pipeline.act(SYSTEM, ticket, "voice_received", note="语音未能识别，待工作人员收听")
        ticket.voice_key = storage(live.app).save(sample_amr(3.0), "amr")
        pipeline.act(SYSTEM, ticket, "voice_saved", note="语音已保存，待工作人员收听")
        if dispatched:
            director = Principal.from_user(db.session.scalar(select(User).where(User.username == "director")))
            pipeline.act(director, ticket, "accept")
            pipeline.act(director, ticket, "dispatch", assignee="volunteer")
        return ticket.number


def ticket_named(live, number):
    with live.app.app_context():
        ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
        return ticket.description, ticket.needs_listening, ticket.category.code if ticket.category else None


def heard_on(open_browser, viewport, username, url):
    """Log in, open the page and play its voice: (the page, what the player reported)."""
    page = open_browser(viewport)
    log_in(page, username)
    page.goto(url)
    player = page.locator("audio[data-voice='player']")
    expect(player).to_be_visible()
    return page, player.evaluate(PLAYS)


def test_the_director_plays_the_voice_and_writes_down_what_was_said(open_browser, live, tmp_path):
    number = voice_ticket(live)
    page, heard = heard_on(open_browser, CONSOLE, "director", f"/tickets/{number}")
    assert heard["type"] and heard["error"] is None and 2.5 < heard["duration"] < 3.5 and heard["at"] > 0
    box = page.locator("[data-section='voice']").bounding_box()
    assert box["y"] < page.locator(".card-summary").bounding_box()["y"]  # the voice leads the page
    page.screenshot(path=str(tmp_path / "console-voice-1366.png"), full_page=True)

    form = page.locator("form[data-form='transcribe']")
    form.get_by_label("听写语音内容").fill("古田路16号5号楼1单元4楼楼道灯不亮")
    form.get_by_role("button", name="保存听写内容").click()
    expect(page.locator(".description")).to_have_text("古田路16号5号楼1单元4楼楼道灯不亮")
    expect(page.locator("form[data-form='transcribe']")).to_have_count(0)
    expect(page.locator("audio[data-voice='player']")).to_be_visible()
    page.screenshot(path=str(tmp_path / "console-voice-transcribed-1366.png"), full_page=True)
    description, waiting, category = ticket_named(live, number)
    assert description == "古田路16号5号楼1单元4楼楼道灯不亮" and not waiting and category == "lighting"


def test_the_volunteer_plays_the_voice_on_a_360_pixel_phone(open_browser, live, tmp_path):
    number = voice_ticket(live, dispatched=True)
    page, heard = heard_on(open_browser, PHONE, "volunteer", f"/desk/tasks/{number}")
    assert heard["error"] is None and heard["at"] > 0
    width = page.locator("audio[data-voice='player']").bounding_box()["width"]
    assert 250 < width <= 360
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # nothing wider than the phone
    page.screenshot(path=str(tmp_path / "desk-voice-360.png"), full_page=True)


def test_without_ffmpeg_the_page_says_why_and_offers_the_original(open_browser, live, tmp_path, monkeypatch):
    monkeypatch.setitem(live.app.config, "FFMPEG", "ffmpeg-not-installed-here")
    number = voice_ticket(live)
    page = open_browser(CONSOLE)
    log_in(page, "director")
    page.goto(f"/tickets/{number}")
    note = page.locator("[data-voice='unplayable']")
    expect(note).to_contain_text("语音无法在网页播放：服务器未安装 ffmpeg，可下载原始文件")
    expect(page.locator("audio")).to_have_count(0)
    with page.expect_download() as download:
        note.get_by_role("link", name="下载原始语音文件").click()
    assert download.value.suggested_filename.endswith(".amr")
    expect(page.locator("form[data-form='transcribe']")).to_be_visible()
    page.screenshot(path=str(tmp_path / "console-voice-no-ffmpeg-1366.png"), full_page=True)
