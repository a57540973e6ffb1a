"""Call-backs (回访) from the console and the API: the timeline entry, the rating they may set, and refusals."""
import pytest
from sqlalchemy import select

from dispatch.errors import Conflict
from dispatch.extensions import db
from dispatch.org.principal import Principal
from dispatch.resident import services as resident
from dispatch.tickets import pipeline
from dispatch.tickets.lifecycle import Status
from dispatch.tickets.models import Ticket, TicketEvent
from tests.conftest import csrf_from, login


def page(response):
    return response.get_data(as_text=True)


def fetch(number):
    db.session.expire_all()
    return db.session.scalar(select(Ticket).where(Ticket.number == number))


@pytest.fixture
def resolved(org, make_ticket):
    """A ticket of 盐城路社区 accepted and resolved by its director, not rated yet."""
    ticket = make_ticket()
    director = Principal.from_user(org.director)
    pipeline.act(director, ticket, "accept")
    pipeline.act(director, ticket, "resolve", note="已更换楼道灯泡")
    return ticket


def call_back(client, ticket, follow=True, **form):
    """POST the ticket page's call-back form with the version the page showed."""
    data = {"csrf_token": csrf_from(client, "/"), "version": fetch(ticket.number).version, **form}
    return client.post(f"/tickets/{ticket.number}/callbacks", data=data, follow_redirects=follow)


def kinds(number):
    return [e.kind for e in fetch(number).events]


def test_a_satisfied_call_back_rates_and_closes_the_ticket(client, org, resolved, clock):
    login(client, "staff")
    assert "data-callback-form" in page(client.get(f"/tickets/{resolved.number}"))
    clock.advance(days=1)
    body = page(call_back(client, resolved, reached="1", rating="satisfied", note="居民说灯已经亮了"))
    assert "已记录回访：居民满意，工单已关闭" in body
    ticket = fetch(resolved.number)
    assert ticket.status is Status.CLOSED and (ticket.rating, ticket.rated_at) == ("satisfied", clock())
    callback, rated, close = ticket.events[-3:]
    assert (callback.kind, callback.note, callback.data) == ("callback", "居民说灯已经亮了",
                                                           {"reached": True, "rating": "satisfied"})
    assert (rated.kind, rated.data) == ("rated", {"rating": "satisfied", "source": "callback"})
    assert (close.kind, close.note, close.actor_label) == ("close", "回访满意，关闭", "盐城路社工（社区工作人员）")
    assert "回访</strong>" in body and "已接通 · 居民满意" in body and "满意（电话回访）" in body
    assert "来自工单" not in body  # the rating's source is not a merged ticket


def test_basically_satisfied_also_closes(client, org, resolved):
    login(client, "director")
    call_back(client, resolved, reached="1", rating="basically_satisfied")
    ticket = fetch(resolved.number)
    assert ticket.status is Status.CLOSED and ticket.events[-1].note == "回访基本满意，关闭"


def test_an_unsatisfied_call_back_keeps_the_rating_and_offers_the_redo(client, org, resolved, clock):
    login(client, "director")
    body = page(call_back(client, resolved, reached="1", rating="unsatisfied", note="晚上又不亮了"))
    ticket = fetch(resolved.number)
    assert ticket.status is Status.RESOLVED and ticket.rating == "unsatisfied" and ticket.rating_comment is None
    assert kinds(resolved.number)[-2:] == ["callback", "rated"]
    assert "请点「重办…」" in body and 'data-action="reopen"' in body
    with pytest.raises(Conflict, match="已经评价过"):  # the resident's own rating comes too late
        resident.rate(ticket, "satisfied", "", clock())
    # a second call-back does not replace the rating of this resolution
    body = page(call_back(client, resolved, reached="1", rating="satisfied"))
    assert "这次办结已有评价" in body and fetch(resolved.number).rating == "unsatisfied"
    assert fetch(resolved.number).status is Status.RESOLVED


def test_an_unanswered_call_back_is_only_noted(client, org, resolved):
    login(client, "director")
    body = page(call_back(client, resolved, reached="0", note="无人接听，明天再打"))
    assert "已记录回访：未接通" in body and "无人接听，明天再打" in body
    ticket = fetch(resolved.number)
    assert ticket.status is Status.RESOLVED and ticket.rating is None
    assert ticket.events[-1].kind == "callback" and ticket.events[-1].data == {"reached": False, "rating": None}


