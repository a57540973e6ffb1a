"""make bench, the monitor: the street and district overviews at city scale, and the fast path against the timeline.

    python -m bench.monitor_bench [--tickets 2000000] [--months 24] [--repeats 15] [--database-url URL]
                                  [--keep-db] [--reuse-db]

Builds its own database (<name>_monitor) with the demo organisation and COPYs `tickets` tickets spread over
`months` months, each with a timeline as the app writes it: every state change is taken through the real
state machine (lifecycle.next_status) and the ticket's columns are what those steps leave behind. Then it
runs the real refresher (rebuild, then the incremental job after a few hundred changes made through the real
services), times the two overview pages through the app in-process, times the same street figures computed
straight from the timeline as a baseline, and checks that the fast path's figures equal the timeline's.
Exits 1 on a page over its goal, a difference, or a failed request.
"""
import argparse
import functools
import heapq
import json
import math
import queue
import random
import re
import statistics
import sys
import threading
import time
from bisect import bisect
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from datetime import time as clock
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402
from sqlalchemy import event, func, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench import dataset  # noqa: E402
from bench.progress import log  # noqa: E402
from dispatch.cache import clear_all  # noqa: E402
from dispatch.demo import data as demo  # noqa: E402
from dispatch.extensions import db  # noqa: E402
from dispatch.monitor import metrics, refresh, timeline  # noqa: E402
from dispatch.monitor.facts import RATES, rate  # noqa: E402
from dispatch.monitor.metrics import Selection  # noqa: E402
from dispatch.monitor.models import DailyRollup, TicketFact  # noqa: E402
from dispatch.org.models import Community, Street, User  # noqa: E402
from dispatch.org.principal import Principal  # noqa: E402
from dispatch.org.roles import Role  # noqa: E402
from dispatch.sla.calendars import package_years  # noqa: E402
from dispatch.sla.models import CalendarYear  # noqa: E402
from dispatch.tickets.lifecycle import ANSWERING as STOPS_RESPONSE  # noqa: E402
from dispatch.tickets.lifecycle import OPEN_STATUSES, TRANSITIONS, Status, next_status  # noqa: E402
from dispatch.tickets import pipeline  # noqa: E402
from dispatch.tickets.models import Category, Channel, Priority, Ticket, TicketEvent  # noqa: E402
from dispatch.tickets.store import NewTicket  # noqa: E402
from dispatch.timeutil import SHANGHAI, system_now  # noqa: E402

TICKETS = 2_000_000
MONTHS = 24
REPEATS = 15
WARMUP = 3
TIMELINE_REPEATS = 3  # the slow path takes seconds a call: a few calls are enough for its median
STREET_GOAL_MS, DISTRICT_GOAL_MS = 300.0, 1000.0
CHUNK = 50_000  # tickets per COPY round (one transaction each)
CHANGES = 100  # tickets moved on by each kind of change before the incremental refresh
ADMIN = ("admin", "shinan-admin-2026")  # the demo's district admin (dispatch/demo/seed.py LOGINS)
HOURS_TOLERANCE = 1e-6

# The shape of the timelines: shares of tickets (or of those that reach the step).
MERGED, INVALID = 0.02, 0.03  # 合并 into an open ticket of the same community; 作废
LATE_RESPONSE = 0.12  # accepted after the response limit
DIRECT = 0.35  # resolved by the community itself, no dispatch
TAKE_BACK, RETURN = 0.02, 0.04  # dispatched tasks taken back unsigned; returned by the holder
VOLUNTEER = 0.3  # dispatches to a volunteer (where the community has a team), else to a department
START, WAIT, EXTENSION, APPROVED = 0.5, 0.03, 0.05, 0.8
LATE_RESOLUTION = 0.18
RATED, CALLBACK, REACHED, HEARD = 0.5, 0.2, 0.8, 0.7  # resident's own rating; else a call-back, its outcome
STAFF_CLOSE = 0.9  # rated tickets staff close; the others stay resolved (rated ones are never auto-closed)
REDO = 0.5  # unsatisfied ratings that lead to 重办
REOPEN_CLOSED = 0.01
COMMENT = 0.1
AUTO_CLOSE = timedelta(days=7)  # config AUTO_CLOSE_DAYS
MERGE_WINDOW = timedelta(days=2)  # a duplicate is merged into a ticket opened at most this long before
RATINGS = {"satisfied": 72, "basically_satisfied": 18, "unsatisfied": 10}
RATING_LABELS = {"satisfied": "满意", "basically_satisfied": "基本满意", "unsatisfied": "不满意"}
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 4, 8, 12, 12, 12, 10, 8, 10, 12, 12, 10, 8, 6, 5, 4, 3, 2, 1)
NOTES = {"return": "不属于本部门职责，请重新派单", "wait_for_resident": "需居民补充照片和具体位置",
         "request_extension": "需要物业协调，申请延期", "refuse_extension": "时限内可以办完，请抓紧",
         "resolve": "已到现场处理完毕，居民确认", "reopen": "居民不满意，重新办理", "invalidate": "重复来电，已在其他工单处理",
         "withdraw": "派错了，撤回", "comment": "已电话联系居民，约好上门时间"}
ROBOT, RESIDENT, SWEEP = (None, "系统"), (None, "居民（微信）"), (None, "时限监控")
EMPTY = "{}"
OPENED_BY = ("居民（微信）", "居民（微信）", "接口：12345热线", "社区工作人员（社区工作人员）")

TICKET_COLUMNS = ("id", "number", "channel", "community_id", "category_id", "priority", "status", "description",
                  "address", "sla_paused_seconds", "created_at", "updated_at", "version", "accepted_at",
                  "resolved_at", "closed_at", "response_due_at", "resolution_due_at", "responded_at", "sla_paused_at",
                  "sla_deadline_at", "assignee_id", "department_id", "merged_into_id", "rating", "rated_at",
                  "description_pending", "needs_listening")
EVENT_COLUMNS = ("ticket_id", "at", "kind", "actor_user_id", "actor_label", "from_status", "to_status", "note",
                 "data")
