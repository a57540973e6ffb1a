"""The demo seeding on a real database: organisation, logins, idempotence, and believable tickets."""
import random
import re
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from dispatch.demo import data
from dispatch.demo.seed import World, _allocate, _community_weight, _seed_org, _seed_users, seed
from dispatch.extensions import db
from dispatch.org.models import Community, Department, District, Resident, Street, User
from dispatch.org.roles import Role
from dispatch.org.services import authenticate
from dispatch.tickets.category_seed import CATEGORY_SEED
from dispatch.tickets.lifecycle import TERMINAL_STATUSES, Status
from dispatch.teams.models import Volunteer
from dispatch.teams.routing import parse_hours
from dispatch.teams.skills import CATEGORY_SKILLS, SKILLS
from dispatch.tickets.models import Category, Ticket, TicketEvent
from dispatch.timeutil import SHANGHAI

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)  # a Friday, 10:00 in Qingdao
COUNT = 60
LOGIN_LINE = re.compile(r"^\s+(\S+)\s+/\s+(\S+)\s")


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def _counts():
    models = (District, Street, Community, Department, Category, User, Resident, Ticket, TicketEvent, Volunteer)
    return {model.__name__: _count(model) for model in models}


@pytest.fixture
def lines():
    return seed(ticket_count=COUNT, now=NOW)


@pytest.fixture
def tickets(lines):
    return db.session.scalars(select(Ticket).order_by(Ticket.id)).all()


def test_the_organisation_of_shinan(lines):
    assert db.session.scalar(select(District.name)) == "市南区"
    assert _count(District) == 1 and _count(Street) == 10 and _count(Community) == 65
    assert _count(Department) == len(data.DEPARTMENTS) and _count(Category) == len(CATEGORY_SEED)
    yanchenglu = db.session.scalar(select(Community).where(Community.code == "yanchenglu"))
    assert (yanchenglu.name, yanchenglu.street.name) == ("盐城路社区", "湛山街道")


def test_every_role_has_a_demo_login_and_the_printed_passwords_work(lines):
    logins = dict(m.groups() for m in map(LOGIN_LINE.match, lines) if m)
    assert set(logins) == {"admin", "zhanshan", "yanchenglu", "yanchenglu-staff", "water", "volunteer"}
    users = {name: authenticate(name, password) for name, password in logins.items()}
    assert all(users.values()), users
    assert {user.role for user in users.values()} == set(Role)
    assert users["zhanshan"].street.name == "湛山街道"
    assert (users["yanchenglu"].display_name, users["yanchenglu"].community.code) == ("明纪美", "yanchenglu")
    assert users["yanchenglu-staff"].community.code == users["volunteer"].community.code == "yanchenglu"
    assert users["water"].department.code == "water"
    assert authenticate("admin", "wrong") is None

    shared = re.search(r"password (\S+)", next(line for line in lines if "every other" in line)).group(1)
    for username in ("v-yanchenglu-1", "v-nanjinglu-2", "taianlu-staff", "power"):
        assert authenticate(username, shared), username


def test_volunteers_for_every_community_of_zhanshan(lines):
    zhanshan = [c["code"] for c in data.COMMUNITIES if c["street"] == "zhanshan"]
    rows = db.session.execute(select(Community.code, User.username, User.display_name).join(User.community)
                              .where(User.role == Role.VOLUNTEER)).all()
    extra = Counter(code for code, username, _ in rows if username.startswith("v-"))
    assert all(3 <= extra[code] <= 5 for code in zhanshan), extra
    names = [name for _, _, name in rows]
    assert set(names) <= set(data.VOLUNTEER_NAMES) and len(names) == len(set(names))


def test_running_twice_adds_nothing_and_says_so(lines):
    before = _counts()
    again = seed(ticket_count=COUNT, now=NOW + timedelta(hours=3))
    assert _counts() == before
    assert f"tickets: {COUNT} demo tickets already present, none added" in again
    assert any(line.startswith("organisation:") and "nothing added" in line for line in again)
    assert any(line.startswith("users: 0 added") for line in again)


def test_a_larger_count_tops_the_demo_up(lines):
    again = seed(ticket_count=COUNT + 5, now=NOW)
    assert any(f"5 demo tickets added ({COUNT} were already present)" in line for line in again)
    assert _count(Ticket) == COUNT + 5


def test_if_empty_leaves_a_seeded_database_alone(lines):
    before = _counts()
    assert seed(if_empty=True, ticket_count=COUNT, now=NOW) == [
        f"demo data already present: a district exists and {COUNT} tickets; nothing done "
        "(run without --if-empty to top it up)"]
    assert _counts() == before


def test_if_empty_seeds_an_empty_database():
    lines = seed(if_empty=True, ticket_count=8, now=NOW)
    assert _count(Ticket) == 8 and _count(Community) == 65
    assert lines[-1].startswith("tickets by status (8 in all): ")


def test_the_command_prints_the_logins(app):
    result = app.test_cli_runner().invoke(args=["seed-demo", "--tickets", "6"])
    assert result.exit_code == 0, result.output
    assert re.search(r"^\s+admin\s+/\s+shinan-admin-2026\s", result.output, re.M)
    assert _count(Ticket) == 6


