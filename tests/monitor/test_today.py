"""The supervisor's day: what awaits them after login, overdue lists urgent first, the default period, file names
with the period, and medians of 0 working hours read as such."""
import re
from datetime import date, datetime, timezone
from urllib.parse import quote

import pytest
from werkzeug.datastructures import MultiDict

from dispatch.monitor import refresh, services
from dispatch.org.principal import Principal
from dispatch.org.services import create_user
from dispatch.sla import policies
from dispatch.sla.sweep import run_sla_sweep
from dispatch.tickets import pipeline
from dispatch.tickets.models import Priority
from tests.conftest import PASSWORD, login


def section(body, key):
    """The HTML of one list of the landing page."""
    start = body.index(f'<section id="{key}"')
    return body[start:body.index("</section>", start)]


def ask_for_extension(org, clock, ticket, department=False):
    """Dispatch a ticket, have its holder sign and ask for 5 more days."""
    admin = Principal.from_user(org.admin)
    pipeline.act(admin, ticket, "accept", now=clock())
    target = {"department": "water"} if department else {"assignee": "volunteer"}
    pipeline.act(admin, ticket, "dispatch", now=clock(), **target)
    holder = Principal.from_user(org.dept if department else org.volunteer)
    pipeline.act(holder, ticket, "sign", now=clock())
    pipeline.act(holder, ticket, "request_extension", note="需要等配件到货", now=clock(), extension_days=5)


@pytest.fixture
def day(org, clock, make_ticket):
    """In each street, a ticket waiting for an extension decision and one escalated up to the street."""
    policies.seed_defaults()
    ours = make_ticket("3号楼水管漏水，需要换管")
    theirs = make_ticket("香港花园水表坏了", community=org.c3)
    ask_for_extension(org, clock, ours)
    ask_for_extension(org, clock, theirs, department=True)
    late_ours = make_ticket("福州路12号楼道灯不亮", community=org.c2)
    late_theirs = make_ticket("香港花园路灯不亮", community=org.c3)
    clock.advance(days=30)  # nobody answered: breach, then each step up the chain to the street
    run_sla_sweep(clock())
    return {"ours": ours, "theirs": theirs, "late_ours": late_ours, "late_theirs": late_theirs}


def test_a_supervisor_lands_on_what_awaits_their_street_and_nothing_of_another(client, org, day):
    landing = login(client, "street")
    assert landing.headers["Location"].endswith("/monitor/today")
    page = client.get("/monitor/today")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "今日待办 · 湛山街道" in body
    extensions = section(body, "extensions")
    assert day["ours"].number in extensions and "申请延期 5 天" in extensions and "需要等配件到货" in extensions
    assert f'href="/tickets/{day["ours"].number}"' in extensions  # one click to the ticket, where it is decided
    escalated = section(body, "escalated")
    assert day["late_ours"].number in escalated and "还没有催办或督办" in escalated
    for other in ("theirs", "late_theirs"):
        assert day[other].number not in body  # 珠海路街道's tickets are not this supervisor's
    counts = re.findall(r'<a class="kpi" href="#(\w+)">.*?<span class="value[^"]*">(\d+)', body, re.S)
    assert dict(counts)["extensions"] == "1" and int(dict(counts)["escalated"]) >= 1


def test_the_district_admin_sees_the_whole_district_and_a_director_goes_to_the_queue(client, org, day):
    assert login(client, "admin").headers["Location"].endswith("/monitor/today")
    body = client.get("/monitor/today").get_data(as_text=True)
    assert day["ours"].number in section(body, "extensions") and day["theirs"].number in section(body, "extensions")
    assert "今日待办 · 全区" in body
    client.post("/logout", data={})
    assert login(client, "director").headers["Location"] == "/"
    assert client.get("/monitor/today").headers["Location"] == "/"


def test_a_chase_after_the_escalation_is_shown(client, org, day, clock):
    street = Principal.from_user(org.street)
    pipeline.act(street, day["late_ours"], "urge", note="请今天内处理", now=clock())
    login(client, "street")
    escalated = section(client.get("/monitor/today").get_data(as_text=True), "escalated")
    row = escalated[escalated.index(day["late_ours"].number):]
    assert "已催办" in row.split("</tr>", 1)[0]


def test_a_department_return_waits_on_the_page(client, org, clock, make_ticket):
    ticket = make_ticket("小区供水压力小")
    admin = Principal.from_user(org.admin)
    pipeline.act(admin, ticket, "accept", now=clock())
    pipeline.act(admin, ticket, "dispatch", now=clock(), department="water")
    pipeline.act(Principal.from_user(org.dept), ticket, "return", note="不属于本单位", now=clock())
    login(client, "street")
    returned = section(client.get("/monitor/today").get_data(as_text=True), "returned")
    assert ticket.number in returned and "市南供水服务中心" in returned and "不属于本单位" in returned