RATING_DRAW = [r for r, weight in RATINGS.items() for _ in range(weight)]
RESPONSE_LIMITS = {p: timedelta(hours=h) for p, h in dataset.RESPONSE_HOURS.items()}
RESOLUTION_LIMITS = {p: timedelta(days=d) for p, d in dataset.RESOLUTION_DAYS.items()}
MINUTE = timedelta(minutes=1)
NEW = Status.NEW.value
OPEN = frozenset(s.value for s in OPEN_STATUSES)
NOT_COUNTED = frozenset({Status.INVALID.value, Status.MERGED.value})
PAUSES = frozenset({Status.WAITING_RESIDENT.value, Status.EXTENSION_REQUESTED.value})
# The notes of the steps the walks take that need one (the walks take only actions NOTES has words for).
NEEDED_NOTES = {name: note for name, note in NOTES.items() if name in TRANSITIONS and TRANSITIONS[name].needs_note}


@functools.cache
def step(status, name, paused_from):
    """The status an action leads to, from the app's own state machine (IllegalTransition if not allowed)."""
    previous = Status(paused_from) if paused_from else None
    return next_status(Status(status), name, previous).value


@functools.cache
def as_json(*pairs):
    """The JSON of an entry's data, built once per distinct value (most entries carry one of a few)."""
    return json.dumps(dict(pairs))


def own_url(database_url):
    """The same server, this bench's own database (<name>_monitor)."""
    url = make_url(dataset.plain_url(database_url))
    name = url.database if url.database.endswith("_monitor") else f"{url.database}_monitor"
    return url.set(database=name).render_as_string(hide_password=False)


# ---- the organisation and who acts ----

def prepare(url, log):
    """Schema, the demo organisation with its users, calendar years; returns the app and who acts where."""
    clear_all()  # communities and calendars another bench database left in this process's caches
    app = dataset.dispatch_app(url)
    dataset.prepare_schema(app, log)
    with app.app_context():
        # chinese_calendar stops at its last year; clocks near New Year must not fail on the next one.
        for year in range(package_years()[1] + 1, datetime.now(timezone.utc).year + 3):
            db.session.merge(CalendarYear(year=year, note="bench: weekdays only"))
        db.session.commit()
        org = reference()
        db.session.remove()
        db.engine.dispose()
    return app, org


def _actor(user):
    """(user id, timeline label) as Principal.from_user labels a user."""
    return user.id, f"{user.display_name}（{user.role.label}）"


def reference():
    """Communities with their streets, categories, departments, and the users who act in each place."""
    communities = db.session.execute(select(Community.id, Community.street_id).order_by(Community.id)).all()
    users = db.session.scalars(select(User).where(User.active)).all()
    staff, volunteers, departments, supervisors = defaultdict(list), defaultdict(list), {}, {}
    admin = None
    for user in users:
        if user.role in (Role.COMMUNITY_DIRECTOR, Role.COMMUNITY_STAFF):
            staff[user.community_id].append(_actor(user))
        elif user.role is Role.VOLUNTEER:
            volunteers[user.community_id].append((*_actor(user), user.username))
        elif user.role is Role.DEPARTMENT_USER:
            departments[user.department_id] = (*_actor(user), user.department.code)
        elif user.role is Role.STREET_SUPERVISOR:
            supervisors[user.street_id] = _actor(user)
        elif user.role is Role.DISTRICT_ADMIN and user.username == ADMIN[0]:
            admin = _actor(user)
    categories = dict(db.session.execute(select(Category.code, Category.id)).all())
    return {"communities": [c for c, _ in communities], "street_of": dict(communities), "categories": categories, "staff": dict(staff), "volunteers": dict(volunteers),
            "departments": departments, "supervisors": supervisors, "admin": admin}


# ---- when tickets come in ----

def day_counts(count, months, now):
    """Tickets per local day over the last `months` months, summing to `count`: growing, quieter at weekends."""
    today = now.astimezone(SHANGHAI).date()
    days = [today - timedelta(days=n) for n in range(round(months * 30.44) - 1, -1, -1)]
    today_share = sum(HOUR_WEIGHTS[:now.astimezone(SHANGHAI).hour]) / sum(HOUR_WEIGHTS)
    weights = [(0.75 + 0.5 * i / len(days)) * (0.6 if d.weekday() >= 5 else 1.0) for i, d in enumerate(days)]
    weights[-1] *= today_share  # only the hours of today that have passed
    total, running, counts = sum(weights), 0.0, []
    for day, weight in zip(days, weights):
        before = round(running * count / total)
        running += weight
        counts.append((day, round(running * count / total) - before))
    return counts


def arrivals(rng, counts, now):
    """(local day, naive UTC instant) of every ticket in time order, mostly in office hours, none after now."""
    local_now = now.astimezone(SHANGHAI)
    for day, n in counts:
        # Today only has the hours that have passed (day_counts gave it their share of tickets).
        hours = range(local_now.hour if day == local_now.date() else 24)
        cumulative = list(_cumulative(HOUR_WEIGHTS[:len(hours)]))
        midnight = datetime.combine(day, clock(), SHANGHAI).astimezone(timezone.utc).replace(tzinfo=None)
        seconds = sorted(rng.choices(hours, cum_weights=cumulative)[0] * 3600 + rng.randrange(3600)
                         for _ in range(n))
        for s in seconds:
            yield day, midnight + timedelta(seconds=s)


def _cumulative(weights):
    """Running totals, for random.choices(cum_weights=...)."""
    total = 0
    for weight in weights:
        total += weight
        yield total


# ---- one ticket's timeline ----

class Cut(Exception):
    """The next step would fall after now: the ticket's story stops where it is."""


