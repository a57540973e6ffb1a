"""What a resident does on their H5 ticket page beyond reporting: 催一催, 撤回, 修改评价, and following a merged report."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.localtime import local
from dispatch.monitor.models import TicketFact
from dispatch.monitor.refresh import refresh_tickets
from dispatch.notify.models import Notification
from dispatch.org.principal import Principal
from dispatch.sla import policies
from dispatch.tickets import pipeline
from dispatch.tickets.lifecycle import Status, allowed_actions
from dispatch.org.roles import Role
from tests.conftest import login
from tests.intake.test_h5 import (ResidentPhone, neighbour, page_text, resident, resolve,  # noqa: F401 (fixtures)
                                  ticket_by_number)


def post(person, number, page, **fields):
    return person.client.post(person.url(f"/tickets/{number}/{page}"), data={"csrf_token": person.csrf(), **fields})


def ticket_page(person, number):
    response = person.client.get(person.url(f"/tickets/{number}"))
    assert response.status_code == 200, page_text(response)
    return page_text(response)


def notices(number, event):
    ticket = ticket_by_number(number)
    return db.session.scalars(select(Notification).where(Notification.ticket_id == ticket.id,
                                                         Notification.event == event)).all()


def kinds(number):
    return [e.kind for e in ticket_by_number(number).events]


def as_director(org, number, action, **fields):
    return pipeline.act(Principal.from_user(org.director), ticket_by_number(number), action, **fields)


@pytest.fixture(autouse=True)
def promises(org):
    """The SLA policies that set each ticket's promised contact time (response_due_at)."""
    assert policies.seed_defaults() == 9


@pytest.fixture
def third(app, wechat_api, account):
    """A resident who reported nothing the others did."""
    person = ResidentPhone(app, openid="o_third")
    assert person.sign_in().status_code == 302
    return person


# ---- 催一催 ----

def test_nudge_waits_for_the_promised_time_and_says_when_it_is(resident, org, clock):
    number = resident.report("楼道灯坏了")
    due = ticket_by_number(number).response_due_at
    promised = f"承诺的联系时间是 {local(due):%m月%d日 %H:%M}，到时还没人联系您，可以在这里催一催"
    page = ticket_page(resident, number)
    assert promised in page and "🔔 催一催" not in page
    refused = post(resident, number, "nudge")
    assert refused.status_code == 409 and promised in page_text(refused)
    assert "nudge" not in kinds(number)


def test_nudge_after_the_promised_time_tells_the_director_once_per_working_day(resident, org, clock):
    number = resident.report("楼道灯坏了")
    clock.at = ticket_by_number(number).response_due_at + timedelta(minutes=1)
    assert "🔔 催一催" in ticket_page(resident, number)
    done = post(resident, number, "nudge")
    assert done.status_code == 302
    entry = ticket_by_number(number).events[-1]
    assert (entry.kind, entry.actor_label) == ("nudge", "居民（微信）")
    assert [n.user_id for n in notices(number, "nudged_director")] == [org.director.id]
    page = page_text(resident.client.get(done.headers["Location"]))
    assert "已帮您催了一下" in page and "您催了一下，已告诉工作人员" in page and "🔔 催一催" not in page

    clock.advance(hours=1)
    again = post(resident, number, "nudge")
    text = page_text(again)
    assert again.status_code == 409 and "您已经催过了" in text and "以后还没人联系您，可以再催一次" in text
    next_time = re.search(r"(\d\d月\d\d日 \d\d:\d\d) 以后还没人联系您", text).group(1)
    assert kinds(number).count("nudge") == 1
    # a weekend or holiday is not a working day: the next one opens the next working day's office hours
    opens = local(clock()).replace(hour=8, minute=30) + timedelta(days=1)
    while opens.weekday() >= 5:
        opens += timedelta(days=1)
    assert next_time == f"{opens:%m月%d日 %H:%M}"
    clock.at = opens - timedelta(minutes=1)
    assert post(resident, number, "nudge").status_code == 409
    clock.at = opens
    assert post(resident, number, "nudge").status_code == 302
    assert kinds(number).count("nudge") == 2


def test_the_volunteer_holding_the_ticket_hears_the_nudge_and_sees_it_on_the_timeline(app, resident, org, clock):
    number = resident.report("楼道灯坏了")
    as_director(org, number, "accept")
    as_director(org, number, "dispatch", assignee="volunteer")
    clock.at = ticket_by_number(number).response_due_at + timedelta(hours=1)
    assert post(resident, number, "nudge").status_code == 302
    assert [n.user_id for n in notices(number, "nudged")] == [org.volunteer.id]
    assert [n.user_id for n in notices(number, "nudged_director")] == [org.director.id]
    console = app.test_client()
    login(console, "director")
    assert "居民催一催" in page_text(console.get(f"/tickets/{number}"))
    assert "居民催1次" in page_text(console.get("/?view=open"))  # held by the volunteer: in 全部在办


