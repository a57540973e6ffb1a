"""A volunteer's standing for a ticket at a moment: one pure function behind every list and the dispatch guard."""
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from dispatch.teams.routing import Job, closest, confirmation_text, rank, standing
from tests.teams.test_routing import LIGHT, volunteer

pytestmark = pytest.mark.pure

SH = ZoneInfo("Asia/Shanghai")
FRIDAY_10 = datetime(2026, 11, 20, 10, 0, tzinfo=SH)
FRIDAY_8 = datetime(2026, 11, 20, 8, 0, tzinfo=SH)
SATURDAY_10 = datetime(2026, 11, 21, 10, 0, tzinfo=SH)


def test_on_shift_with_the_skill_fits_and_needs_no_confirmation():
    s = standing(volunteer(open_tasks=2), LIGHT, FRIDAY_10)
    assert (s.label, s.has_skill, s.skill_text, s.load_text) == ("在岗", True, "有「电工维修」", "在办 2/5")
    assert s.warnings == ()


def test_leave_today_says_until_when_whatever_the_hours():
    away = volunteer(leave=((date(2026, 11, 19), date(2026, 11, 23)),))
    s = standing(away, LIGHT, FRIDAY_10)
    assert (s.duty, s.label) == ("leave", "请假")
    assert s.warnings == ("今天请假（到11月23日）",)
    assert standing(away, LIGHT, datetime(2026, 11, 24, 10, 0, tzinfo=SH)).label == "在岗"  # back on Tuesday


def test_off_shift_now_says_when_the_shift_starts():
    early = standing(volunteer(), LIGHT, FRIDAY_8)
    assert (early.label, early.when) == ("不在班", "今天09:00上班")
    assert early.warnings == ("现在不在班（今天09:00上班）",)
    weekend = standing(volunteer(), LIGHT, SATURDAY_10)
    assert weekend.warnings == ("现在不在班（2天后上班）",)  # Monday 09:00
    never = standing(volunteer(hours=((),) * 7), LIGHT, FRIDAY_10)
    assert never.warnings == ("现在不在班（一周内没有排班）",)
    assert standing(volunteer(), LIGHT, datetime(2026, 11, 20, 17, 0, tzinfo=SH)).label == "不在班"  # 17:00 ends it


def test_a_missing_skill_is_named_and_a_job_without_skills_judges_none():
    barber = volunteer(skills=("haircut",))
    s = standing(barber, LIGHT, FRIDAY_10)
    assert (s.has_skill, s.skill_text, s.warnings) == (False, "缺「电工维修」", ("没有「电工维修」技能",))
    water = Job(community_id=1, category_name="水电维修", required_skills=frozenset({"electrical", "plumbing"}))
    assert standing(barber, water, FRIDAY_10).warnings == ("没有「电工维修」「水暖维修」技能",)
    anyone = Job(community_id=1, category_name="其他", required_skills=frozenset())
    assert standing(barber, anyone, FRIDAY_10).warnings == ()
    assert standing(barber, None, FRIDAY_10).skill_text == ""  # the team list: no ticket, no skill to judge


def test_every_reason_together_makes_one_question():
    s = standing(volunteer(skills=("haircut",), leave=((date(2026, 11, 20), date(2026, 11, 20)),)), LIGHT, FRIDAY_10)
    assert confirmation_text("王芳", s.warnings) == "王芳 今天请假（到11月20日）；没有「电工维修」技能。仍要派给王芳吗？"


def test_a_full_cap_is_shown_but_is_not_a_reason_to_ask():
    s = standing(volunteer(open_tasks=5), LIGHT, FRIDAY_10)
    assert (s.full, s.load_text, s.warnings) == (True, "在办 5/5（已满）", ())


def test_ranking_and_the_standing_agree():
    [top] = rank(LIGHT, [volunteer(leave=((date(2026, 11, 20), date(2026, 11, 20)),))], FRIDAY_10)
    assert top.standing.label == "请假" and not top.assignable


def test_the_closest_when_nobody_has_the_skill_community_then_on_shift_then_load_then_distance():
    job = Job(community_id=1, category_name="楼道及路灯", required_skills=frozenset({"electrical"}),
              latitude=36.06, longitude=120.38)
    none_skilled = dict(skills=("haircut",))
    other_community = volunteer(1, community_id=2, **none_skilled)
    on_leave = volunteer(2, leave=((date(2026, 11, 20), date(2026, 11, 20)),), **none_skilled)
    off_shift = volunteer(3, hours=((),) * 7, **none_skilled)
    busy = volunteer(4, open_tasks=3, **none_skilled)
    far = volunteer(5, latitude=36.09, longitude=120.38, **none_skilled)
    near = volunteer(6, latitude=36.061, longitude=120.38, **none_skilled)
    everyone = [other_community, on_leave, off_shift, busy, far, near]
    assert rank(job, everyone, FRIDAY_10) == []  # nobody to rank
    offered = closest(job, everyone, FRIDAY_10)
    assert [s.candidate.user_id for s in offered] == [6, 5, 4, 3, 2]  # five at most: the other community is cut
    assert all("没有「电工维修」技能" in s.standing.warnings for s in offered)


@pytest.mark.pure
def test_someone_on_the_duty_roster_is_on_duty_outside_their_weekly_hours_but_not_on_leave():
    from dispatch.teams import routing
    from datetime import datetime
    job = routing.Job(community_id=1, category_name="楼道及路灯", required_skills=frozenset())
    night = datetime(2026, 11, 20, 4, 30)
    person = routing.Candidate(1, "v1", "v1", 1, frozenset(), tuple([((480, 1080),)] * 7), (), 0, 3)
    assert routing.standing(person, job, night).duty == "off"
    assert routing.standing(person, job, night, on_roster=True).duty == "on"
    away = routing.Candidate(1, "v1", "v1", 1, frozenset(), tuple([((480, 1080),)] * 7),
                             ((night.date(), night.date()),), 0, 3)
    assert routing.standing(away, job, night, on_roster=True).duty == "leave"
