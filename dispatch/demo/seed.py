"""The 市南区 demo (`flask seed-demo`): organisation, categories, one login per role, and tickets.

Everything goes through the real services (create_user, the ticket pipeline: open_ticket and commands), so the
demo tickets have the same timelines, numbers and checks as real ones. Tickets are replayed in
time order over the ten weeks before `now`; a seeded random.Random makes the demo reproducible.
Demo tickets carry `demo: true` on their "created" event, which is how a second run counts them.
"""
import math
import random
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from sqlalchemy import delete, func, select

from dispatch.sla.policies import seed_defaults as seed_sla_policies
from dispatch.demo import data
from dispatch.demo.duty import seed_roster
from dispatch.demo.wechat import seed_accounts
from dispatch.extensions import db
from dispatch.intake.wechat_service import RESIDENT
from dispatch.monitor import refresh
from dispatch.notify.models import Notification
from dispatch.org.models import Community, Department, District, Street, User
from dispatch.org.principal import SYSTEM, Principal
from dispatch.org.roles import Role
from dispatch.org.services import create_user
from dispatch.tickets import pipeline, ratings, store
from dispatch.tickets.lifecycle import MANAGERS, OPEN_STATUSES, TERMINAL_STATUSES, Status
from dispatch.intake.models import PlaceName
from dispatch.teams.categories import load_categories
from dispatch.teams.models import Volunteer
from dispatch.teams.skills import SKILLS
from dispatch.tickets.models import Category, Channel, Priority, Ticket, TicketEvent
from dispatch.timeutil import SHANGHAI, as_utc
from dispatch.timeutil import now as clock_now

WEEKS = 10

# The featured logins, one per role: (username, role, password, display name, unit kind, unit code).
LOGINS = (
    ("admin", Role.DISTRICT_ADMIN, "shinan-admin-2026", "市南区指挥中心", None, None),
    ("zhanshan", Role.STREET_SUPERVISOR, "shinan-street-2026", "湛山街道督办", "street", "zhanshan"),
    ("yanchenglu", Role.COMMUNITY_DIRECTOR, "shinan-director-2026", "明纪美", "community", "yanchenglu"),
    ("yanchenglu-staff", Role.COMMUNITY_STAFF, "shinan-staff-2026", "盐城路社工小王", "community", "yanchenglu"),
    ("water", Role.DEPARTMENT_USER, "shinan-water-2026", None, "department", "water"),
    ("volunteer", Role.VOLUNTEER, "shinan-volunteer-2026", data.VOLUNTEER_NAMES[0], "community", "yanchenglu"),
)
# Every other demo account: the 365 volunteers, each community's staff, the other departments.
SHARED_PASSWORD = "shinan-demo-2026"

# Communities with a 365 service team: all of 湛山街道, and four named in the news reports.
VOLUNTEER_COMMUNITIES = ("yanchenglu", "zhanshanerlu", "yanerdaolu", "nanjinglu", "donghaiyilu", "ningxialu",
                         "xiangganghuayuan", "wuxinglu", "jinkoulu", "tuandaolu")
FOCUS_STREET, FOCUS_COMMUNITY = "zhanshan", "yanchenglu"
NAMED_COMMUNITIES = {"xiangganghuayuan", "jinkoulu", "wuxinglu", "gaoyouhulu", "xiaoyaolu", "taianlu",
                     "tuandaolu", "wentie"}


# Relative number of tickets per community: 盐城路社区 ≈ 13 %, each other 湛山 community ≈ 5 %.
def _community_weight(spec):
    if spec["code"] == FOCUS_COMMUNITY:
        return 13.0
    if spec["street"] == FOCUS_STREET:
        return 5.0
    return 1.6 if spec["code"] in NAMED_COMMUNITIES else 1.0


WEEK_WEIGHTS = (1.6, 1.5, 1.4, 1.3, 1.2, 1.1, 1.0, 0.9, 0.85, 0.8)  # this week first: recent weeks are busier
HOUR_WEIGHTS = {7: 1, 8: 3, 9: 4, 10: 4, 11: 3, 12: 2, 13: 2, 14: 3, 15: 3, 16: 3, 17: 2, 18: 2, 19: 2, 20: 2,
                21: 1}
CHANNEL_WEIGHTS = ((Channel.WECHAT_TEXT, 62), (Channel.WECHAT_PHOTO, 14), (Channel.WECHAT_VOICE, 10),
                   (Channel.PHONE, 8), (Channel.WEB_FORM, 6))
RESIDENT_TITLES = ("先生", "女士", "大爷", "阿姨", "师傅")

