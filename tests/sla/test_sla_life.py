"""A ticket's clocks through its life, through the real API and database, with a frozen clock moved by hand.

The clock starts on Friday 2026-11-20 10:00 in Shanghai (02:00 UTC). The default policy for a lighting
ticket: response within 1 working day, resolution within 7 days; warning at 75%; escalation every 25%.
"""
import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from dispatch.extensions import db
from dispatch.org.principal import Principal
from dispatch.tickets import pipeline
from dispatch.scheduler import acquire_lease, release_lease
from dispatch.sla import policies
from dispatch.sla.clock import Unit
from dispatch.sla.models import SlaSchedule
from dispatch.sla.sweep import run_sla_sweep
from dispatch.tickets.models import Ticket, TicketEvent
from dispatch.timeutil import SHANGHAI
from tests.conftest import at_once


def sh(text):
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).astimezone(timezone.utc).isoformat()


@pytest.fixture
def policies_seeded(org):
    assert policies.seed_defaults() == 9
    return org


def open_ticket(api, **body):
    body.setdefault("description", "3号楼2单元走廊灯坏了")
    body.setdefault("community", "yanchenglu")
    body.setdefault("category", "lighting")
    response = api.post("/api/v1/tickets", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def act(api, number, action, **body):
    response = api.post(f"/api/v1/tickets/{number}/transitions", json={"action": action, **body})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def sla_events(number):
    ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
    return [(e.kind, e.data["clock"], e.data["to_role"]) for e in db.session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind.like("sla_%"))
        .order_by(TicketEvent.id))]


def test_a_new_ticket_gets_both_clocks_from_its_policy(api, policies_seeded):
    sla = open_ticket(api)["sla"]
    assert sla["response"] == {"due_at": sh("2026-11-23 10:00"), "state": "running", "working_time": True,
                               "minutes_left": 450.0}
    assert sla["resolution"]["due_at"] == sh("2026-11-27 10:00") and not sla["resolution"]["working_time"]
    assert sla["deadline_at"] == sh("2026-11-23 10:00") and sla["error"] is None


@pytest.mark.parametrize("body, response_due, resolution_due", [
    ({"priority": "urgent"}, "2026-11-20 12:00", "2026-11-21 10:00"),  # emergencies: 2 h, whatever the category
    ({"category": "water_power"}, "2026-11-20 12:00", "2026-11-21 10:00"),  # 2 working hours; 24 h
    ({"category": "consultation"}, "2026-11-23 10:00", "2026-11-25 10:00"),  # 1 working day; 3 working days
])
def test_the_most_specific_policy_wins(api, policies_seeded, body, response_due, resolution_due):
    sla = open_ticket(api, **body)["sla"]
    assert (sla["response"]["due_at"], sla["resolution"]["due_at"]) == (sh(response_due), sh(resolution_due))


def test_every_point_fires_once_warning_then_breach_then_up_the_chain(api, policies_seeded, clock):
    number = open_ticket(api)["number"]
    clock.at = datetime.fromisoformat(sh("2026-11-20 17:10"))  # past 75% of the working day
    assert run_sla_sweep(clock.at) == 1
    assert run_sla_sweep(clock.at) == 0  # nothing fires twice
    assert sla_events(number) == [("sla_warning", "response", "director")]
    assert api.get(f"/api/v1/tickets/{number}").get_json()["sla"]["response"]["state"] == "warning"
    clock.at = datetime.fromisoformat(sh("2026-11-23 10:00"))  # the deadline, after the weekend
    assert run_sla_sweep(clock.at) == 1
    clock.at = datetime.fromisoformat(sh("2026-11-23 15:20"))  # two steps of 112.5 working minutes: 11:52:30, 15:15
    assert run_sla_sweep(clock.at) == 2
    assert sla_events(number) == [("sla_warning", "response", "director"), ("sla_breach", "response", "director"),
                                  ("sla_escalation", "response", "director"),
                                  ("sla_escalation", "response", "supervisor")]
    late = api.get(f"/api/v1/tickets/{number}").get_json()["sla"]["response"]
    assert late["state"] == "overdue" and late["minutes_left"] < 0


