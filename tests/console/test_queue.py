"""The console queue: what awaits each role first, the view and order each user keeps, numbers typed in search,
and the live poll that tells an open console what changed."""
import re
from datetime import timedelta

import pytest
from flask import g
from dispatch.extensions import db
from dispatch.org.models import User
from dispatch.org.principal import Principal
from dispatch.tickets import pipeline
from dispatch.tickets.models import Priority, Ticket
from tests.conftest import login


def page(response):
    return response.get_data(as_text=True)


def numbers_in(body):
    return re.findall(r'<tr class="[^"]*"[^>]* data-number="([^"]+)"', body)


def as_admin(org):
    return Principal.from_user(org.admin)


def forget_last_request():
    """The tests' app context outlives requests: forget the last one's user and CSRF token (a new browser)."""
    g.pop("_login_user", None)
    g.pop("csrf_token", None)


def due(ticket, at):
    """Give a ticket a running deadline (the queue's time left) without a policy."""
    ticket.resolution_due_at = ticket.sla_deadline_at = at
    db.session.commit()
    return ticket


@pytest.fixture
def day(org, make_ticket, clock):
    """A director's morning: an old urgent fall now overdue, a newer normal ticket with time left, a newer 谢谢,
    and an urgent ticket long since closed."""
    fall = make_ticket("我母亲在家摔倒了起不来", priority=Priority.URGENT)
    due(fall, clock() + timedelta(hours=2))
    done = make_ticket("楼道里有煤气味，已经处理好了", priority=Priority.URGENT)
    pipeline.act(as_admin(org), done, "accept")
    pipeline.act(as_admin(org), done, "resolve", note="已关阀门")
    pipeline.act(as_admin(org), done, "close")
    clock.advance(hours=3)
    light = due(make_ticket("3号楼走廊灯坏了"), clock() + timedelta(days=2))
    clock.advance(minutes=5)
    thanks = make_ticket("谢谢")
    return {"fall": fall.number, "done": done.number, "light": light.number, "thanks": thanks.number}


# ---- what comes first ----

def test_director_sees_the_urgent_overdue_fall_first_and_no_closed_ticket(client, day):
    login(client, "director")
    body = page(client.get("/"))
    assert numbers_in(body) == [day["fall"], day["light"], day["thanks"]]
    assert "已经处理好了" not in body
    assert re.search(r'data-view="mine"\s+class="tab active"', body)


def test_closed_tickets_are_one_click_away(client, day):
    login(client, "director")
    assert numbers_in(page(client.get("/?view=done"))) == [day["done"]]
    assert numbers_in(page(client.get("/?view=all&sort=newest"))) == [
        day["thanks"], day["light"], day["done"], day["fall"]]


def test_what_awaits_a_community_is_what_it_must_act_on(client, org, make_ticket, clock):
    held = make_ticket("志愿者在修的水管")
    pipeline.act(as_admin(org), held, "accept")
    pipeline.act(as_admin(org), held, "dispatch", assignee="volunteer")
    late = make_ticket("志愿者拖了很久的路灯")
    pipeline.act(as_admin(org), late, "accept")
    pipeline.act(as_admin(org), late, "dispatch", assignee="volunteer")
    due(late, clock() - timedelta(days=6))
    fresh = make_ticket("刚来的新工单")
    login(client, "director")
    body = page(client.get("/"))
    assert numbers_in(body) == [late.number, fresh.number]  # overdue in a volunteer's hands needs the director too
    assert "已超时" in body
    assert set(numbers_in(page(client.get("/?view=open")))) == {held.number, late.number, fresh.number}


def test_an_urgent_ticket_stays_in_the_directors_view_while_a_volunteer_holds_it(client, org, make_ticket):
    fall = make_ticket("我老伴在卫生间摔倒了起不来", priority=Priority.URGENT)
    pipeline.act(as_admin(org), fall, "accept")
    pipeline.act(as_admin(org), fall, "dispatch", assignee="volunteer")
    routine = make_ticket("楼道灯不亮")
    pipeline.act(as_admin(org), routine, "accept")
    pipeline.act(as_admin(org), routine, "dispatch", assignee="volunteer")
    login(client, "director")
    assert numbers_in(page(client.get("/"))) == [fall.number]  # followed until done; the routine one is not


def test_a_department_awaits_what_was_forwarded_to_it(client, org, make_ticket):
    sent = make_ticket("水管漏水")
    make_ticket("楼道灯坏了")
    pipeline.act(as_admin(org), sent, "accept")
    pipeline.act(as_admin(org), sent, "dispatch", department="water")
    login(client, "dept")
    body = page(client.get("/"))
    assert numbers_in(body) == [sent.number]
    assert 'class="c-comm">社区</th>' in body and 'class="c-holder"' not in body  # its rows come from anywhere


def test_columns_say_something_to_this_user(client, org, make_ticket):
    make_ticket("3号楼走廊灯坏了", address="盐城路8号")
    login(client, "director")
    body = page(client.get("/"))
    assert 'class="c-comm"' not in body  # always their own community
    assert 'class="c-holder">承办</th>' in body and "盐城路8号" in body
    login(client, "street")
    assert 'class="c-comm">社区</th>' in page(client.get("/"))


