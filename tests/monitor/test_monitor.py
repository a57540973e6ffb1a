"""The monitor through HTTP on the real database: figures from the timeline, lists behind them, scope, exports."""
import csv
import io
import itertools
import re
from collections import Counter, defaultdict
from datetime import date, datetime, timezone

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert, select, update

from dispatch.extensions import db
from dispatch.monitor import metrics, refresh, timeline
from dispatch.monitor.counters import DAILY_COUNTS, LISTED, counts_of, holds
from dispatch.monitor.facts import local_day
from dispatch.monitor.models import DailyRollup, MonitorMark, TicketFact
from dispatch.org.principal import Principal
from dispatch.resident import services as resident
from dispatch.sla import policies
from dispatch.tickets import pipeline
from dispatch.tickets.rating_scale import RATINGS
from tests.conftest import login

PERIOD = "from=2026-11-01&to=2026-11-30"
NOVEMBER = metrics.Selection(date(2026, 11, 1), date(2026, 11, 30))
GROUPINGS = (None, "street", "community", "category", "volunteer", "department", "channel", "status")


@pytest.fixture
def story(org, clock, make_ticket):
    """Five tickets with different fates, on the SLA clocks, and the facts refreshed."""
    policies.seed_defaults()
    admin = Principal.from_user(org.admin)
    on_time = make_ticket("3号楼走廊灯坏了", category=None)
    late = make_ticket("5号楼路灯不亮")
    waiting = make_ticket("福州路小区门口积水", community=org.c2)
    invalid = make_ticket("测试", community=org.c3)
    returned = make_ticket("楼道堆物")
    clock.advance(minutes=20)
    pipeline.act(admin, on_time, "accept", now=clock())
    pipeline.act(admin, returned, "accept", now=clock())
    pipeline.act(admin, returned, "dispatch", now=clock(), assignee="volunteer")
    pipeline.act(Principal.from_user(org.volunteer), returned, "return", note="不在我的片区", now=clock())
    pipeline.act(admin, invalid, "invalidate", note="测试单", now=clock())
    clock.advance(minutes=40)
    pipeline.act(admin, on_time, "resolve", note="已更换灯泡", now=clock())
    resident.rate(on_time, "satisfied", "", clock())
    clock.advance(days=4)  # Tuesday: the late one is answered only now, the waiting one never
    pipeline.act(admin, late, "accept", now=clock())
    pipeline.act(admin, late, "resolve", note="已修好", now=clock())
    resident.rate(late, "unsatisfied", "还是不亮", clock())
    refresh.run_refresh(clock())
    return {"on_time": on_time, "late": late, "waiting": waiting, "invalid": invalid, "returned": returned}