def test_the_sweep_writes_only_the_schedule_so_a_page_opened_before_it_can_still_act(api, policies_seeded, clock):
    seen = open_ticket(api)  # the director's page holds this version
    clock.at = datetime.fromisoformat(sh("2026-11-20 17:10"))
    assert run_sla_sweep(clock.at) == 1
    assert act(api, seen["number"], "accept", version=seen["version"])["status"] == "accepted"
    ticket_id = db.session.scalar(select(Ticket.id).where(Ticket.number == seen["number"]))
    schedule = db.session.get(SlaSchedule, ticket_id)
    assert (schedule.response_stage, schedule.resolution_stage) == (1, 0)
    assert schedule.next_at == datetime.fromisoformat(sh("2026-11-25 16:00"))  # the resolution clock's warning


def test_after_a_pause_of_days_the_missed_points_fire_once_each_in_order(api, policies_seeded, clock):
    number = open_ticket(api)["number"]
    clock.at = datetime.fromisoformat(sh("2026-11-30 09:00"))  # ten days later: both clocks are long past
    fired = run_sla_sweep(clock.at)
    kinds = sla_events(number)
    # response: warning, breach, two escalations; resolution (due 11-27 10:00, steps of 42 h): three so far
    assert fired == len(kinds) == 7
    assert [k for k, c, _ in kinds if c == "response"] == ["sla_warning", "sla_breach", "sla_escalation",
                                                            "sla_escalation"]
    assert [k for k, c, _ in kinds if c == "resolution"] == ["sla_warning", "sla_breach", "sla_escalation"]
    assert run_sla_sweep(clock.at + timedelta(days=1)) == 1  # the last escalation, at 11-30 22:00
    assert run_sla_sweep(clock.at + timedelta(days=30)) == 0  # the chain has ended: nothing more, ever


def test_supervisors_and_directors_are_named_on_escalations(api, policies_seeded, clock, org):
    number = open_ticket(api)["number"]
    run_sla_sweep(datetime.fromisoformat(sh("2026-11-24 12:00")))
    ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
    last = db.session.scalar(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                       TicketEvent.kind == "sla_escalation")
                             .order_by(TicketEvent.id.desc()).limit(1))
    assert last.data["to_role"] == "supervisor" and last.data["to_user_ids"] == [org.street.id]
    assert last.data["notify"] is True and last.actor_label == "时限监控"


def test_answering_in_time_stops_the_response_clock(api, policies_seeded, clock):
    number = open_ticket(api)["number"]
    clock.advance(hours=1)
    sla = act(api, number, "accept")["sla"]
    assert sla["response"]["state"] == "met" and sla["deadline_at"] == sh("2026-11-27 10:00")
    assert run_sla_sweep(datetime.fromisoformat(sh("2026-11-24 10:00"))) == 0  # no response breach, ever


def test_waiting_for_the_resident_pauses_and_resuming_moves_the_deadline(api, policies_seeded, clock):
    number = open_ticket(api, category="consultation")["number"]  # working-day clocks
    act(api, number, "accept")
    clock.at = datetime.fromisoformat(sh("2026-11-23 10:00"))
    paused = act(api, number, "wait_for_resident", note="电话无人接听")["sla"]
    assert paused["paused_at"] == sh("2026-11-23 10:00") and paused["resolution"]["state"] == "paused"
    assert run_sla_sweep(datetime.fromisoformat(sh("2026-12-10 10:00"))) == 0  # a paused clock fires nothing
    clock.at = datetime.fromisoformat(sh("2026-11-25 10:00"))  # two working days later
    resumed = act(api, number, "resume")
    assert resumed["sla"]["resolution"]["due_at"] == sh("2026-11-27 10:00")  # due 11-25 10:00, moved 2 working days
    assert resumed["sla"]["paused_seconds"] == 2 * 86400
    assert resumed["timeline"][-1]["data"]["paused_seconds"] == 2 * 86400


def test_an_approved_extension_moves_the_deadline(api, api_as, policies_seeded, clock):
    number = open_ticket(api)["number"]
    act(api, number, "accept")
    act(api, number, "dispatch", assignee="volunteer")
    ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
    volunteer = Principal.from_user(policies_seeded.volunteer)  # the holder signs and asks, through the desk's door
    pipeline.act(volunteer, ticket, "sign")
    pipeline.act(volunteer, ticket, "request_extension", note="需要订购配件", extension_days=3)
    extended = act(api, number, "approve_extension")
    assert extended["sla"]["resolution"]["due_at"] == sh("2026-11-30 10:00")
    assert extended["timeline"][-1]["data"]["resolution_due_before"] == sh("2026-11-27 10:00")


