"""Likely duplicates on the ticket page, merging them with their reporters, and chasing late tickets."""
from datetime import timedelta

from sqlalchemy import select

from dispatch.tickets import pipeline
from dispatch.extensions import db
from dispatch.org.models import Resident
from dispatch.org.principal import Principal
from dispatch.tickets import duplicates, services
from dispatch.tickets.models import TicketEvent, TicketReporter
from tests.conftest import csrf_from, login


def _resident(name, phone):
    resident = Resident(name=name, phone=phone)
    db.session.add(resident)
    db.session.commit()
    return resident


def test_similarity_is_about_the_same_words_not_the_same_length():
    assert duplicates.similarity("3号楼2单元走廊灯坏了", "3号楼2单元走廊的灯坏了") > 0.6
    assert duplicates.similarity("3号楼2单元走廊灯坏了", "小区门口垃圾没人清理") < 0.1
    assert duplicates.similarity("", "灯坏了") == 0.0


def test_neighbours_reporting_the_same_light_are_offered_for_merging(client, org, make_ticket, clock):
    first = make_ticket("古田路16号3号楼2单元3楼走廊灯坏了", address="古田路16号3号楼2单元")
    clock.advance(hours=3)
    second = make_ticket("3楼楼道灯不亮了，晚上很黑", address="古田路16号3号楼2单元")
    make_ticket("小区门口垃圾两天没人清理")  # another category
    make_ticket("5号楼的路灯坏了", community=org.c2)  # another community
    login(client, "director")
    page = client.get(f"/tickets/{second.number}").get_data(as_text=True)
    assert f'data-alike="{first.number}"' in page and "地址相同" in page
    assert page.count("data-alike=") == 1


def test_nothing_outside_the_window_is_offered(org, make_ticket, clock):
    old = make_ticket("3号楼走廊灯坏了", address="古田路16号3号楼")
    clock.advance(days=8)
    new = make_ticket("3号楼走廊灯坏了", address="古田路16号3号楼")
    assert duplicates.likely_duplicates(new, 7) == []
    assert [t.number for t, _ in duplicates.likely_duplicates(new, 10)] == [old.number]


def test_merging_moves_the_reporters_to_the_surviving_ticket(client, org, make_ticket):
    keep = make_ticket("3号楼走廊灯坏了", resident=_resident("王阿姨", "13800000001"))
    dup1 = make_ticket("3号楼走廊灯不亮", resident=_resident("李大爷", "13800000002"))
    dup2 = make_ticket("3号楼楼道灯坏了", resident=_resident("赵先生", "13800000003"))
    admin = Principal.from_user(org.admin)
    pipeline.act(admin, dup2, "merge", into=dup1.number)  # a chain: dup2 → dup1 → keep
    login(client, "director")
    url = f"/tickets/{dup1.number}"
    response = client.post(f"{url}/actions/merge", data={"csrf_token": csrf_from(client, url), "version": "1",
                                                         "into": keep.number})
    assert response.status_code == 302
    assert [r.name for r in services.reporters_of(keep)] == ["王阿姨", "李大爷", "赵先生"]
    assert db.session.scalar(select(TicketReporter.from_ticket_id).where(
        TicketReporter.resident_id == dup2.resident_id, TicketReporter.ticket_id == keep.id)) == dup1.id
    page = client.get(f"/tickets/{keep.number}").get_data(as_text=True)
    assert "共同反映的居民" in page and "（3 人）" in page
    db.session.refresh(dup1)
    assert dup1.status.value == "merged" and dup1.merged_into_id == keep.id


def _late_in_a_day(ticket, clock):
    ticket.resolution_due_at = clock() + timedelta(days=1)
    db.session.commit()
    return ticket


def test_a_supervisor_urges_a_late_ticket_and_the_holder_is_named(client, org, make_ticket, clock):
    ticket = _late_in_a_day(make_ticket(), clock)
    login(client, "street")
    url = f"/tickets/{ticket.number}"
    assert "data-chase" not in client.get(url).get_data(as_text=True)  # not late yet
    early = client.post(f"{url}/chase/urge", data={"csrf_token": csrf_from(client, url), "note": "请尽快"})
    assert early.status_code == 409
    clock.advance(days=10)
    page = client.get(url).get_data(as_text=True)
    assert "data-chase" in page
    for kind in ("urge", "supervise"):
        response = client.post(f"{url}/chase/{kind}", data={"csrf_token": csrf_from(client, url), "note": "今天内反馈"})
        assert response.status_code == 302
    events = db.session.scalars(select(TicketEvent).where(TicketEvent.kind.in_(("urge", "supervise")))).all()
    assert [(e.kind, e.data["holder"]) for e in events] == [("urge", "盐城路社区"), ("supervise", "盐城路社区")]
    empty = client.post(f"{url}/chase/urge", data={"csrf_token": csrf_from(client, url), "note": " "})
    assert empty.status_code == 422 and "请写明要求" in empty.get_data(as_text=True)  # the page again, as typed
    assert len(db.session.scalars(select(TicketEvent.id).where(TicketEvent.kind == "urge")).all()) == 1


def test_a_director_cannot_urge(client, org, make_ticket, clock):
    ticket = _late_in_a_day(make_ticket(), clock)
    clock.advance(days=10)
    login(client, "director")
    url = f"/tickets/{ticket.number}"
    client.post(f"{url}/chase/urge", data={"csrf_token": csrf_from(client, url), "note": "快"})
    assert db.session.scalar(select(TicketEvent.id).where(TicketEvent.kind == "urge")) is None