class Walk:
    """One ticket's timeline, each step taken through the real state machine, and the columns it leaves."""

    def __init__(self, ticket_id, created, now, priority, opened_by, opened_data):
        self.id, self.now, self.at, self.created = ticket_id, now, created, created
        self.status, self.paused_from, self.paused_at, self.paused_seconds = NEW, None, None, 0
        self.response_due = created + RESPONSE_LIMITS[priority]
        self.resolution_limit = RESOLUTION_LIMITS[priority]
        self.resolution_due = created + self.resolution_limit
        self.accepted_at = self.responded_at = self.resolved_at = self.closed_at = self.ended_at = None
        self.rating = self.rated_at = self.assignee_id = self.department_id = self.merged_into_id = None
        self.events = [(ticket_id, created, "created", None, opened_by, None, NEW, None, opened_data)]

    def _advance(self, after):
        at = self.at + after
        if at >= self.now:
            raise Cut
        self.at = at
        return at

    def entry(self, kind, after, actor, note=None, data=EMPTY):
        """A timeline entry that changes no state (rated, callback, comment)."""
        at = self._advance(after)
        self.events.append((self.id, at, kind, actor[0], actor[1], None, None, note, data))
        return at

    def point(self, kind, at, note, data):
        """An SLA point the sweep writes at `at`, between the steps (the load sorts entries by time)."""
        if at < self.now:
            self.events.append((self.id, at, kind, None, SWEEP[1], None, None, note, data))

    def act(self, name, after, actor, note=None, data=EMPTY):
        """A lifecycle action: the state it leads to from next_status, its effects on the columns."""
        at = self._advance(after)
        target = step(self.status, name, self.paused_from)
        if target in PAUSES:
            self.paused_from = self.status
        self._effects(name, at)
        self.events.append((self.id, at, name, actor[0], actor[1], self.status, target,
                            NEEDED_NOTES.get(name) if note is None else note, data))
        self.status = target
        return at

    def _effects(self, name, at):
        """What tickets.services and sla.services change besides the status (clock hours, roughly)."""
        if name in STOPS_RESPONSE and self.responded_at is None:
            self.responded_at = at
        if name == "accept":
            self.accepted_at = at
        elif name == "resolve":
            self.resolved_at = at
        elif name in ("close", "invalidate", "merge"):
            self.closed_at = at
            self.ended_at = self.ended_at or at
        elif name == "reopen":
            self.resolved_at = self.closed_at = None
            self.resolution_due = at + self.resolution_limit  # the clock starts again
        elif name in ("return", "withdraw", "take_back"):
            self.assignee_id = self.department_id = None
        elif name == "wait_for_resident":
            self.paused_at = at
        elif name == "resume":
            self.paused_seconds += int((at - self.paused_at).total_seconds())
            self.resolution_due += at - self.paused_at
            self.paused_at = None

    def rated(self, after, actor, rating, note=None, source=None):
        """A rating kept (ratings.keep_rating): the ticket's rating columns and a "rated" entry."""
        data = as_json(("rating", rating), *((("source", source),) if source else ()))
        self.rated_at = self.entry("rated", after, actor, note, data)
        self.rating = rating

    def row(self, number, channel, community_id, category_id, priority, text, address):
        """The ticket's row as the steps taken have left it."""
        status = self.status
        running = status in OPEN and self.paused_at is None
        deadline = (self.response_due if self.responded_at is None else self.resolution_due) if running else None
        return (self.id, number, channel, community_id, category_id, priority, status, text, address,
                self.paused_seconds, self.created, self.events[-1][1] if len(self.events) > 1 else self.created,
                len(self.events), self.accepted_at, self.resolved_at, self.closed_at, self.response_due,
                self.resolution_due, self.responded_at, self.paused_at if status == "waiting_resident" else None,
                deadline, self.assignee_id, self.department_id, self.merged_into_id, self.rating, self.rated_at,
                False, False)


