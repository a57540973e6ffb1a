"""The tickets API through the real HTTP layer: creation, listing, scopes, actions, errors."""
import json

import pytest
from sqlalchemy import select

from dispatch.errors import Invalid
from dispatch.extensions import db
from dispatch.org.principal import Principal
from dispatch.tickets import pipeline
from dispatch.org.models import Resident
from dispatch.tickets.models import Ticket


def create(api, **body):
    body.setdefault("description", "我是古田路16号3号楼2单元的居民，我单元3楼的走廊灯坏了，能否派人来维修？")
    body.setdefault("community", "yanchenglu")
    return api.post("/api/v1/tickets", json=body)


def error_of(response):
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    return body["error"]


def test_create_classifies_numbers_and_starts_the_timeline(api, clock):
    response = create(api)
    assert response.status_code == 201
    ticket = response.get_json()
    assert ticket["number"] == "20261120-0001"
    assert ticket["category"] == "lighting" and ticket["status"] == "new" and ticket["channel"] == "api"
    assert response.headers["Location"].endswith("/api/v1/tickets/20261120-0001")
    assert [e["kind"] for e in ticket["timeline"]] == ["created"]
    assert ticket["timeline"][0]["data"]["suggested_category"] == "lighting"
    assert create(api).get_json()["number"] == "20261120-0002"


def test_numbers_follow_the_shanghai_date(api, clock):
    clock.advance(hours=14)  # 16:00 UTC is already the next day in Shanghai
    assert create(api).get_json()["number"] == "20261121-0001"


def test_urgent_phrase_raises_priority(api):
    ticket = create(api, description="楼道里有很大的煤气味，快来人看看！").get_json()
    assert ticket["priority"] == "urgent"


def test_explicit_category_and_priority_win_over_the_classifier(api):
    ticket = create(api, category="property", priority="low").get_json()
    assert (ticket["category"], ticket["priority"]) == ("property", "low")


@pytest.mark.parametrize("body, field", [
    ({"description": ""}, "description"),
    ({"description": "   "}, "description"),
    ({"description": 42}, "description"),
    ({"description": "灯坏了" * 2000}, "description"),
    ({"community": "NOT A CODE"}, "community"),
    ({"community": "nowhere"}, "community"),
    ({"category": "nonsense"}, "category"),
    ({"priority": "asap"}, "priority"),
    ({"channel": "wechat_text"}, "channel"),
    ({"resident": {"phone": "call me"}}, "resident"),
    ({"resident": "13812345678"}, "resident"),
    ({"surprise": 1}, "surprise"),
])
def test_invalid_fields_answer_422_naming_the_field(api, body, field):
    response = create(api, **body)
    assert response.status_code == 422
    assert field in error_of(response)["fields"]


def test_a_caller_is_one_resident_per_phone_number_and_keeps_the_newest_name(api):
    for name in ("王阿姨", "王秀兰", None):
        caller = {"phone": "13812345678", **({"name": name} if name else {})}
        assert create(api, resident=caller).status_code == 201
    residents = db.session.scalars(select(Resident).where(Resident.phone == "13812345678")).all()
    assert [r.name for r in residents] == ["王秀兰"]  # a call without a name does not erase it
    assert len(db.session.scalars(select(Ticket).where(Ticket.resident_id == residents[0].id)).all()) == 3


def test_missing_description_is_named(api):
    response = api.post("/api/v1/tickets", json={"community": "yanchenglu"})
    assert response.status_code == 422
    assert "description" in error_of(response)["fields"]


@pytest.mark.parametrize("data, content_type, status", [
    ("{not json", "application/json", 400),
    ("[1, 2]", "application/json", 400),
    ("description=x", "application/x-www-form-urlencoded", 415),
])
def test_malformed_bodies(api, data, content_type, status):
    response = api.client.post("/api/v1/tickets", data=data, content_type=content_type, headers=api.headers)
    assert response.status_code == status
    assert error_of(response)["message"]