def test_tickets_span_states_weeks_and_daytime(tickets):
    assert len(tickets) == COUNT
    statuses = Counter(t.status for t in tickets)
    assert {Status.NEW, Status.RESOLVED, Status.CLOSED} <= set(statuses) and len(statuses) >= 6, statuses
    weeks = Counter((NOW - t.created_at) // timedelta(weeks=1) for t in tickets)
    assert set(weeks) <= set(range(10)) and len(weeks) >= 6, weeks
    assert sum(weeks[w] for w in range(5)) > sum(weeks[w] for w in range(5, 10))  # recent weeks are busier
    assert all(7 <= t.created_at.astimezone(SHANGHAI).hour < 22 for t in tickets)
    # old tickets are mostly finished, the newest ones mostly open
    old = [t for t in tickets if NOW - t.created_at > timedelta(weeks=3)]
    assert sum(t.status in (Status.CLOSED, Status.RESOLVED, Status.INVALID, Status.MERGED) for t in old) > 0.8 * len(old)
    newest = sorted(tickets, key=lambda t: t.created_at)[-3:]
    assert any(t.status is Status.NEW for t in newest)


def test_tickets_favour_yanchenglu_and_zhanshan(tickets):
    by_community = Counter(t.community.code for t in tickets)
    assert by_community.most_common(1)[0][0] == "yanchenglu"
    assert sum(t.community.street.code == "zhanshan" for t in tickets) > COUNT / 3
    counts = _allocate(400, [_community_weight(c) for c in data.COMMUNITIES])
    assert sum(counts) == 400 and counts[[c["code"] for c in data.COMMUNITIES].index("yanchenglu")] >= 40


def test_tickets_are_labelled_from_the_messages_and_phone_calls_have_a_resident(tickets):
    labels = {text: (category, priority) for text, category, priority in data.RESIDENT_MESSAGES}
    assert all(labels[t.description] == (t.category.code, t.priority.value) for t in tickets)
    assert all(t.address for t in tickets)
    channels = Counter(t.channel.value for t in tickets)
    assert channels.most_common(1)[0][0] == "wechat_text" and len(channels) >= 3, channels
    for t in tickets:
        if t.channel.value == "phone":
            assert re.fullmatch(r"1381234\d{4}", t.resident.phone) and t.resident.name[0] in data.RESIDENT_SURNAMES
    assert all(t.channel.value == "phone" for t in tickets if t.description.startswith("居民来电"))
    assert all(t.community.code == "yanchenglu" for t in tickets if "盐城路" in t.description)


def test_each_status_matches_its_timeline_and_nothing_happens_after_now(tickets):
    for ticket in tickets:
        events = ticket.events
        assert events[0].kind == "created" and events[0].data.get("demo") is True
        assert [e.at for e in events] == sorted(e.at for e in events), ticket.number
        changes = [e for e in events if e.to_status]
        assert changes[-1].to_status == ticket.status.value, ticket.number
        assert all(a.to_status == b.from_status for a, b in zip(changes, changes[1:])), ticket.number
        if ticket.status in TERMINAL_STATUSES:  # nothing happens to a closed, invalid or merged ticket
            assert events[-1] is changes[-1], ticket.number
    assert db.session.scalar(select(func.max(TicketEvent.at))) <= NOW
    assert db.session.scalar(select(func.min(TicketEvent.at))) >= NOW - timedelta(weeks=10)


def test_handlers_are_the_dispatched_volunteer_or_department_or_the_community(tickets):
    users = {u.id: u for u in db.session.scalars(select(User))}
    assert any(t.assignee for t in tickets) and any(t.department for t in tickets)
    for ticket in tickets:
        targets = {e.data.get("assignee") or e.data.get("department") for e in ticket.events if e.kind == "dispatch"}
        for event in ticket.events:
            actor = users.get(event.actor_user_id)
            if event.kind in ("sign", "start", "return", "resolve", "request_extension"):
                if actor.role is Role.VOLUNTEER:
                    assert actor.username in targets and actor.community_id == ticket.community_id
                elif actor.role is Role.DEPARTMENT_USER:
                    assert actor.department.code in targets
                else:
                    assert actor.role in (Role.COMMUNITY_DIRECTOR, Role.COMMUNITY_STAFF)
                    assert actor.community_id == ticket.community_id
            elif event.kind in ("accept", "dispatch", "close", "reopen", "invalidate", "merge"):
                assert actor.community_id == ticket.community_id, (ticket.number, event.kind)
            elif event.kind in ("approve_extension", "refuse_extension"):
                assert actor.role in (Role.DISTRICT_ADMIN, Role.STREET_SUPERVISOR)


def test_merged_tickets_point_at_an_earlier_ticket_of_the_same_community(tickets):
    merged = [t for t in tickets if t.status is Status.MERGED]
    assert merged
    by_id = {t.id: t for t in tickets}
    for ticket in merged:
        target = by_id[ticket.merged_into_id]
        assert target.community_id == ticket.community_id
        assert target.created_at < ticket.created_at and target.description == ticket.description
        assert any(e.kind == "merged_in" and e.data["source"] == ticket.number for e in target.events)


def test_the_plan_is_reproducible():
    seed(ticket_count=0, now=NOW)  # the organisation and users, no tickets

    def plan(rng_seed):
        org, _ = _seed_org()
        users, _ = _seed_users(org)
        world = World(org, users, NOW, random.Random(rng_seed))
        return [(p.community["code"], p.created, p.message[0], p.channel, [(s.name, s.at) for s in p.steps])
                for p in world.plan(30)]

    assert plan(7) == plan(7)
    assert plan(7) != plan(8)


def test_every_volunteer_has_a_believable_profile(lines):
    users = db.session.scalars(select(User).where(User.role == Role.VOLUNTEER)).all()
    profiles = {v.user_id: v for v in db.session.scalars(select(Volunteer))}
    assert {u.id for u in users} == set(profiles)
    for v in profiles.values():
        assert v.skills and set(v.skills) <= set(SKILLS) and 3 <= v.max_tasks <= 5
        assert len(v.weekly_hours) == 7 and all(parse_hours(day) is not None for day in v.weekly_hours)
        assert any(v.weekly_hours[:5]) and abs(v.latitude - 36.06) < 0.05 and abs(v.longitude - 120.38) < 0.05
        assert all(a <= b for a, b in v.leave)
    assert set().union(*(v.skills for v in profiles.values())) == set(SKILLS)
    assert any(v.weekly_hours[5] or v.weekly_hours[6] for v in profiles.values())
    today = str(NOW.astimezone(SHANGHAI).date())
    assert any(a <= today <= b for v in profiles.values() for a, b in v.leave)
    assert sum(v.serves_street for v in profiles.values()) >= 2
    demo = next(v for v in profiles.values() if v.user.username == "volunteer")
    assert demo.openid == data.DEMO_VOLUNTEER_OPENID


def test_departments_and_categories_carry_routing_data(lines):
    for spec in data.DEPARTMENTS:
        row = db.session.scalar(select(Department).where(Department.code == spec["code"]))
        assert row.categories == list(spec["categories"]) and row.contact_name and row.phone
    skills = dict(db.session.execute(select(Category.code, Category.required_skills)).all())
    assert all(skills[code] == list(needed) for code, needed in CATEGORY_SKILLS.items())
    assert skills["consultation"] == []


def test_a_second_run_keeps_edits_to_profiles_skills_and_departments(lines):
    lighting = db.session.scalar(select(Category).where(Category.code == "lighting"))
    profile = db.session.scalar(select(Volunteer).join(User).where(User.username == "v-yanchenglu-1"))
    water = db.session.scalar(select(Department).where(Department.code == "water"))
    lighting.required_skills, profile.max_tasks, water.contact_name = ["cleaning"], 9, "新联系人"
    db.session.commit()
    again = seed(ticket_count=COUNT, now=NOW)
    assert any(line.startswith("volunteer profiles: 0 added") for line in again)
    db.session.expire_all()
    assert lighting.required_skills == ["cleaning"] and profile.max_tasks == 9 and water.contact_name == "新联系人"


def test_every_demo_community_has_its_roads_and_the_demo_addresses_find_their_community(lines):
    from dispatch.demo.seed import _road
    from dispatch.intake import gazetteer
    from dispatch.intake.models import PlaceName
    rows = db.session.scalars(select(PlaceName)).all()
    assert {row.community_id for row in rows} == set(db.session.scalars(select(Community.id)))
    for row in rows:  # no two communities share a house number of a road
        assert gazetteer.overlapping(row.name, row.first, row.last, row.parity, row.community_id) == [], row.name
    for spec in data.COMMUNITIES:
        for address in [spec["address"]] + [a for a in data.STREET_ADDRESSES if a.startswith(_road(spec["address"]))]:
            assert gazetteer.find(address).community.code == spec["code"], address
    assert gazetteer.find("湛山路5号楼下的路灯坏了好几天了").community.code == "zhanshanerlu"
    assert gazetteer.find("香港中路76号5号楼1单元").community.code == "fuzhounanlu"
    before = _count(PlaceName)
    seed(ticket_count=COUNT, now=NOW)  # seeding again adds no row twice
    assert _count(PlaceName) == before


def test_someone_is_on_duty_tonight_in_every_community_with_a_team(lines):
    from dispatch.demo.seed import VOLUNTEER_COMMUNITIES
    from dispatch.teams import duty
    from dispatch.teams.models import DutyShift
    tonight = NOW + timedelta(hours=12)  # 22:00 in Qingdao
    for code in VOLUNTEER_COMMUNITIES:
        community = db.session.scalar(select(Community).where(Community.code == code))
        shifts = duty.shifts_covering(community, tonight)
        assert shifts and all(shift.user.phone for shift in shifts), code
    added = _count(DutyShift)
    seed(ticket_count=COUNT, now=NOW + timedelta(hours=3))
    assert _count(DutyShift) == added  # an edited roster is left alone