def test_reopening_restarts_the_resolution_clock(api, policies_seeded, clock):
    number = open_ticket(api)["number"]
    act(api, number, "accept")
    act(api, number, "resolve", note="已更换灯泡")
    clock.at = datetime.fromisoformat(sh("2026-11-25 09:00"))
    reopened = act(api, number, "reopen", note="居民反映灯仍不亮")["sla"]
    assert reopened["resolution"]["due_at"] == sh("2026-12-02 09:00") and reopened["resolution"]["state"] == "running"


def test_a_policy_change_applies_to_new_tickets_only(api, policies_seeded):
    before = open_ticket(api)
    general = next(p for p in policies.active_policies() if p.name == "一般事项")
    data = policies.PolicyInput("一般事项", None, None, 4, Unit.WORKING_HOURS, 5, Unit.DAYS)
    policies.replace_policy(general.id, data, created_by="test")
    after = open_ticket(api)
    assert api.get(f"/api/v1/tickets/{before['number']}").get_json()["sla"] == before["sla"]
    assert after["sla"]["resolution"]["due_at"] == sh("2026-11-25 10:00") != before["sla"]["resolution"]["due_at"]


def test_a_year_the_calendar_cannot_answer_for_is_an_error_the_admin_sees(api, policies_seeded, clock):
    clock.at = datetime.fromisoformat(sh("2026-12-31 16:00"))
    ticket = open_ticket(api, category="consultation")  # 3 working days reach into 2027
    assert "2027 年的节假日安排尚未录入" in ticket["sla"]["error"]
    assert ticket["sla"]["response"] is None and ticket["status"] == "new"  # the ticket itself is kept


def test_two_sweeps_at_the_same_time_fire_each_point_once(app, api, policies_seeded, clock):
    numbers = [open_ticket(api)["number"] for _ in range(12)]
    at = datetime.fromisoformat(sh("2026-11-24 12:00"))
    barrier, results = threading.Barrier(2), []

    def sweep():
        with app.app_context():
            barrier.wait()
            results.append(run_sla_sweep(at))
            db.session.remove()
    at_once(sweep, 2)
    total = db.session.scalar(select(func.count()).select_from(TicketEvent).where(TicketEvent.kind.like("sla_%")))
    assert sum(results) == total == 12 * 4  # the response clock's 4 points; resolution warns on 11-25
    assert all(len(sla_events(n)) == 4 for n in numbers)


def test_one_scheduler_holds_the_lease_and_another_takes_over_when_it_dies(clock):
    now = clock.at
    assert acquire_lease("a", now) and not acquire_lease("b", now)
    assert acquire_lease("a", now + timedelta(seconds=30))  # renewed while alive
    assert not acquire_lease("b", now + timedelta(seconds=60))
    assert acquire_lease("b", now + timedelta(seconds=75))  # a stopped renewing 45 s ago: b takes over
    assert not acquire_lease("a", now + timedelta(seconds=76))  # and a, back from a stall, may not run
    release_lease("b")
    assert acquire_lease("a", clock.at)


def test_a_standby_scheduler_waits_then_takes_over_within_a_minute(app, clock):
    from dispatch.scheduler import wait_for_lease
    assert acquire_lease("first", clock.at)
    slept = []

    def sleep(seconds):  # the first scheduler has died: nobody renews; time passes only here
        slept.append(seconds)
        clock.advance(seconds=seconds)
    wait_for_lease(app, "second", sleep=sleep)
    assert 0 < sum(slept) <= 60
    assert not acquire_lease("first", clock.at)


def test_entering_the_missing_year_gives_the_waiting_tickets_their_clocks(app, api, policies_seeded, clock):
    clock.at = datetime.fromisoformat(sh("2026-12-31 16:00"))
    number = open_ticket(api, category="consultation")["number"]
    holiday = app.test_cli_runner().invoke(args=["sla", "holiday", "2027-01-01", "元旦"])
    assert "0 now counted, 1 still cannot be" in holiday.output  # the rest of 2027 is still unknown
    entered = app.test_cli_runner().invoke(args=["sla", "enter-year", "2027"])
    assert "1 now counted" in entered.output
    sla = api.get(f"/api/v1/tickets/{number}").get_json()["sla"]
    # 90 minutes on 12-31, New Year's Day off, then 1-4 and 1-5 in full and 360 minutes of 1-6
    assert sla["error"] is None and sla["resolution"]["due_at"] == sh("2027-01-06 16:00")