@pytest.fixture
def gas_and_heating(org, clock, make_ticket):
    """A heating-fee question overdue for days, and a gas smell overdue for an hour."""
    policies.seed_defaults()
    heating = make_ticket("请问今年的暖气费在哪里交", priority=Priority.LOW)
    clock.advance(days=10)
    gas = make_ticket("楼道里有很重的燃气味", priority=Priority.URGENT)
    clock.advance(hours=3)
    return heating, gas


def test_overdue_lists_put_the_urgent_first_with_how_late(client, org, gas_and_heating):
    heating, gas = gas_and_heating
    login(client, "street")
    for url in ("/monitor/overdue", f"/monitor/streets/{org.streets[0].id}"):
        body = client.get(url).get_data(as_text=True)
        assert body.index(gas.number) < body.index(heating.number), url
        assert "⚠</span> 紧急" in body and re.search(r"已超时 [0-9]+ 天", body), url
    overdue = section(client.get("/monitor/today").get_data(as_text=True), "overdue")
    assert overdue.index(gas.number) < overdue.index(heating.number)
    exported = client.get("/monitor/overdue.csv").get_data(as_text=True)
    assert exported.index(gas.number) < exported.index(heating.number) and "紧急程度" in exported


def test_the_default_period_is_the_last_30_days(client, org, clock):
    clock.at = datetime(2026, 12, 2, 2, 0, tzinfo=timezone.utc)  # the 2nd: 本月 would be two days
    login(client, "street")
    body = client.get("/monitor/table").get_data(as_text=True)
    assert "当前：2026-11-03 至 2026-12-02" in body
    assert re.search(r'<option value="30d"\s+selected>近30天</option>', body)
    today = date(2026, 12, 2)
    assert services.period_of(MultiDict(), today) == (date(2026, 11, 3), today)
    assert services.period_of(MultiDict({"to": "2026-11-30"}), today) == (date(2026, 11, 1), date(2026, 11, 30))


def test_exported_files_are_named_with_their_period(client, org, clock):
    login(client, "admin")
    exported = client.get("/monitor/tickets.xlsx?from=2026-11-02&to=2026-12-01")
    disposition = exported.headers["Content-Disposition"]
    assert f"filename*=UTF-8''{quote('市南区_工单明细_2026-11-02至2026-12-01.xlsx')}" in disposition
    assert 'filename="district_tickets_2026-11-02_2026-12-01.xlsx"' in disposition
    by_community = client.get("/monitor/table.csv?street=zhanshan&by=community&from=2026-11-02&to=2026-12-01")
    assert quote("湛山街道_按社区统计_2026-11-02至2026-12-01.csv") in by_community.headers["Content-Disposition"]
    overdue = client.get("/monitor/overdue.csv?community=yanchenglu").headers["Content-Disposition"]
    assert quote("盐城路社区_当前超时工单_截至2026-11-20.csv") in overdue
    assert 'filename="yanchenglu_overdue_2026-11-20.csv"' in overdue


def test_a_median_of_zero_working_hours_reads_under_a_tenth_with_its_sample(client, org, clock, make_ticket):
    clock.at = datetime(2026, 11, 19, 18, 0, tzinfo=timezone.utc)  # 02:00 on a Friday in Shanghai
    ticket = make_ticket("半夜楼道灯坏了")
    clock.advance(hours=4)  # 06:00: answered before the office opens, so 0 working hours
    pipeline.act(Principal.from_user(org.admin), ticket, "accept", now=clock())
    refresh.run_refresh(clock())
    login(client, "director")
    body = client.get(f"/monitor/communities/{org.c1.id}?from=2026-11-01&to=2026-11-30").get_data(as_text=True)
    kpi = body[body.index("响应用时中位数") - 400:body.index("响应用时中位数")]
    assert "不足 0.1" in kpi and "0.0" not in kpi
    assert "响应用时中位数（1 件；" in body  # the sample beside the median
    assert "上班后很快响应的工单，工作时间用时为 0" in body  # the footnote under the figures
    listed = client.get("/monitor/tickets?from=2026-11-01&to=2026-11-30&community=yanchenglu").get_data(as_text=True)
    assert "不足 0.1" in listed


def test_a_new_supervisor_without_a_street_of_tickets_sees_all_clear(client, org):
    create_user("quiet", "street_supervisor", PASSWORD, "珠海路督办", street=org.streets[1])
    login(client, "quiet")
    body = client.get("/monitor/today").get_data(as_text=True)
    assert "没有待审批的延期申请" in body and "没有升级到街道的工单" in body and "没有职能部门退回的工单" in body


def test_an_overdue_urgent_ticket_is_named_before_every_list(client, org, gas_and_heating):
    heating, gas = gas_and_heating
    login(client, "street")
    body = client.get("/monitor/today").get_data(as_text=True)
    callout = body[body.index("data-urgent-overdue"):body.index("await-counts")]
    assert gas.number in callout and heating.number not in callout and "紧急工单已超时（1 件）" in callout