# Where each ticket ends up, by its age in days (the path there is drawn in _path).
S = Status
FATES = (
    (0.25, {S.NEW: 55, S.ACCEPTED: 25, S.DISPATCHED: 15, S.SIGNED: 5}),
    (2, {S.NEW: 12, S.ACCEPTED: 12, S.DISPATCHED: 16, S.SIGNED: 12, S.IN_PROGRESS: 18, S.WAITING_RESIDENT: 5,
         S.RETURNED: 5, S.RESOLVED: 15, S.INVALID: 3}),
    (7, {S.NEW: 3, S.ACCEPTED: 4, S.DISPATCHED: 8, S.SIGNED: 6, S.IN_PROGRESS: 15, S.WAITING_RESIDENT: 7,
         S.EXTENSION_REQUESTED: 6, S.RETURNED: 5, S.RESOLVED: 20, S.CLOSED: 20, S.REOPENED: 3, S.INVALID: 4}),
    (21, {S.ACCEPTED: 1, S.SIGNED: 1, S.IN_PROGRESS: 5, S.WAITING_RESIDENT: 3, S.EXTENSION_REQUESTED: 3,
          S.RETURNED: 2, S.RESOLVED: 12, S.CLOSED: 65, S.REOPENED: 2, S.INVALID: 4}),
    (math.inf, {S.IN_PROGRESS: 2, S.WAITING_RESIDENT: 1, S.EXTENSION_REQUESTED: 1, S.RESOLVED: 5, S.CLOSED: 86,
                S.INVALID: 5}),
)
DUPLICATE_RATE = 0.06  # share of tickets that repeat an earlier one of their community and get merged

# Categories a 365 volunteer can handle; the rest go to a department or stay with the community.
VOLUNTEER_CATEGORIES = {"water_power", "lighting", "appliance", "elderly_care", "other"}
COMMUNITY_CATEGORIES = {"consultation", "suggestion", "other"}  # mostly answered by the community itself

# Roads in the messages that are no community's address, and the community the demo puts them in.
OTHER_ROADS = {"香港中路": "fuzhounanlu"}

# Working hours (local) per kind of actor; an action outside them waits for the next morning.
OFFICE, FIELD, SUPERVISOR_HOURS, RESIDENT_HOURS = (8, 20), (7, 21), (8, 18), (7, 22)

# Notes the demo data does not provide.
WAIT_NOTES = ("请居民补充具体楼号、单元和门牌号", "需入户查看，居民白天不在家，待约定时间",
              "请居民通过微信上传现场照片", "已电话联系未接通，待居民回电")
EXTENSION_NOTES = ("配件需要订购，预计三天到货", "需协调楼上住户入户检修，对方出差未归",
                   "需待天气转好后进行室外作业", "涉及公共维修资金，需业主签字同意")
REFUSE_NOTES = ("延期理由不充分，请按原时限办结", "居民反映强烈，请优先处理，不予延期")
RATING_WEIGHTS = {"satisfied": 75, "basically_satisfied": 18, "unsatisfied": 7}
REOPEN_NOTES = ("回访时居民反映问题仍未解决", "居民再次来电，同一问题又出现了", "回访不满意，要求重新处理")
INVALID_NOTES = ("居民误操作发送的空白消息", "重复提交，已在电话中答复", "非本社区辖区，已告知居民向所在社区反映",
                 "经核实为测试消息", "无法联系到居民，内容无法核实")


ENDS_TASK = ("resolve", "return")  # a handler's comment after these is no longer theirs to write


@dataclass
class Step:
    """One planned action on a ticket: a transition (status set) or a comment (status None)."""

    name: str
    who: Principal
    status: Status | None
    delay: tuple = (5, 60)  # minutes after the previous step, drawn log-uniformly
    hours: tuple | None = OFFICE
    note: str | None = None
    params: dict = field(default_factory=dict)
    at: datetime | None = None


@dataclass
class Plan:
    """One demo ticket before it exists: where, when, what, and the steps it will go through."""

    community: dict
    created: datetime
    message: tuple
    channel: Channel = Channel.WECHAT_TEXT
    duplicate_of: "Plan | None" = None
    steps: list = field(default_factory=list)
    ticket: Ticket | None = None


def seed(if_empty=False, ticket_count=400, now=None, rng_seed=20151106):
    """Load the demo; returns the lines to print. Safe to run again: nothing is duplicated."""
    if if_empty and db.session.scalar(select(func.count()).select_from(District)):
        tickets = db.session.scalar(select(func.count()).select_from(Ticket))
        return [f"demo data already present: a district exists and {tickets} tickets; nothing done "
                "(run without --if-empty to top it up)"]
    now = as_utc(now) if now is not None else clock_now()
    lines = []
    org, org_line = _seed_org()
    lines.append(org_line)
    added, refreshed = load_categories()
    lines.append(f"categories: {added} added, {refreshed} refreshed")
    lines.append(f"SLA policies: {seed_sla_policies()} default(s) added")
    users, user_line = _seed_users(org)
    lines.append(user_line)
    lines.append(_seed_volunteers(users, now))
    communities = [org["communities"][code] for code in VOLUNTEER_COMMUNITIES if code in org["communities"]]
    lines.append(seed_roster(communities, FOCUS_STREET, now))
    lines.append(_seed_tickets(org, users, ticket_count, now, random.Random(rng_seed)))
    lines.append(_forget_old_news(now))
    lines.append(f"monitor: figures of {refresh.rebuild(now)} ticket(s) read off their timelines")
    lines.append(seed_accounts())
    lines += _login_block(org)
    lines.append(_status_summary())
    return lines