class Timelines:
    """Tickets and their timelines in time order, as the app would have written them up to `now`."""

    def __init__(self, org, now, months, seed=20261121):
        self.rng = random.Random(seed)
        self.random = self.rng.random
        self.org, self.now, self.months = org, now.replace(tzinfo=None), months
        self.aware_now = now
        count = len(org["communities"])
        # Some communities are much busier than others (as in dataset.py), so one street stands out.
        self.community_weights = list(_cumulative([1 / (i + 1) ** 0.6 for i in range(count)]))
        self.community_total = self.community_weights[-1]
        # Channels in proportion to dataset.CHANNEL_WEIGHTS, as a list to pick from.
        self.channels = [c for c, weight in dataset.CHANNEL_WEIGHTS.items() for _ in range(weight)]
        self.departments = sorted(org["departments"])
        self.last_open = {}  # community → (ticket id, number, opened, first terminal instant): a merge target
        self.pending = []  # heap of (at, seq, event row) not yet written
        self.seq = 0
        self.events = 0
        self.numbers = Counter()
        self.prefixes = {}  # local day → "YYYYMMDD-", the start of the day's ticket numbers
        # The classifier's suggestion on the "created" entry: the same few strings, built once.
        self._suggested = {code: as_json(("suggested_category", code), ("suggested_priority", priority),
                                         ("urgent_terms", ())) for _, code, priority in demo.RESIDENT_MESSAGES}

    def hours(self, low, high):
        """A random span between low and high hours."""
        return timedelta(seconds=3600 * (low + (high - low) * self.random()))

    def pick(self, items):
        """One of a sequence (random.choice, without its overhead)."""
        return items[int(self.random() * len(items))]

    def chunks(self, count, size):
        """([ticket rows], [event rows]) per `size` tickets; each chunk's events refer to its tickets or earlier."""
        tickets, events = [], []
        counts = day_counts(count, self.months, self.aware_now)
        for ticket_id, (day, created) in enumerate(arrivals(self.rng, counts, self.aware_now), 1):
            events.extend(self._due_before(created))
            tickets.append(self.ticket(ticket_id, day, created))
            if len(tickets) == size:
                yield tickets, events
                tickets, events = [], []
        events.extend(self._due_before(self.now))
        yield tickets, events

    def _due_before(self, at):
        """Pending entries up to `at`, oldest first: timeline ids follow time as in the app."""
        pending = self.pending
        while pending and pending[0][0] <= at:
            yield heapq.heappop(pending)[2]
            self.events += 1

    def _push(self, rows):
        for row in rows:
            self.seq += 1
            heapq.heappush(self.pending, (row[1], self.seq, row))

    def ticket(self, ticket_id, day, created):
        """One ticket: its story walked to now, its entries queued, its row returned."""
        text, category, priority = self.pick(demo.RESIDENT_MESSAGES)
        community_id = self.org["communities"][bisect(self.community_weights, self.random() * self.community_total)]
        walk = Walk(ticket_id, created, self.now, priority, self.pick(OPENED_BY), self._suggested[category])
        try:
            self.story(walk, community_id)
        except Cut:
            pass
        self._push(walk.events)
        self.numbers[day] += 1
        number = f"{self.prefixes.get(day) or self.prefixes.setdefault(day, day.strftime('%Y%m%d-'))}" \
                 f"{self.numbers[day]:04d}"
        if walk.status not in NOT_COUNTED:
            self.last_open[community_id] = (ticket_id, number, created, walk.ended_at)
        return walk.row(number, self.pick(self.channels), community_id,
                        self.org["categories"].get(category), priority, text,
                        self.pick(demo.STREET_ADDRESSES) if self.random() < 0.6 else None)

    def staff(self, community_id):
        """Someone of the community's office (its director or staff), or the district admin."""
        people = self.org["staff"].get(community_id)
        return self.pick(people) if people else self.org["admin"]

    def supervisor(self, community_id):
        """Who decides on extensions: the street's supervisor, or the district admin."""
        return self.org["supervisors"].get(self.org["street_of"][community_id], self.org["admin"])

    # -- the story --

    def story(self, walk, community_id):
        """From opening to wherever the ticket has got by now."""
        random, staff = self.random, self.staff(community_id)
        fate = random()
        if fate < MERGED and self._merge(walk, community_id, staff):
            return
        if fate < MERGED + INVALID:
            if random() < 0.5:
                walk.act("accept", self.hours(0.05, 1), staff)
            walk.act("invalidate", self.hours(0.05, 4), staff)
            return
        self.respond(walk, staff)
        if random() < COMMENT:
            walk.entry("comment", self.hours(0.1, 4), staff, NOTES["comment"])
        self.handle(walk, community_id, staff)
        self.after_resolve(walk, community_id, staff, redo=False)

    def _merge(self, walk, community_id, staff):
        """合并 into the community's last ticket if it is recent and still open; False when there is none."""
        target = self.last_open.get(community_id)
        at = walk.at + self.hours(0.1, 2)
        if target is None or walk.created - target[2] > MERGE_WINDOW or (target[3] is not None and target[3] <= at):
            return False
        walk.merged_into_id = target[0]
        walk.act("merge", at - walk.at, staff, data=json.dumps({"into": target[1]}))
        self._push([(target[0], at, "merged_in", staff[0], staff[1], None, None, "工单作为重复并入",
                     json.dumps({"source": walk.id, "reporters": 0}))])
        return True

    def respond(self, walk, staff):
        """受理: most within the response limit, some late (after the sweep's breach point)."""
        limit = walk.response_due - walk.created
        late = self.random() < LATE_RESPONSE
        delay = limit * (1.02 + 3 * self.random() if late else 0.02 + 0.96 * self.random())
        if late:
            self._breach(walk, "response", walk.response_due)
        walk.act("accept", delay, staff)

    def _breach(self, walk, clock_name, due):
        """The sweep's breach point on a clock that ran out (its run a minute after the limit)."""
        label = {"response": "响应", "resolution": "办结"}[clock_name]
        walk.point("sla_breach", due + MINUTE, f"{label}时限已到，已告知社区主任",
                   as_json(("clock", clock_name), ("stage", 1), ("notify", True)))

    def handle(self, walk, community_id, staff):
        """From accepted to resolved: the community itself, or a task for a department or volunteer."""
        random = self.random
        late = random() < LATE_RESOLUTION
        target = walk.created + walk.resolution_limit * (1.05 + 2 * random() if late else 0.05 + 0.9 * random())
        if random() < DIRECT:
            holder = staff
        else:
            holder = self.dispatch(walk, community_id, staff)
            if random() < TAKE_BACK:
                walk.act("take_back", self.hours(24, 30), ROBOT)
                holder = self.dispatch(walk, community_id, staff)
            walk.act("sign", self.hours(0.1, 6), holder)
            if random() < RETURN:
                walk.act("return", self.hours(0.5, 24), holder)
                holder = self.dispatch(walk, community_id, staff)
                walk.act("sign", self.hours(0.1, 6), holder)
            if random() < START:
                walk.act("start", self.hours(0.1, 12), holder)
            if random() < EXTENSION:
                self.extension(walk, community_id, holder)
        if random() < WAIT:
            walk.act("wait_for_resident", self.hours(0.5, 12), holder)
            walk.act("resume", self.hours(2, 72), holder)
        self.resolve(walk, max(target - walk.at, self.hours(0.2, 2)), holder)

    def resolve(self, walk, after, holder):
        """办结, after the sweep's breach point when it comes after the resolution limit."""
        if walk.resolution_due < walk.at + after:
            self._breach(walk, "resolution", walk.resolution_due)
        walk.act("resolve", after, holder)

    def dispatch(self, walk, community_id, staff):
        """派单 to a volunteer of the community's team or to a department; returns who now holds it."""
        volunteers = self.org["volunteers"].get(community_id)
        if volunteers and self.random() < VOLUNTEER:
            user_id, label, username = self.pick(volunteers)
            walk.assignee_id, walk.department_id = user_id, None
            data = as_json(("assignee", username), ("department", None))
        else:
            department_id = self.pick(self.departments)
            user_id, label, code = self.org["departments"][department_id]
            walk.assignee_id, walk.department_id = None, department_id
            data = as_json(("assignee", None), ("department", code))
        walk.act("dispatch", self.hours(0.1, 3), staff, data=data)
        return user_id, label

    def extension(self, walk, community_id, holder):
        """延期: asked by the holder, approved (the resolution limit moves) or refused by the supervisor."""
        days = self.pick((2, 3, 5, 7))
        walk.act("request_extension", self.hours(1, 48), holder, data=as_json(("extension_days", days)))
        if self.random() < APPROVED:
            walk.act("approve_extension", self.hours(0.5, 24), self.supervisor(community_id),
                     data=as_json(("extension_days", days), ("sla", "extended")))
            walk.resolution_due += timedelta(days=days)
        else:
            walk.act("refuse_extension", self.hours(0.5, 24), self.supervisor(community_id))

    def after_resolve(self, walk, community_id, staff, redo):
        """Rated by the resident or on a call-back, else auto-closed unrated; 重办 after some 不满意."""
        random, resolved = self.random, walk.at
        rating = self.pick(RATING_DRAW)
        chance = random()
        if chance < RATED:
            walk.rated(self.hours(0.2, 72), RESIDENT, rating)
        elif chance < RATED + CALLBACK and self.called_back(walk, staff, rating):
            if rating != "unsatisfied":  # callbacks.record_callback closes at once
                walk.act("close", timedelta(0), staff, f"回访{RATING_LABELS[rating]}，关闭")
                return self._maybe_reopen(walk, community_id, staff, redo)
        else:
            return self._auto_close(walk, resolved)
        if rating == "unsatisfied" and not redo and random() < REDO:
            walk.act("reopen", self.hours(1, 24), staff)
            return self.redo(walk, community_id, staff)
        if random() < (STAFF_CLOSE if rating != "unsatisfied" else 0.5):
            walk.act("close", self.hours(0.1, 48), staff)
            self._maybe_reopen(walk, community_id, staff, redo)

    def called_back(self, walk, staff, rating):
        """A call-back: not reached, reached without a rating, or a rating heard (kept as the rating)."""
        reached = self.random() < REACHED
        heard = rating if reached and self.random() < HEARD else None
        walk.entry("callback", self.hours(24, 120), staff, None, as_json(("reached", reached), ("rating", heard)))
        if heard:
            walk.rated(timedelta(0), staff, heard, f"{RATING_LABELS[heard]}（电话回访）", "callback")
        return heard is not None

    def _auto_close(self, walk, resolved):
        """The scheduler closes a resolution nobody rated within AUTO_CLOSE (its job runs every few minutes)."""
        at = max(resolved + AUTO_CLOSE, walk.at) + MINUTE * 5 * self.random()
        walk.act("close", at - walk.at, ROBOT, f"居民 {AUTO_CLOSE.days} 天未评价，系统自动关闭")

    def _maybe_reopen(self, walk, community_id, staff, redo):
        """A few closed tickets come back (the problem returned)."""
        if not redo and self.random() < REOPEN_CLOSED:
            walk.act("reopen", self.hours(24, 240), staff)
            self.redo(walk, community_id, staff)

    def redo(self, walk, community_id, staff):
        """重办: dispatched again, resolved again, rated or closed again."""
        holder = self.dispatch(walk, community_id, staff)
        walk.act("sign", self.hours(0.1, 6), holder)
        self.resolve(walk, self.hours(4, 96), holder)
        self.after_resolve(walk, community_id, staff, redo=True)