def test_huge_body_is_413(api):
    body = json.dumps({"description": "x" * 200_000, "community": "yanchenglu"})
    response = api.client.post("/api/v1/tickets", data=body, content_type="application/json",
                               headers=api.headers)
    assert response.status_code == 413
    assert error_of(response)["code"] == "payload_too_large"


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic abc", "Bearer dsp_forged"])
def test_missing_or_wrong_token_is_401(client, org, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/tickets", headers=headers)
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"


def test_revoked_token_is_refused(client, org):
    from dispatch.org.services import create_token, revoke_token
    _, raw = create_token("temp", "district")
    assert client.get("/api/v1/tickets", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    revoke_token("temp")
    assert client.get("/api/v1/tickets", headers={"Authorization": f"Bearer {raw}"}).status_code == 401


def test_other_communities_tickets_are_404_exactly_like_missing_ones(api_as, make_ticket, org):
    theirs = make_ticket(community=org.c3)
    mine = api_as("community:yanchenglu")
    hidden = mine.get(f"/api/v1/tickets/{theirs.number}")
    missing = mine.get("/api/v1/tickets/20991231-9999")
    assert hidden.status_code == missing.status_code == 404
    assert error_of(hidden)["code"] == error_of(missing)["code"] == "not_found"
    for path in ("accept", "comments", "classify", "transitions"):
        response = mine.post(f"/api/v1/tickets/{theirs.number}/{path}", json={"note": "x", "action": "accept",
                                                                             "priority": "low"})
        assert response.status_code == 404, path


def test_scoped_token_cannot_create_elsewhere(api_as, org):
    response = create(api_as("community:yanchenglu"), community="xiangganghuayuan")
    assert response.status_code == 404


def test_community_token_defaults_to_its_community(api_as):
    body = {"description": "小区垃圾桶满了好几天没人清"}
    response = api_as("community:yanchenglu").post("/api/v1/tickets", json=body)
    assert response.status_code == 201 and response.get_json()["community"] == "yanchenglu"


def test_list_is_scoped_and_filtered(api_as, make_ticket, org):
    make_ticket(community=org.c1)
    make_ticket("家里停水了", community=org.c2)
    make_ticket(community=org.c3)
    street = api_as("street:zhanshan").get("/api/v1/tickets").get_json()
    assert street["total"] == 2
    assert {t["community"] for t in street["items"]} == {"yanchenglu", "fuzhoulu"}
    district = api_as("district")
    assert district.get("/api/v1/tickets").get_json()["total"] == 3
    assert district.get("/api/v1/tickets?category=water_power").get_json()["total"] == 1
    assert district.get("/api/v1/tickets?street=zhuhailu").get_json()["total"] == 1
    assert district.get("/api/v1/tickets?status=accepted").get_json()["total"] == 0
    assert district.get("/api/v1/tickets?channel=phone&q=停水").get_json()["total"] == 1


def test_list_paginates(api, make_ticket):
    for _ in range(5):
        make_ticket()
    page = api.get("/api/v1/tickets?per_page=2&page=3").get_json()
    assert (page["total"], page["pages"], len(page["items"])) == (5, 3, 1)
    assert page["items"][0]["number"] == "20261120-0001"  # newest first: the first one is last


def test_list_date_range_and_overdue(api, make_ticket, clock, org):
    old = make_ticket()
    clock.advance(days=3)
    make_ticket()
    assert api.get("/api/v1/tickets?created_from=2026-11-21").get_json()["total"] == 1
    assert api.get("/api/v1/tickets?created_to=2026-11-21").get_json()["total"] == 1
    old.resolution_due_at = clock.at
    from dispatch.extensions import db
    db.session.commit()
    clock.advance(minutes=1)
    overdue = api.get("/api/v1/tickets?overdue=true").get_json()
    assert [t["number"] for t in overdue["items"]] == [old.number]


@pytest.mark.parametrize("query", ["status=bogus", "page=0", "per_page=1000", "created_from=yesterday",
                                   "overdue=maybe", "page=abc"])
def test_bad_list_filters_are_422(api, query):
    response = api.get(f"/api/v1/tickets?{query}")
    assert response.status_code == 422
    assert error_of(response)["fields"]


def test_lifecycle_through_the_api(api, make_ticket, org):
    number = make_ticket().number
    url = f"/api/v1/tickets/{number}"
    assert api.post(url + "/accept", json={}).get_json()["status"] == "accepted"
    dispatched = api.post(url + "/transitions", json={"action": "dispatch", "assignee": "volunteer"}).get_json()
    assert dispatched["status"] == "dispatched" and dispatched["assignee"] == "volunteer"
    # The volunteer holds it now: the token may not sign, start or resolve in their place.
    refused = api.post(url + "/transitions", json={"action": "sign"})
    assert refused.status_code == 403 and "李师傅" in error_of(refused)["message"]
    volunteer = Principal.from_user(org.volunteer)
    for action in ("sign", "start"):
        pipeline.act(volunteer, db.session.scalar(select(Ticket).where(Ticket.number == number)), action)
    assert api.post(url + "/transitions", json={"action": "resolve", "note": "已更换声控灯"}).status_code == 403
    pipeline.act(volunteer, db.session.scalar(select(Ticket).where(Ticket.number == number)), "resolve",
                 note="已更换声控灯")
    resolved = api.get(url).get_json()
    assert resolved["status"] == "resolved" and resolved["resolved_at"]
    kinds = [(e["kind"], e["from_status"], e["to_status"]) for e in resolved["timeline"]]
    assert kinds[-1] == ("resolve", "in_progress", "resolved")
    assert len(kinds) == 6
    # Resolved, the task has ended: the community's own staff act on it again (close).
    assert api.post(url + "/transitions", json={"action": "close"}).get_json()["status"] == "closed"


def test_illegal_transition_is_409_naming_state_and_allowed_actions(api, make_ticket):
    number = make_ticket().number
    response = api.post(f"/api/v1/tickets/{number}/transitions", json={"action": "resolve", "note": "x"})
    assert response.status_code == 409
    message = error_of(response)["message"]
    assert "待受理" in message and "受理" in message and "(accept)" not in message


def test_note_required_for_return(api, make_ticket, org):
    number = make_ticket().number
    api.post(f"/api/v1/tickets/{number}/accept", json={})
    for action in ("wait_for_resident", "invalidate"):
        response = api.post(f"/api/v1/tickets/{number}/transitions", json={"action": action})
        assert response.status_code == 422 and "note" in error_of(response)["fields"]
    api.post(f"/api/v1/tickets/{number}/transitions", json={"action": "dispatch", "department": "water"})
    ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
    with pytest.raises(Invalid) as refused:  # the department itself, without a reason
        pipeline.act(Principal.from_user(org.dept), ticket, "return")
    assert "note" in refused.value.fields


def test_wait_and_resume_returns_to_previous_state(api, make_ticket, org):
    url = f"/api/v1/tickets/{make_ticket().number}/transitions"
    api.post(url.replace("transitions", "accept"), json={})
    assert api.post(url, json={"action": "wait_for_resident", "note": "家中无人"}).get_json()["status"] == \
        "waiting_resident"
    assert api.post(url, json={"action": "resume"}).get_json()["status"] == "accepted"
    api.post(url, json={"action": "dispatch", "assignee": "volunteer"})
    ticket = db.session.scalar(select(Ticket).where(Ticket.number == url.split("/")[-2]))
    volunteer = Principal.from_user(org.volunteer)
    pipeline.act(volunteer, ticket, "sign")
    pipeline.act(volunteer, ticket, "wait_for_resident", note="家中无人")
    assert pipeline.act(volunteer, ticket, "resume").status.value == "signed"


def test_dispatch_target_is_validated(api, make_ticket):
    url = f"/api/v1/tickets/{make_ticket().number}"
    api.post(url + "/accept", json={})
    for body in ({}, {"assignee": "staff"}, {"department": "nowhere"},
                 {"assignee": "volunteer", "department": "water"}):
        response = api.post(url + "/transitions", json={"action": "dispatch", **body})
        assert response.status_code == 422, body


def test_stale_version_is_409_and_does_not_overwrite(api, make_ticket):
    number = make_ticket().number
    seen = api.get(f"/api/v1/tickets/{number}").get_json()["version"]
    assert api.post(f"/api/v1/tickets/{number}/accept", json={"version": seen}).status_code == 200
    stale = api.post(f"/api/v1/tickets/{number}/classify", json={"priority": "low", "version": seen})
    assert stale.status_code == 409 and "刷新" in error_of(stale)["message"]
    assert api.get(f"/api/v1/tickets/{number}").get_json()["priority"] != "low"


@pytest.mark.parametrize("version", [1.5, 1.0, "1.5", "１", "1_0", True, 0, -1, "", 2**31])
def test_a_version_sent_must_be_a_positive_integer(api, make_ticket, version):
    number = make_ticket().number
    response = api.post(f"/api/v1/tickets/{number}/accept", json={"version": version})
    assert response.status_code == 422 and error_of(response)["fields"]["version"]
    assert api.get(f"/api/v1/tickets/{number}").get_json()["status"] == "new"


@pytest.mark.parametrize("body", [{}, {"version": None}, {"version": 1}, {"version": "1"}])
def test_a_version_left_out_or_sent_as_an_integer_is_taken(api, make_ticket, body):
    assert api.post(f"/api/v1/tickets/{make_ticket().number}/accept", json=body).status_code == 200


def test_a_long_note_is_refused_with_the_limit_and_the_length(api, make_ticket):
    number = make_ticket().number
    response = api.post(f"/api/v1/tickets/{number}/comments", json={"note": "灯" * 2001})
    assert response.status_code == 422
    assert error_of(response)["fields"]["note"] == ["说明最多 2000 字，现在是 2001 字，请删减一些"]


def test_classify_override_is_on_the_timeline(api, make_ticket):
    number = make_ticket().number
    ticket = api.post(f"/api/v1/tickets/{number}/classify",
                      json={"category": "property", "priority": "high", "note": "其实是物业的事"}).get_json()
    event = ticket["timeline"][-1]
    assert event["kind"] == "classified" and event["note"] == "其实是物业的事"
    assert event["data"] == {"before": {"category": "lighting", "priority": "normal"},
                             "after": {"category": "property", "priority": "high"}}
    assert api.post(f"/api/v1/tickets/{number}/classify", json={}).status_code == 422


def test_comments(api, make_ticket):
    number = make_ticket().number
    response = api.post(f"/api/v1/tickets/{number}/comments", json={"note": "已电话联系居民"})
    assert response.status_code == 201
    assert response.get_json()["timeline"][-1]["note"] == "已电话联系居民"
    assert api.post(f"/api/v1/tickets/{number}/comments", json={"note": ""}).status_code == 422


def test_merge_closes_the_duplicate_and_notes_the_survivor(api, make_ticket):
    first, second = make_ticket().number, make_ticket().number
    merged = api.post(f"/api/v1/tickets/{second}/transitions", json={"action": "merge", "into": first}).get_json()
    assert merged["status"] == "merged"
    survivor = api.get(f"/api/v1/tickets/{first}").get_json()
    assert survivor["timeline"][-1]["kind"] == "merged_in"
    again = api.post(f"/api/v1/tickets/{first}/transitions", json={"action": "merge", "into": second})
    assert again.status_code == 409


def test_phone_masked_outside_the_residents_community(api_as, make_ticket, org):
    number = make_ticket(resident_phone="13812345678").number
    own = api_as("community:yanchenglu").get(f"/api/v1/tickets/{number}").get_json()
    street = api_as("street:zhanshan").get(f"/api/v1/tickets/{number}").get_json()
    assert own["resident"]["phone"] == "13812345678"
    assert street["resident"]["phone"] == "138****5678"


def test_categories_and_communities(api_as):
    categories = api_as("district").get("/api/v1/categories").get_json()["items"]
    assert len(categories) >= 12 and categories[0]["code"] == "water_power"
    communities = api_as("street:zhanshan").get("/api/v1/communities").get_json()["items"]
    assert {c["code"] for c in communities} == {"yanchenglu", "fuzhoulu"}
    assert communities[0]["street"]["name"] == "湛山街道"


def test_unknown_api_path_and_method_use_the_error_body(api):
    assert error_of(api.get("/api/v1/nothing-here"))["code"] == "not_found"
    response = api.client.delete("/api/v1/tickets", headers=api.headers)
    assert response.status_code == 405 and error_of(response)["code"] == "method_not_allowed"


def test_version_column_rejects_a_concurrent_write(app, make_ticket, org):
    """Two sessions read the same version; the second write fails instead of overwriting."""
    from sqlalchemy.orm import Session
    from sqlalchemy.orm.exc import StaleDataError
    from dispatch.extensions import db
    number = make_ticket().number
    with Session(db.engine) as first, Session(db.engine) as second:
        a = first.query(Ticket).filter_by(number=number).one()
        b = second.query(Ticket).filter_by(number=number).one()
        a.address = "甲"
        first.commit()
        b.address = "乙"
        with pytest.raises(StaleDataError):
            second.commit()
    db.session.expire_all()
    assert db.session.query(Ticket).filter_by(number=number).one().address == "甲"


def test_a_token_cannot_take_the_residents_own_actions(api, make_ticket):
    number = make_ticket().number
    response = api.post(f"/api/v1/tickets/{number}/transitions", json={"action": "withdraw_by_resident"})
    assert response.status_code == 422 and "action" in error_of(response)["fields"]