# --- organisation ---------------------------------------------------------------------------

def _upsert(model, specs, fields):
    """Insert or refresh rows by code; returns ({code: row}, how many were added)."""
    rows = {row.code: row for row in db.session.scalars(select(model))}
    added = 0
    for spec in specs:
        row = rows.get(spec["code"])
        if row is None:
            row = rows[spec["code"]] = model(code=spec["code"])
            db.session.add(row)
            added += 1
        for name, value in fields(spec).items():
            setattr(row, name, value)
    return rows, added


def _seed_org():
    district = db.session.scalar(select(District).where(District.code == data.DISTRICT["code"]))
    district_added = district is None
    if district_added:
        district = District(code=data.DISTRICT["code"])
        db.session.add(district)
    district.name = data.DISTRICT["name"]
    streets, streets_added = _upsert(Street, data.STREETS,
                                     lambda s: {"name": s["name"], "district": district})
    communities, communities_added = _upsert(
        Community, data.COMMUNITIES,
        lambda c: {"name": c["name"], "street": streets[c["street"]], "phone": c["phone"], "address": c["address"]})
    departments, departments_added = _upsert(Department, data.DEPARTMENTS, lambda d: {"name": d["name"]})
    _seed_places(communities)
    _department_details(departments)
    db.session.commit()
    org = {"district": district, "streets": streets, "communities": communities, "departments": departments}
    added = district_added + streets_added + communities_added + departments_added
    counts = (f"{data.DISTRICT['name']}, {len(data.STREETS)} streets, {len(data.COMMUNITIES)} communities, "
              f"{len(data.DEPARTMENTS)} departments")
    if added:
        return org, f"organisation: {counts} ({added} added, the rest refreshed)"
    return org, f"organisation: {counts} already present (refreshed, nothing added)"


def _seed_places(communities):
    """The gazetteer: every community's own road, and the splits, roads and 小区 of data.PLACE_NAMES (added once;
    what admins changed since stays)."""
    db.session.flush()  # communities added just now get their ids
    rows = {(row.community_id, row.name): row for row in db.session.scalars(select(PlaceName))}
    wanted = [(c["code"], _road(c["address"]), None, None, "all") for c in data.COMMUNITIES] + list(data.PLACE_NAMES)
    for code, name, first, last, parity in wanted:
        community = communities[code]
        row = rows.get((community.id, name))
        if row is None:
            row = rows[community.id, name] = PlaceName(community_id=community.id, name=name, first=first, last=last,
                                                       parity=parity)
            db.session.add(row)
        if row.latitude is None:  # a position near the community's own, so a volunteer's address finds one
            row.latitude, row.longitude = _place_position(code, name)


def _place_position(community_code, name):
    """A made-up but steady position for a demo place: around its community's spot in the demo district."""
    place, spot = random.Random(community_code), random.Random(f"{community_code}:{name}")
    return (round(data.DEMO_CENTRE[0] + place.uniform(-0.02, 0.02) + spot.uniform(-0.002, 0.002), 5),
            round(data.DEMO_CENTRE[1] + place.uniform(-0.03, 0.03) + spot.uniform(-0.002, 0.002), 5))


# --- users ------------------------------------------------------------------------------------

def _short(community_name):
    return community_name.removesuffix("社区")


def _extra_user_specs():
    """(username, role, display name, unit kind, unit code) of every account on the shared password."""
    names = iter(data.VOLUNTEER_NAMES[1:])
    for i, code in enumerate(VOLUNTEER_COMMUNITIES):
        for n in range(1, (5 if code == FOCUS_COMMUNITY else 3 + i % 2) + 1):
            yield f"v-{code}-{n}", Role.VOLUNTEER, next(names), "community", code
    surnames = data.RESIDENT_SURNAMES
    for i, spec in enumerate(data.COMMUNITIES):
        if spec["code"] != FOCUS_COMMUNITY:  # 盐城路社区's staff is one of the featured logins
            display = f"{_short(spec['name'])}社工小{surnames[i % len(surnames)]}"
            yield f"{spec['code']}-staff", Role.COMMUNITY_STAFF, display, "community", spec["code"]
    for spec in data.DEPARTMENTS:
        if spec["code"] != "water":
            yield spec["code"], Role.DEPARTMENT_USER, spec["name"], "department", spec["code"]