def test_a_call_back_on_a_closed_ticket_leaves_the_residents_rating(client, org, resolved, clock):
    resident.rate(resolved, "unsatisfied", "太慢", clock(), redo=False)
    login(client, "director")
    body = page(call_back(client, resolved, reached="1", rating="satisfied", note="居民说后来挺好"))
    assert "工单已关闭，满意度只记在回访记录里" in body
    ticket = fetch(resolved.number)
    assert (ticket.status, ticket.rating, ticket.rating_comment) == (Status.CLOSED, "unsatisfied", "太慢")
    assert kinds(resolved.number)[-1] == "callback"


@pytest.mark.parametrize("form, message", [
    ({"note": "打过了"}, "请选择电话是否接通"),
    ({"reached": "0", "rating": "satisfied"}, "选了「未接通」就不能记录满意度"),
    ({"reached": "1", "rating": "great"}, "满意度请选择"),
    ({"reached": "1", "note": "很" * 501}, "回访情况最多 500 字，现在是 501 字"),
])
def test_a_call_back_that_cannot_be_kept_says_why(client, org, resolved, form, message):
    login(client, "director")
    response = call_back(client, resolved, follow=False, **form)
    assert response.status_code == 422 and message in page(response)
    assert form.get("note", "") in page(response)  # what was typed is still there
    assert kinds(resolved.number)[-1] == "resolve"


def test_call_backs_wait_for_the_resolution_and_the_right_people(client, org, resolved, make_ticket):
    fresh = make_ticket()
    login(client, "director")
    assert "data-callback-form" not in page(client.get(f"/tickets/{fresh.number}"))
    response = call_back(client, fresh, follow=False, reached="0")
    assert response.status_code == 409 and "工单办结后才能回访" in page(response)
    login(client, "staff3")
    assert call_back(client, resolved, follow=False, reached="0").status_code == 404
    assert kinds(fresh.number) == ["created"] and kinds(resolved.number)[-1] == "resolve"


def test_a_volunteer_may_not_record_a_call_back(client, org, make_ticket):
    ticket = make_ticket()
    admin, volunteer = Principal.from_user(org.admin), Principal.from_user(org.volunteer)
    pipeline.act(admin, ticket, "accept")
    pipeline.act(admin, ticket, "dispatch", assignee="volunteer")
    pipeline.act(volunteer, ticket, "sign")
    pipeline.act(volunteer, ticket, "resolve", note="修好了")
    login(client, "volunteer")
    assert "data-callback-form" not in page(client.get(f"/tickets/{ticket.number}"))
    assert call_back(client, ticket, follow=False, reached="0").status_code == 403
    assert kinds(ticket.number)[-1] == "resolve"


def test_a_stale_page_gets_409_and_the_ticket_as_it_is_now(client, org, resolved, clock):
    login(client, "director")
    seen = fetch(resolved.number).version
    clock.advance(minutes=5)  # the comment touches the ticket: a new version
    pipeline.act(Principal.from_user(org.staff), fetch(resolved.number), "comment", "居民来电说灯又闪")
    response = client.post(f"/tickets/{resolved.number}/callbacks", data={
        "csrf_token": csrf_from(client, "/"), "version": seen, "reached": "1", "rating": "satisfied"})
    assert response.status_code == 409 and "居民来电说灯又闪" in page(response)
    assert fetch(resolved.number).status is Status.RESOLVED and kinds(resolved.number)[-1] == "comment"


def test_the_api_records_a_call_back(api_as, org, resolved):
    api = api_as("community:yanchenglu")
    url = f"/api/v1/tickets/{resolved.number}/callbacks"
    assert api.post(url, json={"rating": "satisfied"}).status_code == 422
    response = api.post(url, json={"reached": True, "rating": "basically_satisfied", "note": "满意",
                                   "version": resolved.version})
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "closed" and [e["kind"] for e in body["timeline"]][-3:] == ["callback", "rated", "close"]
    assert body["timeline"][-3]["data"] == {"reached": True, "rating": "basically_satisfied"}
    again = api.post(url, json={"reached": False, "version": 1})
    assert again.status_code == 409
    assert db.session.scalar(select(TicketEvent.kind).order_by(TicketEvent.id.desc()).limit(1)) == "close"