def test_no_nudge_while_the_community_waits_for_the_resident(resident, org, clock):
    number = resident.report("灯不亮")
    as_director(org, number, "accept")
    as_director(org, number, "wait_for_resident", note="请问是哪栋楼？")
    clock.at = ticket_by_number(number).response_due_at + timedelta(days=3)
    assert "催一催" not in ticket_page(resident, number)
    refused = post(resident, number, "nudge")
    assert refused.status_code == 409 and "请先按上面的问题补充" in page_text(refused)


def test_without_a_policy_the_promise_is_one_working_day(resident, org, clock):
    for policy in db.session.scalars(select(policies.SlaPolicy)):
        db.session.delete(policy)
    db.session.commit()
    number = resident.report("楼道灯坏了")  # Friday 10:00: one working day later is Monday 10:00
    assert ticket_by_number(number).response_due_at is None
    assert "承诺的联系时间是 11月23日 10:00" in ticket_page(resident, number)
    clock.at = clock() + timedelta(days=3)
    assert post(resident, number, "nudge").status_code == 302


def test_staff_are_not_offered_the_residents_own_actions(org):
    for role in Role:
        assert not {a.name for a in allowed_actions(Status.NEW, role)} & {"withdraw_by_resident", "nudge"}


# ---- 撤回 ----

def test_withdraw_before_dispatch_with_a_reason_tells_the_director(resident, org, clock):
    number = resident.report("楼道灯坏了")
    page = ticket_page(resident, number)
    assert "可以撤回" in page and 'name="reason"' in page
    done = post(resident, number, "withdraw", reason="灯自己好了")
    assert done.status_code == 302
    ticket = ticket_by_number(number)
    assert ticket.status is Status.INVALID and ticket.closed_at == clock()
    assert (ticket.events[-1].kind, ticket.events[-1].note) == ("withdraw_by_resident", "撤回原因：灯自己好了")
    assert [n.user_id for n in notices(number, "withdrawn")] == [org.director.id]
    after = page_text(resident.client.get(done.headers["Location"]))
    assert "已撤回" in after and "您撤回了这个问题" in after and "可以撤回" not in after and "催一催" not in after
    listed = page_text(resident.client.get(resident.url("/tickets")))
    assert "已撤回" in listed and "无效" not in listed


def test_the_monitor_counts_a_withdrawn_ticket_as_no_ones_work_and_a_changed_rating_as_the_latest(resident, org):
    withdrawn, rated = resident.report("楼道灯坏了"), resident.report("5号楼门口路灯不亮")
    post(resident, withdrawn, "withdraw", reason="灯自己好了")
    resolve(org, rated)
    resident.rate(rated, rating="satisfied")
    post(resident, rated, "rating/change", rating="unsatisfied", redo="0")
    refresh_tickets([ticket_by_number(withdrawn).id, ticket_by_number(rated).id])
    facts = {f.ticket_id: f for f in db.session.scalars(select(TicketFact))}
    assert facts[ticket_by_number(withdrawn).id].valid is False
    assert facts[ticket_by_number(rated).id].rating == "unsatisfied"


def test_withdraw_without_a_reason_and_after_acceptance(resident, org):
    number = resident.report("楼道灯坏了")
    as_director(org, number, "accept")
    assert post(resident, number, "withdraw", reason="  ").status_code == 302
    assert ticket_by_number(number).events[-1].note == "撤回原因：未说明"


def test_withdraw_refused_once_dispatched_too_long_or_someone_elses(resident, neighbour, org):
    number = resident.report("楼道灯坏了")
    long = post(resident, number, "withdraw", reason="太" * 201)
    assert long.status_code == 400 and "原因最多 200 字，现在是 201 字" in page_text(long)
    assert "太" * 201 in page_text(long)  # what was typed is kept
    assert post(neighbour, number, "withdraw").status_code == 404
    as_director(org, number, "accept")
    as_director(org, number, "dispatch", assignee="volunteer")
    assert "可以撤回" not in ticket_page(resident, number)
    refused = post(resident, number, "withdraw", reason="不要了")
    assert refused.status_code == 409 and "工作人员已经在办理这张工单了，不能再撤回" in page_text(refused)
    assert ticket_by_number(number).status is Status.DISPATCHED


# ---- 修改评价 ----

