"""A street supervisor's browser on the monitor: overview, charts drawn locally, drill-down, a figure's tickets, export."""
import os
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from dispatch.extensions import db
from dispatch.monitor.refresh import run_refresh
from dispatch.org.models import Street
from dispatch.org.services import create_user
from dispatch.tickets.models import Ticket
from dispatch.timeutil import now
from tests.browser.conftest import missing_browser
from tests.browser.test_console import log_in
from tests.conftest import PASSWORD

if missing_browser() and os.environ.get("REQUIRE_BROWSER") != "1":
    pytest.skip(missing_browser(), allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402  (only importable where the browser tests run)


@pytest.fixture(scope="module")
def figures(live):
    """A supervisor of 湛山街道, three tickets (one resolved, one overdue), the facts refreshed."""
    resolved = live.make_ticket("3号楼走廊灯坏了", accepted=True)
    live.resolve(resolved)
    late = live.make_ticket("小区门口积水很深", accepted=True)
    live.make_ticket("楼道堆物")
    with live.app.app_context():
        street = db.session.scalar(select(Street).where(Street.code == "zhanshan"))
        create_user("supervisor", "street_supervisor", PASSWORD, "湛山督办", street=street)
        past = now() - timedelta(hours=2)
        db.session.execute(update(Ticket).where(Ticket.number == late).values(
            resolution_due_at=past, sla_deadline_at=past))
        db.session.commit()
        run_refresh(now())
    return {"resolved": resolved, "late": late}


def test_a_supervisor_finds_where_it_hurts(open_browser, live, figures):
    page = open_browser()
    outside = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(live.url) else None)
    log_in(page, "supervisor")
    page.get_by_role("link", name="统计分析").click()
    expect(page.get_by_role("heading", name="湛山街道 · 统计分析")).to_be_visible()
    ranking = page.locator("table.metrics").first
    expect(ranking.get_by_role("rowheader", name="盐城路社区")).to_be_visible()
    expect(page.locator("figure.chart.is-drawn")).to_have_count(4)  # ranking, weekly, monthly, volume
    expect(page.get_by_text("响应率 = 按时响应的工单 ÷ 有效工单")).to_be_visible()
    assert outside == []  # ECharts and everything else come from the app itself

    with page.expect_download() as download:
        page.locator("table.metrics caption").first.get_by_role("link", name="CSV").click()
    text = open(download.value.path(), encoding="utf-8-sig").read()
    assert "盐城路社区" in text and "响应率（%）" in text

    page.get_by_role("link", name="盐城路社区").first.click()
    expect(page.get_by_role("heading", name="盐城路社区 · 统计分析")).to_be_visible()
    expect(page.get_by_role("heading", name="盐城路社区 按类别统计")).to_be_visible()
    page.locator("a.kpi", has_text="解决率").click()
    expect(page.get_by_role("heading", name="盐城路社区 已解决：1 件")).to_be_visible()
    expect(page.get_by_role("link", name=figures["resolved"])).to_be_visible()

    page.go_back()
    page.locator("#overdue-title ~ div").get_by_role("link", name=figures["late"]).click()
    expect(page).to_have_url(f"{live.url}/tickets/{figures['late']}")


def test_a_supervisor_cannot_look_at_another_street(open_browser, live, figures):
    page = open_browser()
    log_in(page, "supervisor")
    with live.app.app_context():
        other = Street(code="zhuhailu", name="珠海路街道", district_id=db.session.scalar(select(Street)).district_id)
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    response = page.goto(f"/monitor/streets/{other_id}")
    assert response.status == 404


def overflowing(page):
    """Tables (or their scroll boxes) wider than they are shown: a column cut off at this width."""
    return page.evaluate("""Array.from(document.querySelectorAll('.table-wrap, table'))
        .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)
        .map(e => e.className + ' ' + e.scrollWidth + '>' + e.clientWidth)""")


def test_a_supervisor_lands_on_today_and_every_monitor_page_fits_a_laptop(open_browser, live, figures):
    page = open_browser({"width": 1366, "height": 768})
    log_in(page, "supervisor")
    expect(page).to_have_url(f"{live.url}/monitor/today")
    expect(page.get_by_role("heading", name="今日待办 · 湛山街道")).to_be_visible()
    overdue = page.locator("table[data-list=overdue]")
    expect(overdue.get_by_role("link", name=figures["late"])).to_be_visible()
    expect(overdue).to_contain_text("已超时 2 小时")
    for path in ("/monitor/today", "/monitor/", "/monitor/table", "/monitor/overdue", "/monitor/tickets"):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 1366, path
        assert overflowing(page) == [], path
    page.goto("/monitor/")
    expect(page.locator("select[name=period]")).to_have_value("30d")