def _units(org, kind, code):
    key = {"street": "streets", "community": "communities", "department": "departments"}.get(kind)
    return {kind: org[key][code]} if kind else {}


def _seed_users(org):
    """The featured logins through create_user; the many others in bulk with one password hash."""
    added = updated = 0
    users = {}
    for username, role, password, display, kind, code in LOGINS:
        unit = _units(org, kind, code)
        user, created = create_user(username, role.value, password, display or unit[kind].name, **unit)
        users[username] = user
        added, updated = added + created, updated + (not created)
    specs = list(_extra_user_specs())
    wanted = select(User).where(User.username.in_([spec[0] for spec in specs]))
    existing = {user.username: user for user in db.session.scalars(wanted)}
    template = User()
    template.set_password(SHARED_PASSWORD)  # hashing is slow on purpose: once, not 110 times
    for username, role, display, kind, code in specs:
        user = existing.get(username)
        if user is None:
            user = User(username=username)
            db.session.add(user)
            added += 1
        else:
            updated += 1
        unit = {"street": None, "community": None, "department": None} | _units(org, kind, code)
        user.role, user.display_name, user.password_hash = role, display, template.password_hash
        user.street, user.community, user.department = unit["street"], unit["community"], unit["department"]
        users[username] = user
    for user in users.values():
        user.active = True
    db.session.commit()
    line = f"users: {added} added, {updated} already present (demo passwords reset)"
    return users, line


def _login_block(org):
    width = max(len(u) for u, *_ in LOGINS)
    lines = ["", "demo logins (username / password):"]
    for username, role, password, display, kind, code in LOGINS:
        where = _units(org, kind, code)[kind].name if kind else data.DISTRICT["name"]
        who = f"，{display}" if display and role in (Role.COMMUNITY_DIRECTOR, Role.VOLUNTEER) else ""
        lines.append(f"  {username.ljust(width)} / {password.ljust(22)} {role.label}（{where}{who}）")
    lines.append(f"  every other demo account: password {SHARED_PASSWORD} — 365 volunteers v-<community>-<n> "
                 f"(e.g. v-{FOCUS_COMMUNITY}-1), community staff <community>-staff (e.g. taianlu-staff), "
                 "department users by department code (e.g. power, gas)")
    lines.append("")
    return lines


# --- 365 teams and routing ------------------------------------------------------------------

SHARED_VOLUNTEERS = {"v-yanchenglu-2", "v-nanjinglu-1"}  # also on 湛山街道's shared team


def _department_details(departments):
    """Categories handled, contact and phone, filled in where empty so that an admin's edit survives a re-seed."""
    for spec in data.DEPARTMENTS:
        row = departments[spec["code"]]
        contact, phone = data.DEPARTMENT_CONTACTS.get(spec["code"], (None, None))
        row.categories = row.categories or list(spec["categories"])
        row.contact_name, row.phone = row.contact_name or contact, row.phone or phone


def _volunteer_profile(index, user, today):
    """A deterministic profile drawn from the username: skills, hours, leave, cap, where they live."""
    rng, codes = random.Random(user.username), list(SKILLS)
    chosen = {codes[index % len(codes)], *rng.sample(codes, rng.randrange(3))}
    weekday = rng.choice(data.WEEKDAY_HOURS)
    week = ["" if rng.random() < 0.15 else weekday for _ in range(5)]
    week += [rng.choice(data.WEEKEND_HOURS) if rng.random() < 0.4 else "" for _ in range(2)]
    leave = []
    if index % 6 == 2:  # on leave around the demo date
        leave.append([str(today - timedelta(days=1)), str(today + timedelta(days=1))])
    if index % 6 == 4:  # leave coming up
        leave.append([str(today + timedelta(days=3)), str(today + timedelta(days=5))])
    road = _road(user.community.address or "") or "本社区"
    lat, lon = _place_position(user.community.code, road)
    return Volunteer(user=user, skills=[code for code in codes if code in chosen], weekly_hours=week, leave=leave,
                     max_tasks=3 + rng.randrange(3), serves_street=user.username in SHARED_VOLUNTEERS,
                     openid=data.DEMO_VOLUNTEER_OPENID if user.username == "volunteer" else None,
                     latitude=lat, longitude=lon, location_label=f"{road}{rng.randrange(1, 60)}号")


def _seed_volunteers(users, now):
    """A profile for every demo volunteer who has none; existing profiles (maybe edited) are left alone."""
    volunteers = sorted((u for u in users.values() if u.role is Role.VOLUNTEER), key=lambda u: u.username)
    have = set(db.session.scalars(select(Volunteer.user_id).where(Volunteer.user_id.in_([u.id for u in volunteers]))))
    today = now.astimezone(SHANGHAI).date()
    added = 0
    for index, user in enumerate(volunteers):
        if user.id not in have:
            db.session.add(_volunteer_profile(index, user, today))
            added += 1
    db.session.commit()
    return f"volunteer profiles: {added} added, {len(volunteers) - added} already present"