def test_a_rating_can_be_changed_within_seven_days(resident, org, clock):
    number = resident.report("楼道灯坏了")
    resolve(org, number)
    assert resident.rate(number, rating="satisfied", comment="很快").status_code == 302
    page = ticket_page(resident, number)
    assert "修改评价" in page and "前可以修改评价" in page
    form = page_text(resident.client.get(resident.url(f"/tickets/{number}?change=1")))
    assert "提交修改" in form and 'value="satisfied" required checked' in form and "很快</textarea>" in form

    clock.advance(days=3)
    changed = post(resident, number, "rating/change", rating="basically_satisfied", comment="其实慢了点")
    assert changed.status_code == 302
    ticket = ticket_by_number(number)
    assert (ticket.status, ticket.rating, ticket.rating_comment) == (Status.CLOSED, "basically_satisfied", "其实慢了点")
    entry = ticket.events[-1]
    assert entry.kind == "rated" and entry.data["changed"] is True and entry.data["rating"] == "basically_satisfied"
    assert kinds(number).count("rated") == 2
    after = page_text(resident.client.get(changed.headers["Location"]))
    assert "评价已修改" in after and "您修改了评价：基本满意" in after
    # the 7 days run from the first rating: changing it again does not start them again
    clock.advance(days=4, minutes=1)
    late = post(resident, number, "rating/change", rating="satisfied")
    assert late.status_code == 409 and "评价只能在 7 天内修改" in page_text(late)


def test_a_changed_rating_to_unsatisfied_is_redone(resident, org, clock):
    number = resident.report("楼道灯坏了")
    resolve(org, number)
    resident.rate(number, rating="satisfied")
    changed = post(resident, number, "rating/change", rating="unsatisfied", redo="1", comment="第二天又不亮了")
    assert changed.status_code == 302
    ticket = ticket_by_number(number)
    assert ticket.status is Status.REOPENED and ticket.events[-1].note == "居民修改评价为不满意：第二天又不亮了"


def test_changing_a_rating_is_refused_after_seven_days_and_before_any(resident, org, clock):
    number = resident.report("楼道灯坏了")
    early = post(resident, number, "rating/change", rating="satisfied")
    assert early.status_code == 409 and "没有可以修改的评价" in page_text(early)
    resolve(org, number)
    resident.rate(number, rating="satisfied")
    bad = post(resident, number, "rating/change", rating="great")
    assert bad.status_code == 400 and "请选择「满意」「基本满意」或「不满意」" in page_text(bad)
    clock.advance(days=7, minutes=1)
    assert "修改评价" not in ticket_page(resident, number)
    late = post(resident, number, "rating/change", rating="unsatisfied", comment="又坏了")
    text = page_text(late)
    assert late.status_code == 409 and "评价只能在 7 天内修改" in text and "现在已经不能修改了" in text
    assert kinds(number).count("rated") == 1 and ticket_by_number(number).rating == "satisfied"


# ---- a merged report follows the kept ticket ----

def merged_pair(resident, neighbour, org):
    kept = resident.report("3号楼2单元楼道灯坏了")
    duplicate = neighbour.report("3号楼楼道灯不亮，晚上看不见")
    as_director(org, duplicate, "merge", into=kept)
    return kept, duplicate


def test_a_merged_report_shows_the_kept_tickets_progress(resident, neighbour, third, org):
    kept, duplicate = merged_pair(resident, neighbour, org)
    as_director(org, kept, "accept")
    page = ticket_page(neighbour, duplicate)
    assert f"您反映的问题已与工单 <span class=\"nowrap\">{kept}</span> 合并办理" in page
    assert "社区已收到，正在安排人员" in page and "3号楼楼道灯不亮，晚上看不见" in page
    assert "3号楼2单元楼道灯坏了" not in page  # the neighbour's words stay theirs
    # the kept ticket's link (in the messages they hear) opens their own page; nobody else's
    followed = neighbour.client.get(neighbour.url(f"/tickets/{kept}"))
    assert followed.status_code == 302 and followed.headers["Location"].endswith(f"/tickets/{duplicate}")
    assert third.client.get(third.url(f"/tickets/{kept}")).status_code == 404
    assert post(third, kept, "nudge").status_code == 404
    assert post(neighbour, kept, "withdraw").status_code == 409  # only the reporter may withdraw


def test_a_merged_reporter_rates_the_kept_ticket_and_may_change_it(resident, neighbour, org, clock):
    kept, duplicate = merged_pair(resident, neighbour, org)
    resolve(org, kept)
    page = ticket_page(neighbour, duplicate)
    assert "请您评价" in page and f'action="/h5/yanchenglu/tickets/{kept}/rating"' in page
    rated = neighbour.rate(kept, rating="satisfied", comment="谢谢")
    assert rated.status_code == 302
    ticket = ticket_by_number(kept)
    assert ticket.status is Status.CLOSED and ticket.events[-2].data["resident_id"] is not None
    assert "您的评价" in ticket_page(neighbour, duplicate)
    mine = ticket_page(resident, kept)
    assert "居民的评价" in mine and "修改评价" not in mine
    refused = post(resident, kept, "rating/change", rating="unsatisfied")
    assert refused.status_code == 409 and "其他居民给的" in page_text(refused)
    assert post(neighbour, kept, "rating/change", rating="basically_satisfied").status_code == 302
    assert ticket_by_number(kept).rating == "basically_satisfied"