# ---- remembered per user ----

def test_the_view_and_order_are_remembered_on_the_account(client, app, org, day):
    login(client, "director")
    client.get("/?view=all&sort=newest")
    assert numbers_in(page(client.get("/")))[0] == day["thanks"]  # the next visit, no query string
    db.session.expire_all()
    assert db.session.get(User, org.director.id).preferences == {"queue": {"view": "all", "sort": "newest"}}
    forget_last_request()
    other = app.test_client()  # another browser: the choice lives on the account, not in a cookie
    login(other, "director")
    assert re.search(r'data-view="all"\s+class="tab active"', page(other.get("/")))
    forget_last_request()
    colleague = app.test_client()
    login(colleague, "staff")  # a colleague keeps the defaults
    assert numbers_in(page(colleague.get("/"))) == [day["fall"], day["light"], day["thanks"]]


def test_an_unknown_view_or_order_is_named_and_the_kept_one_used(client, day):
    login(client, "director")
    client.get("/?view=done")
    response = client.get("/?view=bogus&sort=wrong")
    body = page(response)
    assert response.status_code == 200
    assert "「视图」的取值无效（bogus）" in body and "「排序」的取值无效（wrong）" in body
    assert numbers_in(body) == [day["done"]]


# ---- a number typed in search ----

def test_a_ticket_number_typed_in_search_opens_the_ticket(client, day):
    login(client, "director")
    response = client.get("/", query_string={"q": f" {day['light']} "})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/tickets/{day['light']}")
    bare = day["light"].replace("-", "")
    assert client.get("/", query_string={"q": bare}).headers["Location"].endswith(f"/tickets/{day['light']}")


def test_a_number_out_of_scope_reads_like_a_missing_one(client, org, make_ticket):
    elsewhere = make_ticket("香港花园的水管漏了", community=org.c3)
    login(client, "director")
    hidden = client.get("/", query_string={"q": elsewhere.number})
    missing = client.get("/", query_string={"q": "20991231-9999"})
    assert hidden.status_code == missing.status_code == 404
    assert f"没有找到工单 {elsewhere.number}" in page(hidden) and "没有找到工单 20991231-9999" in page(missing)
    assert "香港花园的水管漏了" not in page(hidden)
    assert page(hidden).replace(elsewhere.number, "N") == page(missing).replace("20991231-9999", "N")


# ---- the live poll ----

def cursor_in(body):
    return re.search(r'data-cursor="(\d+)"', body).group(1)


def test_the_poll_reports_new_tickets_in_scope_only(client, org, make_ticket, clock):
    make_ticket("早就有的工单")
    clock.advance(minutes=1)  # older than the poll's look back (LAG) by the time the page opens
    login(client, "director")
    cursor = cursor_in(page(client.get("/")))
    clock.advance(seconds=30)
    new = make_ticket("我母亲在家摔倒了起不来", priority=Priority.URGENT)
    make_ticket("香港花园的水管漏了", community=org.c3)  # another community's: not for this director
    response = client.get("/queue/changes", query_string={"since": cursor})
    assert response.status_code == 200 and response.headers["ETag"]
    items = response.get_json()["items"]
    assert [(i["number"], i["urgent"], i["awaits"]) for i in items] == [(new.number, True, True)]
    assert int(response.get_json()["cursor"]) > int(cursor)


def test_the_poll_reports_changes_and_nothing_when_nothing_changed(client, org, make_ticket, clock):
    ticket = make_ticket("3号楼走廊灯坏了")
    login(client, "director")
    clock.advance(minutes=1)
    cursor = cursor_in(page(client.get("/")))
    first = client.get("/queue/changes", query_string={"since": cursor})
    assert first.get_json() == {"cursor": int(cursor), "items": []}
    again = client.get("/queue/changes", query_string={"since": cursor}, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    clock.advance(minutes=1)
    pipeline.act(as_admin(org), db.session.get(Ticket, ticket.id), "accept")
    changed = client.get("/queue/changes", query_string={"since": cursor}, headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200
    assert [(i["number"], i["status"], i["version"]) for i in changed.get_json()["items"]] == [
        (ticket.number, "已受理", 2)]
    login(client, "staff3")  # another community's staff hear nothing of it
    assert client.get("/queue/changes", query_string={"since": cursor}).get_json()["items"] == []


def test_the_poll_refuses_a_cursor_it_did_not_make_and_needs_a_login(client, org):
    assert client.get("/queue/changes?since=1").status_code == 302
    login(client, "director")
    response = client.get("/queue/changes?since=yesterday")
    assert 400 <= response.status_code < 500 and "请重新打开工单队列页面" in page(response)


def test_urgent_first_ranks_every_priority_before_the_deadline(client, make_ticket, clock):
    slow = due(make_ticket("想和外地的孙子视频，不会弄", priority=Priority.LOW), clock() - timedelta(days=50))
    high = due(make_ticket("楼里停水了，老人做不了饭", priority=Priority.HIGH), clock() - timedelta(hours=5))
    login(client, "director")
    assert numbers_in(page(client.get("/?sort=urgent"))) == [high.number, slow.number]
    assert numbers_in(page(client.get("/?sort=time_left"))) == [slow.number, high.number]
