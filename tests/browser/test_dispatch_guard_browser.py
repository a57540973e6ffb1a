"""The dispatch guard in a real browser at 1366 px: with nobody skilled, the closest volunteers under a warning;
picking one asks first and says why; confirming sends it and the timeline says so."""
import os

import pytest
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.teams.models import Volunteer
from tests.browser.conftest import missing_browser
from tests.browser.test_console import log_in

if missing_browser() and os.environ.get("REQUIRE_BROWSER") != "1":
    pytest.skip(missing_browser(), allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402  (only importable where the browser tests run)


@pytest.fixture
def barber(live):
    """李师傅 cuts hair only for this test: nobody in 盐城路社区 can mend a corridor light."""
    with live.app.app_context():
        profile = db.session.scalar(select(Volunteer))
        kept, profile.skills = profile.skills, ["haircut"]
        db.session.commit()
    yield
    with live.app.app_context():
        db.session.scalar(select(Volunteer)).skills = kept
        db.session.commit()


def test_nobody_skilled_closest_offered_confirmed_and_recorded(page, live, barber, tmp_path):
    number = live.make_ticket("3号楼2单元楼道灯坏了", category_code="lighting")
    log_in(page, "director")
    page.goto(f"/tickets/{number}/dispatch")
    expect(page.locator("[data-no-skill]")).to_contain_text("没有志愿者有「电工维修」技能，以下是最接近的人选")
    row = page.locator("[data-volunteer='volunteer']")
    expect(row).to_contain_text("在岗")
    expect(row).to_contain_text("缺「电工维修」")
    page.screenshot(path=str(tmp_path / "closest.png"), full_page=True)
    row.get_by_role("button").click()
    box = page.locator("[data-confirm]")
    expect(box).to_contain_text("李师傅 没有「电工维修」技能。仍要派给李师傅吗？")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366  # fits a laptop
    page.screenshot(path=str(tmp_path / "confirm.png"), full_page=True)
    box.get_by_role("button", name="仍然派给李师傅").click()
    expect(page.locator(".head-badges")).to_contain_text("已派单")
    expect(page.locator("[data-despite]")).to_contain_text("提醒后仍派出：没有「电工维修」技能")