def rows_by_label(page):
    """The figures table of a page as {row label: [cell texts]}."""
    body = page.get_data(as_text=True)
    table = body.split('<table class="metrics">', 1)[1].split("</table>", 1)[0]
    found = {}
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
        cells = [re.sub(r"<[^>]+>|\s+", "", c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        if cells:
            found[cells[0]] = cells[1:]
    return found


def test_the_fast_path_equals_the_timeline_for_every_grouping(story):
    for by in GROUPINGS:
        fast = {r.key: (r.counts, r.hours, r.samples) for r in metrics.figures(NOVEMBER, by)}
        slow = {r.key: (r.counts, r.hours, r.samples) for r in timeline.figures_from_timeline(NOVEMBER, by)}
        assert fast == slow, by
    total = metrics.figures(NOVEMBER)[0]
    for by in GROUPINGS[1:]:  # the overviews' one-scan variant (GROUPING SETS on PostgreSQL) says the same
        rows, together = metrics.figures_and_total(NOVEMBER, by)
        assert {r.key: (r.counts, r.hours) for r in rows} == {r.key: (r.counts, r.hours)
                                                              for r in metrics.figures(NOVEMBER, by)}
        assert (together.counts, together.hours) == (total.counts, total.hours)
    assert total.counts["created"] == 5 and total.counts["valid"] == 4
    assert total.counts["responded_on_time"] == 2  # on_time and returned were accepted in time; late was not
    assert total.rates["response_rate"] == 50.0
    assert total.counts["resolved"] == 1  # late was reopened after its unsatisfied rating
    assert total.rates["satisfaction_rate"] == 50.0 and total.counts["reopened"] == 1
    assert total.counts["returned"] == 1


def python_counts(facts, key):
    """The counters of fact rows added up in Python (counters.counts_of), per key."""
    summed = defaultdict(Counter)
    for fact in facts:
        summed[key(fact)].update(counts_of(fact))
    return {k: {name: counts[name] for name in DAILY_COUNTS} for k, counts in summed.items()}


def test_the_rollup_adds_up_to_the_same_counts_as_the_facts(story):
    trend = metrics.trend(NOVEMBER, "month", 1, "community")
    facts = db.session.execute(select(TicketFact.__table__)).mappings().all()
    in_python = python_counts(facts, key=lambda fact: fact["community_id"])
    for row in metrics.figures(NOVEMBER, "community"):
        assert trend.series[row.key][date(2026, 11, 1)] == row.counts == in_python[row.key]


def every_kind_of_fact(tickets, communities):
    """Fact rows for these tickets: valid or not, each rating, the flags and tallies in four patterns."""
    patterns = [(True, True, True, True, 1, 1, 1), (False, False, False, False, 0, 0, 0),
                (True, False, True, False, 2, 0, 1), (False, True, False, True, 0, 3, 0)]
    kinds = itertools.product((True, False), (None, *RATINGS), patterns)
    for i, (ticket, (valid, rating, pattern)) in enumerate(zip(tickets, kinds, strict=True)):
        created_at = datetime(2026, 11, 2 + i % 2, 2, tzinfo=timezone.utc)
        community = communities[i // 2 % len(communities)]
        yield dict(zip(("responded", "responded_on_time", "resolved", "resolved_on_time", "reopenings", "returns",
                        "extensions"), pattern),
                   ticket_id=ticket.id, community_id=community.id, street_id=community.street_id, category_id=None,
                   handler_user_id=None, department_id=None, channel="phone", status="closed" if valid else "invalid",
                   created_at=created_at, created_day=local_day(created_at), valid=valid, rating=rating,
                   response_hours=None, resolution_hours=None, last_event_id=0)


def test_the_rollup_the_figures_and_the_lists_count_every_measure_as_python_does(org, make_ticket):
    tickets = [make_ticket(f"{n}号楼路灯不亮") for n in range(32)]
    facts = list(every_kind_of_fact(tickets, (org.c1, org.c2)))
    db.session.execute(insert(TicketFact), facts)
    refresh.refresh_days({(f["community_id"], f["created_day"]) for f in facts})
    db.session.commit()
    by_day = python_counts(facts, key=lambda fact: (fact["community_id"], fact["created_day"]))
    rollup = db.session.execute(select(DailyRollup.__table__)).mappings().all()
    assert {(r["community_id"], r["day"]): {n: r[n] for n in DAILY_COUNTS} for r in rollup} == by_day
    by_community = python_counts(facts, key=lambda fact: fact["community_id"])
    assert {r.key: r.counts for r in metrics.figures(NOVEMBER, "community")} == by_community
    for name, measure in LISTED.items():
        assert metrics.behind(NOVEMBER, name)[1] == sum(holds(measure, fact) for fact in facts), name


def test_the_street_overview_ranks_its_communities_with_the_formulas_and_links(client, org, story):
    login(client, "street")
    page = client.get(f"/monitor/streets/{org.streets[0].id}?{PERIOD}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    rows = rows_by_label(page)
    assert list(rows)[1:] == ["盐城路社区", "福州路社区"]  # the header row, then ranked by 响应率
    assert rows["盐城路社区"][:3] == ["3", "3", "66.7%"]
    assert rows["福州路社区"][:3] == ["1", "1", "0.0%"]
    assert "响应率 = 按时响应的工单 ÷ 有效工单" in body and "香港花园社区" not in body
    assert 'data-chart="chart-weekly"' in body and "vendor/echarts/echarts.min.js" in body
    link = re.search(r'href="(/monitor/tickets\?[^"]*measure=responded_on_time[^"]*community=yanchenglu[^"]*)"',
                     body.replace("&amp;", "&")) or re.search(
        r'href="(/monitor/tickets\?[^"]*community=yanchenglu[^"]*measure=responded_on_time[^"]*)"',
        body.replace("&amp;", "&"))
    listed = client.get(link.group(1)).get_data(as_text=True)
    assert story["on_time"].number in listed and story["returned"].number in listed
    assert story["late"].number not in listed


def test_the_tickets_behind_a_figure(client, org, story):
    login(client, "admin")
    page = client.get(f"/monitor/tickets?{PERIOD}&measure=not_responded_on_time")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "：2 件" in body
    assert story["late"].number in body and story["waiting"].number in body  # late, and never answered
    assert story["on_time"].number not in body and story["invalid"].number not in body
    unanswered = client.get(f"/monitor/tickets?{PERIOD}&measure=valid").get_data(as_text=True)
    assert story["waiting"].number in unanswered and story["invalid"].number not in unanswered


def test_the_district_overview_and_the_overdue_list(client, org, story):
    login(client, "admin")
    page = client.get(f"/monitor/district?{PERIOD}")
    rows = rows_by_label(page)
    assert set(rows) >= {"湛山街道", "珠海路街道"}
    assert rows["湛山街道"][-1] == "1"  # 当前超时: the waiting ticket, never answered
    overdue = client.get("/monitor/overdue?street=zhanshan").get_data(as_text=True)
    assert story["waiting"].number in overdue and story["late"].number not in overdue
    street = client.get(f"/monitor/streets/{org.streets[0].id}").get_data(as_text=True)
    assert "下载上月月报" in street


def test_a_directors_view_has_breakdowns_and_stays_in_their_community(client, org, story):
    login(client, "director")
    assert client.get("/monitor/").headers["Location"].endswith(f"/monitor/communities/{org.c1.id}")
    page = client.get(f"/monitor/communities/{org.c1.id}?{PERIOD}").get_data(as_text=True)
    assert "按类别统计" in page and "按志愿者统计" in page and "按职能部门统计" in page
    assert client.get(f"/monitor/communities/{org.c2.id}").status_code == 404
    assert client.get(f"/monitor/streets/{org.streets[0].id}").status_code == 404
    assert client.get("/monitor/table?community=fuzhoulu").status_code == 404


def test_scope_refusals(client, org, story):
    login(client, "street")
    assert client.get(f"/monitor/streets/{org.streets[1].id}").status_code == 404
    assert client.get("/monitor/district").headers["Location"].endswith("/monitor/")
    assert client.get("/monitor/tickets.csv?street=zhuhailu").status_code == 404
    client.post("/logout", data={})
    login(client, "volunteer")
    assert client.get("/monitor/").status_code == 403
    client.get("/logout")


@pytest.mark.parametrize("query, message", [
    ("from=2026-02-30", "不是有效日期"), ("from=2026-11-10&to=2026-11-01", "不能晚于"),
    ("period=decade", "统计期「decade」不认识"), ("by=planet", "分组「planet」不认识"),
    ("category=unicorns", "找不到类别"), ("channel=fax", "渠道「fax」不认识"), ("volunteer=abc", "找不到志愿者"),
    ("from=2020-01-01&to=2026-01-01", "最长"), ("volunteer=%C2%B2", "找不到志愿者"),
    ("volunteer=99999999999999999999", "找不到志愿者"),
])
def test_bad_queries_get_a_400_that_says_what_to_fix(client, org, story, query, message):
    login(client, "admin")
    page = client.get(f"/monitor/table?{query}")
    assert page.status_code == 400 and message in page.get_data(as_text=True)


def test_exports_carry_the_filters_and_the_same_numbers(client, org, story):
    login(client, "admin")
    exported = client.get(f"/monitor/table.csv?{PERIOD}&street=zhanshan&by=community")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    lines = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    header = next(line for line in lines if line and line[0] == "社区")
    rows = {line[0]: dict(zip(header, line)) for line in lines[lines.index(header) + 1:] if line}
    assert rows["盐城路社区"]["响应率（%）"] == "66.7" and rows["福州路社区"]["有效工单"] == "1"
    workbook = load_workbook(io.BytesIO(client.get(f"/monitor/table.xlsx?{PERIOD}&street=zhanshan&by=community").data))
    sheet = workbook.active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    header_at = next(i for i, row in enumerate(values) if row[0] == "社区")
    yancheng = next(row for row in values[header_at:] if row[0] == "盐城路社区")
    assert yancheng[values[header_at].index("响应率（%）")] == pytest.approx(0.667, abs=1e-3)
    assert any("湛山街道" in str(v) for row in values[:header_at] for v in row)  # the filters applied
    listed = client.get(f"/monitor/tickets.csv?{PERIOD}&measure=reopened").get_data(as_text=True)
    assert story["late"].number in listed and story["on_time"].number not in listed


def test_the_monthly_report_has_the_three_rates_per_community(client, org, story, clock):
    clock.advance(days=15)  # December: November is last month
    login(client, "street")
    report = client.get(f"/monitor/streets/{org.streets[0].id}/report.xlsx")
    assert report.status_code == 200 and "attachment" in report.headers["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(report.data))
    assert len(workbook.sheetnames) == 3 and "2026-11" in workbook.sheetnames[0]
    values = [[c.value for c in row] for row in workbook.worksheets[0].iter_rows()]
    header = next(row for row in values if row[0] == "社区")
    for name in ("响应率（%）", "解决率（%）", "满意率（%）"):
        assert name in header
    labels = [row[0] for row in values[values.index(header) + 1:]]
    assert labels == ["盐城路社区", "福州路社区", "街道合计"]
    assert client.get(f"/monitor/streets/{org.streets[0].id}/report.xlsx?month=2026-13").status_code == 400


def test_the_refresher_follows_new_entries_and_catches_late_commits(org, story, clock):
    admin = Principal.from_user(org.admin)
    pipeline.act(admin, story["waiting"], "accept", now=clock())
    assert refresh.run_refresh(clock()) == 1
    assert db.session.get(TicketFact, story["waiting"].id).responded
    # A transaction that committed after a later id was read: its ticket's fact has not read its entry.
    db.session.execute(update(TicketFact).where(TicketFact.ticket_id == story["returned"].id)
                       .values(last_event_id=0, returns=0))
    db.session.commit()
    assert refresh.run_refresh(clock()) == 1
    assert db.session.get(TicketFact, story["returned"].id).returns == 1
    assert refresh.run_refresh(clock()) == 0  # nothing read twice for nothing


def test_rebuild_gives_what_the_incremental_refresh_gave(org, story, clock):
    def snapshot():
        facts = [tuple(r) for r in db.session.execute(select(TicketFact.__table__)).all()]
        days = [tuple(r) for r in db.session.execute(select(DailyRollup.__table__)).all()]
        return sorted(facts), sorted(days)
    before = snapshot()
    assert refresh.rebuild(clock()) == 5
    assert snapshot() == before
    assert db.session.get(MonitorMark, "facts").refreshed_at == clock()


def test_the_scheduler_runs_the_refresh():
    from dispatch.scheduler import JOBS
    assert any(job.target == "dispatch.monitor.refresh:run_refresh" and job.seconds <= 60 for job in JOBS)


def test_odd_numbers_in_paths_and_pages_are_a_404_or_the_first_page(client, org, story):
    login(client, "admin")
    assert client.get("/monitor/streets/99999999999999999999").status_code == 404
    assert client.get("/monitor/communities/2147483648").status_code == 404
    for page in ("%C2%B2", "99999999999999999999", "0"):
        listed = client.get(f"/monitor/tickets?{PERIOD}&page={page}")  # read as the first page
        assert listed.status_code == 200 and story["on_time"].number in listed.get_data(as_text=True)