# ---- loading ----

def _produced(items, depth=2):
    """The items of an iterator built in a thread, so the next chunk is generated while PostgreSQL takes one."""
    found = queue.Queue(maxsize=depth)
    done = object()

    def produce():
        try:
            for item in items:
                found.put(item)
        except BaseException as exc:  # handed to the consumer, which raises it
            found.put(exc)
        found.put(done)
    threading.Thread(target=produce, daemon=True, name="monitor-bench-rows").start()
    while (item := found.get()) is not done:
        if isinstance(item, BaseException):
            raise item
        yield item


def _copy(cur, table, columns, rows):
    """COPY rows into a table."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table),
                                                           sql.SQL(", ").join(map(sql.Identifier, columns)))
    with cur.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def load(url, org, count, months, now, log):
    """COPY `count` tickets and their timelines, chunk by chunk; then the day sequences, VACUUM ANALYZE."""
    source = Timelines(org, now, months)
    started, tickets, copying = time.perf_counter(), 0, 0.0
    with psycopg.connect(dataset.plain_url(url)) as conn:
        conn.execute("SET synchronous_commit = off")  # a bench load: losing it in a crash costs nothing
        with conn.cursor() as cur:
            for rows, events in _produced(source.chunks(count, CHUNK)):
                copy_started = time.perf_counter()
                _copy(cur, "tickets", TICKET_COLUMNS, rows)
                _copy(cur, "ticket_events", EVENT_COLUMNS, events)
                conn.commit()
                copying += time.perf_counter() - copy_started
                tickets += len(rows)
                if rows and tickets % (CHUNK * 10) == 0:
                    log(f"monitor: {tickets:,} tickets, {source.events:,} timeline entries "
                        f"({time.perf_counter() - started:.0f} s)")
            # pipeline.open_ticket numbers the next ticket of a day from here: the loaded numbers must not come back.
            cur.executemany("INSERT INTO ticket_sequences (day, last) VALUES (%s, %s) ON CONFLICT (day) "
                            "DO UPDATE SET last = excluded.last", list(source.numbers.items()))
            cur.execute("SELECT setval(pg_get_serial_sequence('tickets', 'id'), (SELECT max(id) FROM tickets))")
        conn.commit()
    copied = time.perf_counter() - started
    with psycopg.connect(dataset.plain_url(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE tickets")
        conn.execute("VACUUM ANALYZE ticket_events")
        conn.execute("CHECKPOINT")
    # Time in COPY beside the whole: the rest is waiting for the Python that writes the rows.
    return {"tickets": tickets, "events": source.events, "copy_s": round(copied, 1),
            "in_copy_s": round(copying, 1), "vacuum_s": round(time.perf_counter() - started - copied, 1)}


def shape(url):
    """What was loaded: streets, communities, tickets and entries by kind, the period, sizes on disk."""
    with psycopg.connect(dataset.plain_url(url)) as conn:
        one = lambda query: conn.execute(query).fetchone()  # noqa: E731
        first, last = one("SELECT min(created_at), max(created_at) FROM tickets")
        return {"streets": one("SELECT count(*) FROM streets")[0],
                "communities": one("SELECT count(*) FROM communities")[0],
                "tickets": one("SELECT count(*) FROM tickets")[0],
                "events": one("SELECT count(*) FROM ticket_events")[0],
                "first": f"{first:%Y-%m-%d}", "last": f"{last:%Y-%m-%d}",
                "statuses": dict(conn.execute("SELECT status, count(*) FROM tickets GROUP BY 1 ORDER BY 2 DESC")),
                "kinds": dict(conn.execute("SELECT kind, count(*) FROM ticket_events GROUP BY 1 ORDER BY 2 DESC")),
                "size": one("SELECT pg_size_pretty(pg_total_relation_size('tickets')) || ' tickets, ' || "
                            "pg_size_pretty(pg_total_relation_size('ticket_events')) || ' timeline'")[0]}


# ---- the refresher ----

def timed_rebuild(app, log):
    """refresh.rebuild over the whole timeline, as `flask monitor rebuild` runs it."""
    with app.app_context():
        started = time.perf_counter()
        refreshed = refresh.rebuild(system_now())
        seconds = time.perf_counter() - started
        facts = db.session.scalar(select(func.count()).select_from(TicketFact))
        days = db.session.scalar(select(func.count()).select_from(DailyRollup))
        db.session.remove()
    log(f"monitor: rebuilt {refreshed:,} facts in {seconds:.0f} s")
    return {"tickets": refreshed, "seconds": round(seconds, 1), "per_s": round(refreshed / seconds),
            "facts": facts, "rollup_rows": days}


def _some(status, count):
    """The newest `count` tickets in a status."""
    return db.session.scalars(select(Ticket).where(Ticket.status == status).order_by(Ticket.id.desc())
                              .limit(count)).all()


def change_some(app):
    """A few minutes of work through the real services: accept, resolve, rate and close, open new tickets."""
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.username == ADMIN[0]))
        principal = Principal.from_user(admin)
        before = db.session.scalar(select(func.max(TicketEvent.id)))
        at = system_now()
        for ticket in _some(Status.NEW, CHANGES):
            pipeline.act(principal, ticket, "accept", now=at)
        # Tickets the community handles itself: the admin may resolve those (a volunteer's are the volunteer's).
        for ticket in _some(Status.ACCEPTED, CHANGES):
            pipeline.act(principal, ticket, "resolve", note=NOTES["resolve"], now=at)
        for ticket in _some(Status.RESOLVED, CHANGES):
            if ticket.rated_at is None or ticket.rated_at < ticket.resolved_at:
                pipeline.act(principal, ticket, "rate", note="满意（电话回访）", now=at, rating="satisfied",
                             source="callback")
            pipeline.act(principal, ticket, "close", note="回访满意，关闭", now=at)
        communities = db.session.scalars(select(Community).order_by(Community.id)).all()
        category = db.session.scalar(select(Category).where(Category.code == "lighting"))
        for i in range(CHANGES):
            pipeline.open_ticket(principal, NewTicket(
                description="楼道灯不亮了，晚上上下楼看不见", community=communities[i % len(communities)],
                channel=Channel.PHONE, category=category, priority=Priority.NORMAL))
        written = db.session.scalar(select(func.max(TicketEvent.id))) - before
        db.session.remove()
    return written


def timed_refresh(app):
    """One run of the scheduler's job after the changes: seconds and tickets refreshed."""
    with app.app_context():
        started = time.perf_counter()
        refreshed = refresh.run_refresh(system_now())
        seconds = time.perf_counter() - started
        db.session.remove()
    return {"tickets": refreshed, "ms": round(seconds * 1000, 1)}


