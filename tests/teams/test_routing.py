"""Routing is a pure function: candidates and a job in, a ranked list with reasons out; no app, no database."""
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from dispatch.teams import routing
from dispatch.teams.routing import Candidate, Job, auto_pick, next_on_duty, parse_hours, rank

pytestmark = pytest.mark.pure

SH = ZoneInfo("Asia/Shanghai")
FRIDAY_10 = datetime(2026, 11, 20, 10, 0, tzinfo=SH)
WEEKDAYS_9_TO_5 = tuple([((540, 1020),)] * 5 + [(), ()])
LIGHT = Job(community_id=1, category_name="楼道照明", required_skills=frozenset({"electrical"}))


def volunteer(user_id=1, skills=("electrical",), hours=WEEKDAYS_9_TO_5, leave=(), open_tasks=0, cap=5,
              community_id=1, **more):
    return Candidate(user_id=user_id, username=f"v{user_id}", name=f"志愿者{user_id}", community_id=community_id,
                     skills=frozenset(skills), hours=hours, leave=leave, open_tasks=open_tasks, max_tasks=cap, **more)


def test_the_reason_reads_like_the_director_would_say_it():
    [top] = rank(LIGHT, [volunteer(open_tasks=2)], FRIDAY_10)
    assert top.reason == "楼道照明 ✓ · 今天在岗 · 2/5 任务 · 本社区"
    assert top.assignable


def test_skills_come_first_then_duty_then_room_then_community():
    full_but_off = volunteer(1, hours=((),) * 7)
    half_on_duty = volunteer(2, skills=("plumbing",))
    busy = volunteer(3, open_tasks=4)
    other_community = volunteer(4, community_id=2)
    best = volunteer(5)
    water = Job(community_id=1, category_name="水电维修", required_skills=frozenset({"electrical", "plumbing"}))
    everyone = [full_but_off, half_on_duty, busy, other_community, best]
    assert [s.candidate.user_id for s in rank(LIGHT, everyone, FRIDAY_10)] == [5, 4, 3, 1]
    ranked = rank(water, everyone, FRIDAY_10)
    assert "缺电工维修" in next(s.reason for s in ranked if s.candidate.user_id == 2)
    assert not any(s.assignable for s in ranked)  # nobody covers both skills


def test_those_without_any_required_skill_are_not_offered():
    assert rank(LIGHT, [volunteer(1, skills=("haircut",))], FRIDAY_10) == []
    anyone = Job(community_id=1, category_name="其他", required_skills=frozenset())
    assert [s.candidate.user_id for s in rank(anyone, [volunteer(1, skills=("haircut",))], FRIDAY_10)] == [1]


def test_a_full_cap_or_leave_today_is_said_and_never_auto_assigned():
    full = volunteer(1, open_tasks=5)
    away = volunteer(2, leave=((date(2026, 11, 19), date(2026, 11, 20)),))
    ranked = rank(LIGHT, [full, away], FRIDAY_10)
    reasons = {s.candidate.user_id: s.reason for s in ranked}
    assert "5/5 任务 已满" in reasons[1]
    assert "3天后在岗" in reasons[2]  # Friday and the weekend off: Monday 09:00
    assert auto_pick(ranked) is None


def test_soonest_on_duty_later_today_or_after_the_weekend():
    afternoon = volunteer(hours=tuple([((840, 1020),)] * 5 + [(), ()]))
    assert next_on_duty(afternoon, FRIDAY_10) == datetime(2026, 11, 20, 14, 0, tzinfo=SH)
    evening = datetime(2026, 11, 20, 18, 0, tzinfo=SH)
    assert next_on_duty(volunteer(), evening) == datetime(2026, 11, 23, 9, 0, tzinfo=SH)
    assert next_on_duty(volunteer(hours=((),) * 7), FRIDAY_10) is None


def test_distance_and_track_record_break_ties():
    here = Job(community_id=1, category_name="楼道照明", required_skills=frozenset({"electrical"}),
               latitude=36.0600, longitude=120.3800)
    near = volunteer(1, latitude=36.0610, longitude=120.3800)
    far = volunteer(2, latitude=36.0800, longitude=120.3800)
    reliable = volunteer(3, accept_rate=1.0, on_time_rate=1.0)
    flaky = volunteer(4, accept_rate=0.2, on_time_rate=0.5)
    ranked = rank(here, [far, near], FRIDAY_10)
    assert [s.candidate.user_id for s in ranked] == [1, 2]
    assert "111 米" in ranked[0].reason and "2.2 公里" in ranked[1].reason
    ranked = rank(LIGHT, [flaky, reliable], FRIDAY_10)
    assert [s.candidate.user_id for s in ranked] == [3, 4]
    assert "接单率20% 按时50%" in ranked[1].reason


def test_hours_are_parsed_strictly():
    assert parse_hours("08:30-11:30，14:00-17:00") == ((510, 690), (840, 1020))
    assert parse_hours("") == ()
    for bad in ("8-12", "12:00-08:00", "25:00-26:00", "08:00-"):
        try:
            parse_hours(bad)
        except ValueError as exc:
            assert str(exc)
        else:
            raise AssertionError(bad)


def test_auto_pick_takes_only_a_full_fit():
    assert auto_pick(rank(LIGHT, [volunteer()], FRIDAY_10)).candidate.user_id == 1
    assert auto_pick([]) is None
    assert routing.distance_km(36.06, 120.38, 36.06, 120.38) == 0
