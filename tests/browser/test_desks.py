"""Three people in three browsers on the same tickets: the director's console, a volunteer's phone, a department."""
import os
from io import BytesIO

import pytest
from PIL import Image

from tests.browser.conftest import PHONE, missing_browser
from tests.browser.test_console import log_in

if missing_browser() and os.environ.get("REQUIRE_BROWSER") != "1":
    pytest.skip(missing_browser(), allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402  (only importable where the browser tests run)


@pytest.fixture
def after_photo(tmp_path):
    """A small JPEG on disk, as a phone's camera would hand it to the file input."""
    path = tmp_path / "after.jpg"
    buffer = BytesIO()
    Image.new("RGB", (64, 48), (200, 180, 40)).save(buffer, "JPEG")
    path.write_bytes(buffer.getvalue())
    return path


@pytest.fixture
def director(open_browser):
    page = open_browser()
    log_in(page, "director")
    return page


@pytest.fixture
def volunteer(open_browser):
    page = open_browser(PHONE)
    log_in(page, "volunteer")
    expect(page.get_by_role("heading", name="我的任务")).to_be_visible()
    return page


@pytest.fixture
def department(open_browser):
    page = open_browser()
    log_in(page, "dept")
    expect(page.get_by_role("heading", name="转办工单")).to_be_visible()
    return page


def status_of(page):
    return page.locator(".head-badges .status, [data-status]").first


def accept_and_open_suggestions(director, number):
    """The director opens the ticket, accepts it and goes to the ranked suggestions."""
    director.goto(f"/tickets/{number}")
    director.locator("form[data-action='accept']").get_by_role("button", name="受理").click()
    director.locator("[data-link='suggestions']").click()
    expect(director.get_by_role("heading", name=f"派单 {number}")).to_be_visible()


def test_a_volunteer_finishes_what_the_director_sent_and_the_director_sees_it(
        director, volunteer, after_photo, live):
    number = live.make_ticket("3号楼2单元走廊灯坏了，晚上看不见", category_code="lighting", address="古田路16号3号楼")
    accept_and_open_suggestions(director, number)
    first = director.locator("[data-suggestions] li").first
    expect(first).to_have_attribute("data-volunteer", "volunteer")
    expect(first.locator("[data-skill='yes']")).to_contain_text("有「电工维修」")  # the standing, as badges
    expect(first.locator("[data-standing]")).to_have_text("在岗")
    director.get_by_label("给承办人的说明").fill("请带梯子，居民下午在家")
    first.get_by_role("button", name="派给李师傅").click()
    expect(director.locator(".flash-success")).to_contain_text("已派给李师傅")

    volunteer.reload()
    volunteer.locator(f"[data-task='{number}']").click()
    expect(volunteer.locator("[data-director-note]")).to_contain_text("请带梯子")
    volunteer.get_by_role("button", name="签收").click()
    expect(volunteer.locator("[data-status]")).to_have_text("已签收")
    volunteer.get_by_role("button", name="开始办理").click()
    expect(volunteer.locator("[data-status]")).to_have_text("办理中")
    volunteer.get_by_label("办好后的现场照片（必须）").set_input_files(str(after_photo))
    volunteer.get_by_label("办理结果（必填）").fill("已更换走廊灯泡，居民确认可以用了")
    volunteer.get_by_role("button", name="完成").click()
    expect(volunteer.locator("[data-status]")).to_have_text("已办结")

    director.goto(f"/tickets/{number}")
    expect(director.locator(".head-badges")).to_contain_text("已办结")
    expect(director.locator("body")).to_contain_text("已更换走廊灯泡")


def test_a_department_returns_a_forwarded_ticket_then_resolves_it_when_sent_again(director, department, live):
    number = live.make_ticket("小区水表井漏水，路面结冰", category_code="water_power", address="古田路16号")
    accept_and_open_suggestions(director, number)
    director.get_by_label("给承办人的说明").fill("请核查水表井")
    director.locator("[data-department='water']").get_by_role("button", name="转办").click()
    expect(director.locator(".flash-success")).to_contain_text("市南供水服务中心")

    department.goto("/desk/")
    card = department.locator(f"[data-ticket='{number}']")
    expect(card.locator("[data-director-note]")).to_contain_text("请核查水表井")
    card.get_by_role("button", name="签收").click()
    card = department.locator(f"[data-ticket='{number}']")
    expect(card.locator("[data-status]")).to_have_text("已签收")
    card.get_by_text("退单…").click()
    card.get_by_label("退单原因").select_option(index=1)
    card.get_by_label("补充说明").fill("该水表井属于物业公司维护")
    card.get_by_role("button", name="确认退回社区").click()
    expect(department.locator("[data-ended-tasks]")).to_contain_text(number)

    director.goto(f"/tickets/{number}")
    expect(director.locator(".head-badges")).to_contain_text("已退单")
    expect(director.locator("body")).to_contain_text("该水表井属于物业公司维护")
    director.locator("[data-link='suggestions']").click()
    director.locator("[data-department='water']").get_by_role("button", name="转办").click()

    department.goto("/desk/")
    card = department.locator(f"[data-ticket='{number}']")
    card.get_by_role("button", name="签收").click()
    card = department.locator(f"[data-ticket='{number}']")
    card.get_by_text("办结…").click()
    card.get_by_label("办理结果（必填）").fill("已维修水表井，路面已清理")
    card.get_by_role("button", name="确认办结").click()
    expect(department.locator(f"[data-ticket='{number}']")).to_have_count(0)

    director.goto(f"/tickets/{number}")
    expect(director.locator(".head-badges")).to_contain_text("已办结")


def test_a_volunteer_signing_a_task_the_director_just_withdrew_gets_409_and_the_refreshed_list(
        director, volunteer, live):
    number = live.make_ticket("5号楼单元门闭门器坏了", category_code="lighting", address="古田路16号5号楼")
    accept_and_open_suggestions(director, number)
    director.locator("[data-suggestions] li").first.get_by_role("button").click()
    volunteer.reload()
    volunteer.locator(f"[data-task='{number}']").click()
    expect(volunteer.get_by_role("button", name="签收")).to_be_visible()

    director.goto(f"/tickets/{number}")
    withdraw = director.locator("[data-action='withdraw']")
    withdraw.locator("summary").click() if withdraw.locator("summary").count() else None
    withdraw.get_by_label("撤回派单说明（必填）").fill("居民说已自行修好，先撤回")
    withdraw.get_by_role("button", name="撤回派单").click()
    expect(director.locator(".head-badges")).to_contain_text("已受理")

    with volunteer.expect_response(lambda r: r.request.method == "POST") as answer:
        volunteer.get_by_role("button", name="签收").click()
    assert answer.value.status == 409
    expect(volunteer.locator("body")).to_contain_text("工单刚被他人处理")
    expect(volunteer.locator(f"[data-task='{number}']")).to_have_count(0)