# ---- the pages ----

def logged_in(app):
    """A test client with the district admin's session (the login form, CSRF token and all)."""
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"username": ADMIN[0], "password": ADMIN[1], "csrf_token": token})
    if response.status_code != 302:
        raise RuntimeError(f"login as {ADMIN[0]} answered {response.status_code}")
    return client


def _get(client, url):
    """One page; anything but 200 stops the bench."""
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}: {response.get_data(as_text=True)[:300]}")
    return response


def time_page(client, url, repeats):
    """Warm-up requests, then `repeats` timed ones: median, p90 and min in ms."""
    for _ in range(WARMUP):
        _get(client, url)
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        _get(client, url)
        samples.append((time.perf_counter() - started) * 1000)
    return _stats(samples)


def _stats(samples):
    ordered = sorted(samples)
    p90 = ordered[min(len(ordered) - 1, math.ceil(0.9 * len(ordered)) - 1)]
    return {"median_ms": round(statistics.median(ordered), 1), "p90_ms": round(p90, 1),
            "min_ms": round(ordered[0], 1), "samples_ms": [round(s, 1) for s in samples]}


def slowest_statements(app, client, url, top=3):
    """The statements one request sends, slowest first (ms, SQL): where a slow page spends its time."""
    timings, started = [], {}

    def before(conn, cursor, statement, parameters, context, executemany):
        started[id(cursor)] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        timings.append(((time.perf_counter() - started.pop(id(cursor), time.perf_counter())) * 1000,
                        " ".join(statement.split())))
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        _get(client, url)
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    return {"count": len(timings), "sql_ms": round(sum(ms for ms, _ in timings), 1),
            "slowest": [(round(ms, 1), text[:240]) for ms, text in sorted(timings, reverse=True)[:top]]}


def periods(today):
    """The default period (the last 30 days: no query string) and the last three calendar months."""
    first = today.replace(day=1)
    three = (first - timedelta(days=1)).replace(day=1)
    three = (three - timedelta(days=1)).replace(day=1)
    return {"30 days": (today - timedelta(days=29), today, ""), "3 months": (three, today, f"?from={three}&to={today}")}


def busiest_street(app, start, end):
    """The street with the most tickets created in the period (the heaviest street page)."""
    with app.app_context():
        found = db.session.execute(select(TicketFact.street_id, func.count()).where(
            TicketFact.created_day >= start, TicketFact.created_day <= end).group_by(TicketFact.street_id)
            .order_by(func.count().desc()).limit(1)).one()
        name = db.session.get(Street, found[0]).name
        db.session.remove()
    return found[0], name, found[1]