# --- tickets ----------------------------------------------------------------------------------

def _count_demo_tickets():
    rows = db.session.scalars(select(TicketEvent.data).where(TicketEvent.kind == "created"))
    return sum(1 for row in rows if row and row.get("demo"))


def _seed_tickets(org, users, ticket_count, now, rng):
    existing = _count_demo_tickets()
    missing = ticket_count - existing
    if missing <= 0:
        return f"tickets: {existing} demo tickets already present, none added"
    world = World(org, users, now, rng)
    plans = world.plan(missing)
    world.replay(plans)
    first = min(p.created for p in plans)
    return (f"tickets: {missing} demo tickets added ({existing} were already present), created from "
            f"{first.astimezone(SHANGHAI):%Y-%m-%d} to {now.astimezone(SHANGHAI):%Y-%m-%d %H:%M} (Asia/Shanghai)")


def _forget_old_news(now, keep=timedelta(hours=12)):
    """The demo's back-dated history is not announced again: only its last hours' notifications stay queued."""
    table = Notification.__table__
    gone = db.session.execute(delete(table).where(table.c.created_at < now - keep)).rowcount
    db.session.commit()
    return f"notifications: {gone} of the back-dated history dropped, the last 12 hours' kept for delivery"


def _status_summary():
    counts = dict(db.session.execute(select(Ticket.status, func.count()).group_by(Ticket.status)).all())
    total = sum(counts.values())
    parts = ", ".join(f"{status.value} {counts[status]}" for status in Status if counts.get(status))
    return f"tickets by status ({total} in all): {parts or 'none'}"


def _allocate(total, weights):
    """Split total into integers proportional to weights (largest remainder; deterministic)."""
    whole = sum(weights)
    quotas = [total * w / whole for w in weights]
    counts = [math.floor(q) for q in quotas]
    by_remainder = sorted(range(len(weights)), key=lambda i: (counts[i] - quotas[i], i))
    for i in by_remainder[:total - sum(counts)]:
        counts[i] += 1
    return counts


def _road(address):
    match = re.match(r"(.+?路)", address)
    return match.group(1) if match else address