def measure_pages(app, street_id, today, repeats):
    """Each overview page over each period, timed through the app; plus where one of each spends its time."""
    client = logged_in(app)
    pages = {"street": f"/monitor/streets/{street_id}", "district": "/monitor/district"}
    found = {}
    for label, (_, _, query) in periods(today).items():
        for page, path in pages.items():
            found[(page, label)] = time_page(client, path + query, repeats)
            found[(page, label)]["url"] = path + query
    statements = {page: slowest_statements(app, client, path + periods(today)["3 months"][2])
                  for page, path in pages.items()}
    return found, statements


# ---- the fast path against the timeline ----

def timed(function, repeats):
    """Median ms of `repeats` calls, and the last result."""
    samples, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = function()
        samples.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(samples), 1), result


def baseline(app, street_id, start, end, repeats):
    """The same street figures (by community) from the facts and straight from the timeline, timed."""
    selection = Selection(start, end, street_id=street_id)
    with app.app_context():
        fast_ms, _ = timed(lambda: metrics.figures(selection, by="community"), repeats)
        slow_ms, _ = timed(lambda: timeline.figures_from_timeline(selection, by="community"), TIMELINE_REPEATS)
        db.session.remove()
    return {"fast_ms": fast_ms, "timeline_ms": slow_ms, "ratio": round(slow_ms / fast_ms, 1) if fast_ms else None,
            "period": f"{start} – {end}"}


def differences(fast, slow):
    """Where two sets of rows disagree: counts and rates exactly, hours within HOURS_TOLERANCE."""
    found = []
    fast_rows, slow_rows = {r.key: r for r in fast}, {r.key: r for r in slow}
    for key in sorted(set(fast_rows) | set(slow_rows), key=str):
        a, b = fast_rows.get(key), slow_rows.get(key)
        if a is None or b is None:
            found.append(f"{key}: only in the {'timeline' if a is None else 'fast path'}")
            continue
        found += [f"{a.label} {name}: fast {a.counts.get(name)} timeline {b.counts.get(name)}"
                  for name in sorted(set(a.counts) | set(b.counts)) if a.counts.get(name) != b.counts.get(name)]
        found += [f"{a.label} {name}: fast {a.rates.get(name)} timeline {b.rates.get(name)}"
                  for name in sorted(set(a.rates) | set(b.rates)) if a.rates.get(name) != b.rates.get(name)]
        found += [f"{a.label} {name}: fast {a.hours.get(name)} timeline {b.hours.get(name)}"
                  for name in sorted(set(a.hours) | set(b.hours)) if not _close(a.hours.get(name), b.hours.get(name))]
    return found


def _close(a, b):
    return a == b or (a is not None and b is not None and abs(a - b) <= HOURS_TOLERANCE)


def compare(app, street_id, today):
    """metrics.figures against timeline.figures_from_timeline for the street and the district, each period."""
    checks = []
    with app.app_context():
        for label, (start, end, _) in periods(today).items():
            # The district's total is left out: straight from the timeline it costs as much as each grouping.
            cases = [("street", Selection(start, end, street_id=street_id), ("community", None)),
                     ("district", Selection(start, end), ("street", "community"))]
            for place, selection, groupings in cases:
                for by in groupings:
                    fast, slow = metrics.figures(selection, by=by), timeline.figures_from_timeline(selection, by=by)
                    checks.append({"place": place, "period": label, "by": by or "total", "rows": len(fast),
                                   "tickets": sum(r.counts["created"] for r in fast),
                                   "differences": differences(fast, slow), "example": _example(fast, slow)})
        db.session.remove()
    return checks


def _example(fast, slow):
    """One or two figures read both ways, to print beside the verdict: the response rate, the p50 hours."""
    def response_rate(rows):
        top, bottom = RATES["response_rate"]
        return rate(sum(r.counts[top] for r in rows), sum(r.counts[bottom] for r in rows))
    shown = f"response rate {response_rate(fast)}% / {response_rate(slow)}%"
    if len(fast) == 1 and len(slow) == 1:  # a total: its percentiles are figures of their own
        shown += f", resolution p50 {fast[0].hours['resolution_p50']} h / {slow[0].hours['resolution_p50']} h"
    return shown


# ---- the whole bench ----

def build(url, tickets, months, log):
    """A fresh database, loaded and with its facts rebuilt: the app and the load and rebuild figures."""
    log(f"monitor: creating {dataset.database_name(url)}")
    dataset.recreate_database(url)
    app, org = prepare(url, log)
    loaded = load(url, org, tickets, months, datetime.now(timezone.utc).replace(microsecond=0), log)
    log(f"monitor: loaded {loaded['tickets']:,} tickets and {loaded['events']:,} entries in "
        f"{loaded['copy_s']:.0f} s (+{loaded['vacuum_s']:.0f} s VACUUM ANALYZE)")
    clear_all()
    rebuilt = timed_rebuild(app, log)
    # Statistics for the two tables the rebuild filled, as autovacuum would gather them within minutes
    # (sooner or later: after a big load its workers may be busy with ticket_events for a long while).
    with psycopg.connect(dataset.plain_url(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE ticket_facts")
        conn.execute("VACUUM ANALYZE monitor_daily")
    return app, {"load": loaded, "rebuild": rebuilt}


def measure_monitor(database_url, log, tickets=TICKETS, months=MONTHS, repeats=REPEATS, keep_db=False,
                    reuse_db=False):
    """Build (unless reusing a kept database), refresh, time the pages and the baseline, compare."""
    url = own_url(database_url)
    try:
        if reuse_db:
            clear_all()
            app, figures = dataset.dispatch_app(url), {"load": None, "rebuild": None}
        else:
            app, figures = build(url, tickets, months, log)
        figures.update(months=months, repeats=repeats, changed_entries=change_some(app))
        figures["refresh"] = timed_refresh(app)
        figures["shape"] = shape(url)
        today = system_now().astimezone(SHANGHAI).date()
        street_id, street, street_tickets = busiest_street(app, *periods(today)["3 months"][:2])
        figures["street"] = {"id": street_id, "name": street, "tickets_3_months": street_tickets}
        log(f"monitor: timing the pages ({WARMUP} warm-up + {repeats} each); busiest street {street}")
        pages, statements = measure_pages(app, street_id, today, repeats)
        figures["pages"] = [{"page": page, "period": period, **stats} for (page, period), stats in pages.items()]
        figures["statements"] = statements
        log("monitor: the baseline, straight from the timeline")
        figures["baseline"] = {label: baseline(app, street_id, start, end, repeats)
                               for label, (start, end, _) in periods(today).items()}
        log("monitor: comparing the fast path with the timeline")
        figures["checks"] = compare(app, street_id, today)
        with app.app_context():
            db.engine.dispose()
    finally:
        clear_all()
        if not keep_db:
            dataset.drop_database(url)
    return verdicts(figures)


def verdicts(figures):
    """PASS/FAIL per page (median against its goal), EQUAL or not, and ok for the exit status."""
    for page in figures["pages"]:
        # The goals are the overviews as they open (the last 30 days); a wider window is measured and printed only.
        goal = STREET_GOAL_MS if page["page"] == "street" else DISTRICT_GOAL_MS
        page["goal_ms"] = goal if page["period"] == "30 days" else None
        page["pass"] = page["goal_ms"] is None or page["median_ms"] < page["goal_ms"]
    figures["equal"] = not any(check["differences"] for check in figures["checks"])
    figures["pass"] = all(page["pass"] for page in figures["pages"])
    figures["ok"] = figures["pass"] and figures["equal"]
    return figures


def summarise(figures):
    """The lines make bench prints."""
    shape = figures["shape"]
    lines = [f"monitor overviews: {shape['tickets']:,} tickets and {shape['events']:,} timeline entries "
             f"({shape['first']} – {shape['last']}), {shape['streets']} streets and {shape['communities']} "
             f"communities (the demo district is the whole city here); {shape['size']}",
             *build_lines(figures["load"], figures["rebuild"]),
             f"  run_refresh (the scheduler's job) after {figures['changed_entries']} new entries written through "
             f"the real services: {figures['refresh']['ms']:.0f} ms, {figures['refresh']['tickets']} tickets",
             f"  busiest street: {figures['street']['name']} ({figures['street']['tickets_3_months']:,} tickets in "
             f"3 months); admin logged in, Flask test client in-process, {WARMUP} warm-up + "
             f"{figures['repeats']} requests each"]
    for page in figures["pages"]:
        lines.append(f"  {page['page']:8s} {page['period']:8s} median {page['median_ms']:7.1f} ms  p90 "
                     f"{page['p90_ms']:7.1f}  min {page['min_ms']:7.1f}   " + (
                         f"goal < {page['goal_ms']:.0f} ms  {'PASS' if page['pass'] else 'FAIL'}"
                         if page["goal_ms"] else "(no goal: a wider window)") + f"   {page['url']}")
    for label, base in figures["baseline"].items():
        lines.append(f"  street figures by community, {label}: fast path {base['fast_ms']:.1f} ms, straight from "
                     f"the timeline {base['timeline_ms']:.0f} ms: fast path is {base['ratio']}× faster")
    for page, found in figures["statements"].items():
        lines.append(f"  {page} page, 3 months, one request: {found['count']} statements, {found['sql_ms']:.0f} ms "
                     f"in SQL; slowest: " + "; ".join(f"{ms} ms {text[:100]}" for ms, text in found["slowest"]))
    for check in figures["checks"]:
        verdict = "EQUAL" if not check["differences"] else "DIFFERENT: " + "; ".join(check["differences"][:5])
        lines.append(f"  fast path = timeline, {check['place']} {check['period']} by {check['by']}: "
                     f"{check['rows']} rows, {check['tickets']:,} tickets, {check['example']} (fast / timeline)  "
                     f"{verdict}")
    lines.append(f"  monitor verdict: pages {'PASS' if figures['pass'] else 'FAIL'}, figures "
                 f"{'EQUAL' if figures['equal'] else 'DIFFERENT'}")
    return lines


def build_lines(loaded, rebuilt):
    """The load and the rebuild, or a note that a kept database was reused."""
    if loaded is None:
        return ["  reused a kept database: no load, no rebuild timed"]
    return [f"  load: COPY {loaded['copy_s']:.0f} s ({loaded['tickets'] / max(loaded['copy_s'], 0.1):,.0f} "
            f"tickets/s with their timelines; {loaded['in_copy_s']:.0f} s of it in COPY, the rest waiting for the "
            f"rows), VACUUM ANALYZE {loaded['vacuum_s']:.0f} s",
            f"  refresh.rebuild: {rebuilt['tickets']:,} facts in {rebuilt['seconds']:.0f} s ({rebuilt['per_s']:,} "
            f"tickets/s), {rebuilt['facts']:,} facts and {rebuilt['rollup_rows']:,} daily rollup rows"]


def parse_args(argv):
    """Command-line options of the monitor bench alone."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/dispatch_bench")
    parser.add_argument("--tickets", type=int, default=TICKETS)
    parser.add_argument("--months", type=int, default=MONTHS, help="how far back the tickets go")
    parser.add_argument("--repeats", type=int, default=REPEATS, help="timed requests per page and period")
    parser.add_argument("--keep-db", action="store_true", help="leave the monitor's database behind")
    parser.add_argument("--reuse-db", action="store_true", help="time and compare on the database a --keep-db "
                        "run left (no load, no rebuild; a few hundred more entries)")
    return parser.parse_args(argv)


def main(argv=None):
    """Run only the monitor bench and print its figures; exit 1 on a FAIL or a difference."""
    args = parse_args(argv)
    figures = measure_monitor(args.database_url, log, args.tickets, args.months, args.repeats,
                              args.keep_db or args.reuse_db, args.reuse_db)
    print("\n".join(summarise(figures)))
    return 0 if figures["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