class World:
    """The demo's cast and rules: who works where, and how a ticket travels through the lifecycle."""

    def __init__(self, org, users, now, rng):
        self.org, self.now, self.rng = org, now, rng
        self.principals = {name: Principal.from_user(user) for name, user in users.items()}
        self.categories = {c.code: c for c in db.session.scalars(select(Category))}
        self.volunteers = defaultdict(list)
        for username, user in users.items():
            if user.role is Role.VOLUNTEER:
                self.volunteers[user.community.code].append(username)
        self.departments = defaultdict(list)
        for spec in data.DEPARTMENTS:
            for category in spec["categories"]:
                self.departments[category].append(spec["code"])
        self._messages()

    # -- planning -------------------------------------------------------------------------

    def _messages(self):
        """Messages that name a community's road belong to that community; the others fit anywhere."""
        roads = {_road(c["address"]): c["code"] for c in data.COMMUNITIES} | OTHER_ROADS
        self.road_pattern = re.compile("(?:" + "|".join(map(re.escape, sorted(roads, key=len, reverse=True)))
                                       + r")\d+号(?:院)?(?:\d+号楼)?(?:\d+单元)?(?:\d+室)?")
        self.general, self.pinned = [], defaultdict(list)
        for message in data.RESIDENT_MESSAGES:
            codes = [code for road, code in roads.items() if road in message[0]]
            if codes:
                self.pinned[codes[0]].append(message)
            else:
                self.general.append(message)
        self.addresses = {
            c["code"]: [a for a in data.STREET_ADDRESSES if a.startswith(_road(c["address"]))] or [c["address"]]
            for c in data.COMMUNITIES}

    def _pick_message(self, spec):
        own = self.pinned[spec["code"]]
        if own and self.rng.random() < min(0.5, 0.12 * len(own)):
            return self.rng.choice(own)
        return self.rng.choice(self.general)

    def _created(self):
        """A daytime moment (Asia/Shanghai) in the last ten weeks, recent weeks more likely."""
        today = self.now.astimezone(SHANGHAI).date()
        hours, hour_weights = zip(*HOUR_WEIGHTS.items())
        while True:
            week = self.rng.choices(range(WEEKS), WEEK_WEIGHTS)[0]
            day = today - timedelta(days=week * 7 + self.rng.randrange(7))
            hour = self.rng.choices(hours, hour_weights)[0]
            at = datetime.combine(day, time(hour, self.rng.randrange(60), self.rng.randrange(60)), SHANGHAI)
            if at < self.now - timedelta(minutes=1):
                return as_utc(at)

    def plan(self, count):
        """Every ticket's community, time, message, channel and steps, in creation order."""
        weights = [_community_weight(c) for c in data.COMMUNITIES]
        plans = []
        for spec, n in zip(data.COMMUNITIES, _allocate(count, weights)):
            own = sorted((Plan(spec, self._created(), self._pick_message(spec)) for _ in range(n)),
                         key=lambda p: p.created)
            duplicates = 0
            for i, plan in enumerate(own):
                if i and self.rng.random() < DUPLICATE_RATE:
                    duplicates += self._make_duplicate(plan, [p for p in own[max(0, i - 3):i] if not p.duplicate_of])
            if spec["code"] == FOCUS_COMMUNITY and not duplicates and count >= 20:
                # so that even a small demo shows a merge: a second report of an older ticket
                for i in reversed(range(1, len(own))):
                    if own[i].created < self.now - timedelta(days=2) and self._make_duplicate(own[i], [own[i - 1]]):
                        break
            plans += own
        plans.sort(key=lambda p: p.created)
        fresh = [p for p in plans if not p.duplicate_of]
        forced_new = {id(p) for p in fresh[-max(2, count * 3 // 100):]}
        for plan in plans:
            plan.channel = self._channel(plan.message[0])
            if plan.duplicate_of:
                plan.steps = [Step("merge", self._manager(plan), S.MERGED, (10, 300), params={"duplicate": True})]
            else:
                fate = S.NEW if id(plan) in forced_new else self._fate(plan)
                plan.steps = self._path(plan, fate)
            self._schedule(plan)
            self._maybe_comment(plan)
        return plans

    def _make_duplicate(self, plan, earlier):
        """Turn a plan into a second report of an earlier ticket, sent a few hours later; False if it cannot be."""
        if not earlier:
            return False
        target = self.rng.choice(earlier)
        later = target.created + timedelta(minutes=15 * 32 ** self.rng.random())  # 15 minutes to 8 hours
        if later >= self.now - timedelta(minutes=2):
            later = target.created + (self.now - target.created) * self.rng.uniform(0.3, 0.8)
        later = _working(later, RESIDENT_HOURS, self.rng.random()).replace(microsecond=0)
        if not timedelta(minutes=5) <= later - target.created or later >= self.now:
            return False
        plan.created, plan.message, plan.duplicate_of = later, target.message, target
        return True

    def _channel(self, text):
        if text.startswith("居民来电"):
            return Channel.PHONE
        channels, weights = zip(*CHANNEL_WEIGHTS)
        return self.rng.choices(channels, weights)[0]

    def _fate(self, plan):
        age = (self.now - plan.created) / timedelta(days=1)
        table = next(weights for limit, weights in FATES if age < limit)
        return self.rng.choices(list(table), list(table.values()))[0]

    def _manager(self, plan):
        code = plan.community["code"]
        if code == FOCUS_COMMUNITY:
            return self.principals["yanchenglu" if self.rng.random() < 0.4 else "yanchenglu-staff"]
        return self.principals[f"{code}-staff"]

    def _supervisor(self, plan):
        street = plan.community["street"]
        return self.principals["zhanshan" if street == FOCUS_STREET else "admin"]

    def _targets(self, plan):
        """Where the ticket may be dispatched, preferred first: (params, principal); empty: the community handles it."""
        category = plan.message[1]
        if category in COMMUNITY_CATEGORIES and self.rng.random() < 0.8:
            return []
        volunteers = self.volunteers.get(plan.community["code"], [])
        departments = self.rng.sample(self.departments.get(category, []), len(self.departments.get(category, [])))
        if "water" in departments and self.rng.random() < 0.7:
            departments.remove("water")
            departments.insert(0, "water")
        by_department = [({"department": code}, self.principals[code]) for code in departments]
        chosen = self.rng.sample(volunteers, min(2, len(volunteers)))
        if "volunteer" in volunteers and self.rng.random() < 0.35:  # the featured login gets a fair share
            chosen = ["volunteer"] + [name for name in chosen if name != "volunteer"][:1]
        # The made-up history sends to whoever it drew, as a director who confirmed the warning would.
        by_volunteer = [({"assignee": name, "confirm": True}, self.principals[name]) for name in chosen]
        if category not in VOLUNTEER_CATEGORIES and departments:
            return by_department
        volunteer_first = category in ("appliance", "elderly_care") or self.rng.random() < 0.5
        return by_volunteer + by_department if volunteer_first else by_department + by_volunteer

    def _path(self, plan, fate):
        """Draw a full path to closure, with detours, then cut it where the ticket's fate says it stands."""
        rng, category, urgent = self.rng, plan.message[1], plan.message[2] in ("urgent", "high")
        steps = []
        add = steps.append
        if fate is S.NEW:
            return steps
        accept_delay = (2, 30) if urgent else ((5, 180) if rng.random() < 0.85 else (180, 1800))
        if fate is S.INVALID:
            if rng.random() < 0.4:
                add(Step("accept", self._manager(plan), S.ACCEPTED, accept_delay))
            add(Step("invalidate", self._manager(plan), S.INVALID, (10, 600), note=rng.choice(INVALID_NOTES)))
            return steps
        add(Step("accept", self._manager(plan), S.ACCEPTED, accept_delay))
        targets = self._targets(plan)
        wants = {
            "return": fate is S.RETURNED or (bool(targets) and rng.random() < 0.08),
            "wait": fate is S.WAITING_RESIDENT or rng.random() < 0.06,
            "extension": fate is S.EXTENSION_REQUESTED or (bool(targets) and rng.random() < 0.06),
            "reopen": fate is S.REOPENED or rng.random() < 0.04,
        }
        resolution = rng.choice(data.RESOLUTION_NOTES[category])
        if targets:
            self._handle(plan, steps, targets, wants, resolution)
        else:
            manager = self._manager(plan)
            if wants["wait"]:
                add(Step("wait_for_resident", manager, S.WAITING_RESIDENT, (20, 600), note=rng.choice(WAIT_NOTES)))
                add(Step("resume", manager, S.ACCEPTED, (180, 4000)))
            add(Step("resolve", manager, S.RESOLVED, (30, 2000), note=resolution))
        self._maybe_rate(steps, "unsatisfied" if wants["reopen"] else None)
        add(Step("close", self._manager(plan), S.CLOSED, (120, 3000)))
        if wants["reopen"]:
            add(Step("reopen", self._manager(plan), S.REOPENED, (600, 5000), note=rng.choice(REOPEN_NOTES)))
            if targets:
                params, handler = targets[0]
                add(Step("dispatch", self._manager(plan), S.DISPATCHED, (5, 120), params=params))
                add(Step("sign", handler, S.SIGNED, (10, 300), FIELD))
                add(Step("start", handler, S.IN_PROGRESS, (10, 600), FIELD))
                add(Step("resolve", handler, S.RESOLVED, (60, 2000), FIELD, note=rng.choice(
                    data.RESOLUTION_NOTES[category])))
            else:
                add(Step("resolve", self._manager(plan), S.RESOLVED, (60, 2000),
                         note=rng.choice(data.RESOLUTION_NOTES[category])))
            self._maybe_rate(steps)
            add(Step("close", self._manager(plan), S.CLOSED, (120, 3000)))
        return self._cut(steps, fate)

    def _maybe_rate(self, steps, rating=None):
        """Most residents rate a resolution before it is closed: mostly satisfied, some not (the 满意率)."""
        if rating is None and self.rng.random() > 0.7:
            return
        rating = rating or self.rng.choices(list(RATING_WEIGHTS), weights=list(RATING_WEIGHTS.values()))[0]
        steps.append(Step("rated", RESIDENT, None, (30, 1440), hours=None, params={"rating": rating}))

    def _handle(self, plan, steps, targets, wants, resolution):
        """Dispatch, maybe a return and a second dispatch, then sign, start, detours and resolve."""
        rng, add = self.rng, steps.append
        params, handler = targets[0]
        add(Step("dispatch", self._manager(plan), S.DISPATCHED, (2, 60), params=params))
        if wants["return"]:
            if rng.random() < 0.5:
                add(Step("sign", handler, S.SIGNED, (10, 300), FIELD))
            add(Step("return", handler, S.RETURNED, (30, 1200), FIELD, note=rng.choice(data.RETURN_REASONS)))
            params, handler = targets[1] if len(targets) > 1 else targets[0]
            add(Step("dispatch", self._manager(plan), S.DISPATCHED, (30, 360), params=params,
                     note=f"改派：{handler.label}"))
        add(Step("sign", handler, S.SIGNED, (10, 360), FIELD))
        add(Step("start", handler, S.IN_PROGRESS, (10, 1440), FIELD))
        if wants["wait"]:
            add(Step("wait_for_resident", handler, S.WAITING_RESIDENT, (30, 1440), FIELD, note=rng.choice(WAIT_NOTES)))
            add(Step("resume", handler, S.IN_PROGRESS, (180, 4000), FIELD))
        if wants["extension"]:
            add(Step("request_extension", handler, S.EXTENSION_REQUESTED, (600, 4000), FIELD,
                     note=rng.choice(EXTENSION_NOTES)))
            if rng.random() < 0.8:
                add(Step("approve_extension", self._supervisor(plan), S.IN_PROGRESS, (60, 1440), SUPERVISOR_HOURS))
            else:
                add(Step("refuse_extension", self._supervisor(plan), S.IN_PROGRESS, (60, 1440), SUPERVISOR_HOURS,
                         note=rng.choice(REFUSE_NOTES)))
        add(Step("resolve", handler, S.RESOLVED, (60, 4000), FIELD, note=resolution))

    @staticmethod
    def _cut(steps, fate):
        """Keep the steps up to the last one that leaves the ticket in its fate (or the nearest open state)."""
        if fate is S.CLOSED:
            return steps
        for wanted in (fate, S.IN_PROGRESS, S.ACCEPTED):
            ends = [i for i, step in enumerate(steps) if step.status is wanted]
            if ends:
                return steps[:ends[-1] + 1]
        return steps[:1]

    def _schedule(self, plan):
        """Give each step a time: drawn delays, working hours, squeezed (or cut) to end before now."""
        rng, steps = self.rng, plan.steps
        delays = [step.delay[0] * (step.delay[1] / step.delay[0]) ** rng.random() for step in steps]
        starts = [rng.random() for _ in steps]
        for scale in (1, 0.5, 0.25, 0.1, 0.04, 0.015):
            at, times = plan.created, []
            for step, delay, start in zip(steps, delays, starts):
                at = _working(at + timedelta(minutes=max(1.0, delay * scale)), step.hours, start)
                at = at.replace(microsecond=0)
                times.append(at)
            if not times or times[-1] <= self.now:
                break
        for step, at in zip(steps, times):
            step.at = at
        plan.steps = [step for step in steps if step.at <= self.now]

    def _maybe_comment(self, plan):
        """About a third of the handled tickets get a note on their timeline, while they are open."""
        rng, steps = self.rng, plan.steps
        if not steps or steps[0].name == "merge" or rng.random() > 0.35:
            return
        i = rng.randrange(len(steps))
        if i + 1 == len(steps) and steps[i].status not in OPEN_STATUSES:
            return
        start = steps[i].at
        end = steps[i + 1].at if i + 1 < len(steps) else self.now
        if end - start < timedelta(minutes=4):
            return
        at = (start + (end - start) * rng.uniform(0.2, 0.8)).replace(microsecond=0)
        who = steps[i].who
        if steps[i].name in ENDS_TASK and who.role not in MANAGERS:  # their task is over: staff write the note
            who = self.principals[f"{plan.community['code']}-staff"]
        steps.insert(i + 1, Step("comment", who, None, note=rng.choice(data.COMMENTS), at=at))

    # -- replaying ------------------------------------------------------------------------

    def replay(self, plans):
        """Create the tickets and take their steps through the services, all in time order."""
        agenda = sorted([(plan.created, i, 0) for i, plan in enumerate(plans)]
                        + [(step.at, i, j) for i, plan in enumerate(plans) for j, step in enumerate(plan.steps, 1)])
        with pipeline.unit():
            for at, i, j in agenda:
                plan = plans[i]
                if j == 0:
                    plan.ticket = pipeline.open_ticket(self._opener(plan), self._new_ticket(plan), now=at)
                else:
                    self._take(plan, plan.steps[j - 1], at)

    def _opener(self, plan):
        return self._manager(plan) if plan.channel is Channel.PHONE else SYSTEM

    def _new_ticket(self, plan):
        text, category, priority = plan.message
        spec = plan.community
        match = self.road_pattern.search(text)
        address = match.group(0) if match else self.rng.choice(self.addresses[spec["code"]])
        phone = name = None
        if plan.channel is Channel.PHONE:
            phone = f"1381234{self.rng.randrange(10000):04d}"
            name = self.rng.choice(data.RESIDENT_SURNAMES) + self.rng.choice(RESIDENT_TITLES)
        community = self.org["communities"][spec["code"]]
        return store.NewTicket(description=text, community=community, channel=plan.channel,
                               category=self.categories[category], priority=Priority(priority),
                               address=address, resident_phone=phone, resident_name=name, extra={"demo": True})

    def _take(self, plan, step, at):
        ticket = plan.ticket
        if step.name == "comment":
            pipeline.act(step.who, ticket, "comment", step.note, now=at)
            return
        if step.name == "rated":
            rating = step.params["rating"]
            pipeline.act(step.who, ticket, "rate", note=ratings.RATINGS[rating], now=at, rating=rating)
            return
        params = step.params
        if step.params.get("duplicate"):
            target = plan.duplicate_of.ticket
            if target.status in TERMINAL_STATUSES:
                pipeline.act(step.who, ticket, "invalidate", now=at,
                             note=f"与工单 {target.number} 重复，该工单已{target.status.label}")
                return
            params = {"into": target.number}
        pipeline.act(step.who, ticket, step.name, note=step.note, now=at, **params)


def _working(at, hours, start):
    """Move a moment outside working hours (local) to the next morning, start·90 minutes after opening."""
    if hours is None:
        return at
    local = at.astimezone(SHANGHAI)
    opens, closes = hours
    if opens <= local.hour < closes:
        return at
    day = local.date() if local.hour < opens else local.date() + timedelta(days=1)
    return as_utc(datetime.combine(day, time(opens), SHANGHAI) + timedelta(minutes=start * 90))
