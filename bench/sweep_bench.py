"""make bench, the SLA sweep: one sweep of the same 1,000 due tickets in a small table and in one ten times larger.

    python -m bench.sweep_bench [--sizes 200000,2000000] [--due 1000] [--repeats 7] [--database-url URL]

The sweep reads only what is due (an index on sla_schedules.next_at), so its time should follow the number due
and not the size of the table. The bench loads the first size of tickets with COPY, makes a fixed set of
tickets due, times sweep_once over them `repeats` times, then grows the table with older history (mostly
closed tickets) to the next size and times the same sweep over the same tickets again.
"""
import argparse
import random
import statistics
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench import dataset  # noqa: E402
from bench.progress import log  # noqa: E402
from dispatch.cache import clear_all  # noqa: E402
from dispatch.demo import data as demo  # noqa: E402
from dispatch.extensions import db  # noqa: E402
from dispatch.org.models import Community  # noqa: E402
from dispatch.sla.calendars import package_years  # noqa: E402
from dispatch.sla.models import CalendarYear, SlaPolicy  # noqa: E402
from dispatch.sla.policies import choose, seed_defaults  # noqa: E402
from dispatch.sla.services import final_stage  # noqa: E402
from dispatch.sla.sweep import sweep_once  # noqa: E402
from dispatch.tickets.lifecycle import OPEN_STATUSES  # noqa: E402
from dispatch.tickets.models import Category, Priority  # noqa: E402

SIZES = (200_000, 2_000_000)
QUICK_SIZES = (20_000, 200_000)
DUE = 1000
REPEATS = 7
GOAL_MS = 100.0  # one sweep of 1,000 due tickets at the largest size
RATIO_GOAL = 1.5  # largest size against smallest, same tickets due
FIRST_DAYS = dataset.WEEKS * 7  # the first size is the last ten weeks; each later size adds older history
CHUNK = 100_000  # rows per COPY (one transaction each)
OPEN = frozenset(s.value for s in OPEN_STATUSES)
# Rough clock time of one unit: a working hour spreads over ~3 clock hours, a working day over ~1.4 days.
# Good enough for where the loaded tickets' points fall; the sweep itself computes with the real calendar.
UNIT_MINUTES = {"hours": 60, "days": 1440, "working_hours": 180, "working_days": 2016}
COLUMNS = ("id", "number", "channel", "community_id", "category_id", "priority", "status", "description",
           "address", "sla_paused_seconds", "created_at", "updated_at", "version", "accepted_at", "resolved_at",
           "closed_at", "response_due_at", "resolution_due_at", "sla_policy_id", "response_warn_at",
           "resolution_warn_at", "responded_at", "sla_paused_at", "sla_deadline_at")
SCHEDULE_COLUMNS = ("ticket_id", "next_at", "response_stage", "resolution_stage")
DUE_COLUMNS = ("responded_at", "response_warn_at", "response_due_at", "resolution_warn_at", "resolution_due_at",
               "sla_deadline_at")


def own_url(database_url):
    """The same server, the sweep's own database (<name>_sweep), so it never touches the other bench's."""
    url = make_url(dataset.plain_url(database_url))
    name = url.database if url.database.endswith("_sweep") else f"{url.database}_sweep"
    return url.set(database=name).render_as_string(hide_password=False)


def prepare(url, log):
    """Schema and organisation as the other bench builds them, the default SLA policies, calendar years."""
    clear_all()  # communities, calendars and policies another bench database left in this process's caches
    app = dataset.dispatch_app(url)
    dataset.prepare_schema(app, log)
    with app.app_context():
        added = seed_defaults(created_by="bench")  # seed-demo may have added them already
        # chinese_calendar stops at its last year; escalations computed near New Year must not fail.
        last = package_years()[1]
        for year in range(last + 1, datetime.now(timezone.utc).year + 3):
            db.session.merge(CalendarYear(year=year, note="bench: weekdays only"))
        db.session.commit()
        facts = reference_facts()
        policies = db.session.scalar(select(func.count()).select_from(SlaPolicy))
        db.session.remove()
        db.engine.dispose()
    log(f"sweep: {policies} SLA policies ({added} added here)")
    return app, facts


def reference_facts():
    """Communities, categories and each (category, priority)'s policy with its limits in clock minutes."""
    communities = list(db.session.scalars(select(Community.id).order_by(Community.id)))
    categories = dict(db.session.execute(select(Category.code, Category.id)).all())
    policies = {}
    for category_id in set(categories.values()):
        for priority in Priority:
            chosen = choose(category_id, priority)
            policies[(category_id, priority.value)] = clock_limits(db.session.get(SlaPolicy, chosen.id))
    return {"communities": communities, "categories": categories, "policies": policies}


def clock_limits(policy):
    """(policy id, response and resolution limits, escalation step, points per clock), in clock minutes."""
    response = policy.response_amount * UNIT_MINUTES[policy.response_unit.value]
    resolution = policy.resolution_amount * UNIT_MINUTES[policy.resolution_unit.value]
    return (policy.id, response, resolution, policy.warn_percent / 100, policy.escalation_step_percent / 100,
            final_stage(policy))


def clock_state(created, limit, warn, step, points, now):
    """(warn_at, due_at, stage, next point or None) of a clock started at `created`, as seen at `now`."""
    warn_at, due_at = created + timedelta(minutes=limit * warn), created + timedelta(minutes=limit)
    step = timedelta(minutes=max(30.0, limit * step))
    stage = 0
    while stage < points:
        at = warn_at if stage == 0 else due_at + (stage - 1) * step
        if at > now:
            return warn_at, due_at, stage, at
        stage += 1
    return warn_at, due_at, stage, None


class TicketRows:
    """Ticket rows and their schedules, with the SLA columns as the app would have left them at `now` (naive UTC)."""

    def __init__(self, facts, now, seed=20261121):
        self.rng = random.Random(seed)
        self.now = now
        self.facts = facts
        self.numbers = Counter()
        count = len(facts["communities"])
        self.community_weights = list(_cumulative([1 / (i + 1) ** 0.6 for i in range(count)]))
        self.channels, self.channel_weights = list(dataset.CHANNEL_WEIGHTS), list(
            _cumulative(dataset.CHANNEL_WEIGHTS.values()))

    def rows(self, first_id, count, newest_days, oldest_days):
        """`count` tickets created between oldest_days and newest_days ago, ids from first_id."""
        for ticket_id in range(first_id, first_id + count):
            age = self.rng.uniform(newest_days, oldest_days)
            yield self.row(ticket_id, self.now - timedelta(days=age), age)

    def row(self, ticket_id, created, age):
        """(ticket, schedule): its lifecycle from dataset's status mix, its clocks from the policy it would get."""
        rng, now = self.rng, self.now
        text, category, priority = rng.choice(demo.RESIDENT_MESSAGES)
        category_id = self.facts["categories"].get(category)
        status = dataset._status_for(rng, age)
        accepted, resolved, closed, _, _ = dataset._lifecycle_times(rng, status, priority, created, now)
        ended = None if status in OPEN else (closed or resolved or accepted or created)
        paused = created + timedelta(days=age / 2) if status == "waiting_resident" else None
        policy_id, response, resolution, warn, step, points = self.facts["policies"][(category_id, priority)]
        seen = ended or paused or now  # a clock stops when answered, paused or done
        r_warn, r_due, r_stage, r_next = clock_state(created, response, warn, step, points, accepted or seen)
        s_warn, s_due, s_stage, s_next = clock_state(created, resolution, warn, step, points, seen)
        running = status in OPEN and paused is None
        upcoming = [p for p in ((r_next if accepted is None else None), s_next) if running and p is not None]
        day = (created + timedelta(hours=8)).date()  # numbers count per Shanghai day
        self.numbers[day] += 1
        channel = rng.choices(self.channels, cum_weights=self.channel_weights)[0]
        ticket = (ticket_id, f"{day:%Y%m%d}-{self.numbers[day]:05d}", channel,
                  rng.choices(self.facts["communities"], cum_weights=self.community_weights)[0], category_id,
                  priority, status, text, rng.choice(demo.STREET_ADDRESSES) if rng.random() < 0.6 else None, 0,
                  created, max(t for t in (created, accepted, resolved, closed, paused) if t),
                  1 if status == "new" else 3, accepted, resolved, closed, r_due, s_due, policy_id, r_warn, s_warn,
                  accepted, paused, (r_due if accepted is None else s_due) if running else None)
        return ticket, (ticket_id, min(upcoming) if upcoming else None, r_stage, s_stage)


def _cumulative(weights):
    """Running totals, for random.choices(cum_weights=...), which is faster than weights=."""
    total = 0
    for weight in weights:
        total += weight
        yield total


def _copy_statement(table, columns):
    return sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table),
                                                      sql.SQL(", ").join(map(sql.Identifier, columns)))


def copy_tickets(url, rows, log, before=0):
    """COPY (ticket, schedule) rows into tickets and sla_schedules in chunks of CHUNK, each its own transaction;
    returns how many."""
    tickets, schedules = _copy_statement("tickets", COLUMNS), _copy_statement("sla_schedules", SCHEDULE_COLUMNS)
    loaded = 0
    with psycopg.connect(dataset.plain_url(url)) as conn:
        conn.execute("SET synchronous_commit = off")  # a bench load: losing it in a crash costs nothing
        with conn.cursor() as cur:
            while True:
                written, chunk_schedules = 0, []
                with cur.copy(tickets) as copy:
                    for ticket, schedule in rows:
                        copy.write_row(ticket)
                        chunk_schedules.append(schedule)
                        written += 1
                        if written == CHUNK:
                            break
                with cur.copy(schedules) as copy:
                    for schedule in chunk_schedules:
                        copy.write_row(schedule)
                conn.commit()
                loaded += written
                if written < CHUNK:
                    return loaded
                log(f"sweep: {before + loaded:,} tickets in the table")


def vacuum_analyze(url):
    """VACUUM ANALYZE the two tables and CHECKPOINT, so no background work from the load lands in a timed sweep."""
    with psycopg.connect(dataset.plain_url(url), autocommit=True) as conn:
        conn.execute("SELECT setval(pg_get_serial_sequence('tickets', 'id'), (SELECT max(id) FROM tickets))")
        conn.execute("VACUUM ANALYZE tickets")
        conn.execute("VACUUM ANALYZE sla_schedules")
        conn.execute("CHECKPOINT")


def pick_due(url, due, seed=1):
    """A fixed random set of `due` open, unpaused tickets with a policy; they are made due before each sweep."""
    with psycopg.connect(dataset.plain_url(url)) as conn:
        ids = [r[0] for r in conn.execute(
            "SELECT id FROM tickets WHERE status = ANY(%s) AND sla_policy_id IS NOT NULL AND sla_paused_at IS NULL "
            "ORDER BY id", [sorted(OPEN)])]
    if len(ids) < due:
        raise RuntimeError(f"only {len(ids)} open tickets to make due, {due} wanted: load more tickets")
    return sorted(random.Random(seed).sample(ids, due))


def due_values(ids, now):
    """The same fresh, due clock state for the same tickets every time: warnings, breaches, response clocks."""
    columns = {c: [] for c in DUE_COLUMNS}
    columns["next_at"] = []
    for i, _ in enumerate(ids):
        late = timedelta(minutes=1 + i % 50)
        if i % 4 == 3:  # not answered yet: the response clock warns
            values = (None, now - late, now + timedelta(hours=1), now + timedelta(days=2), now + timedelta(days=4),
                      now + timedelta(hours=1))
        elif i % 4 == 2:  # answered, resolution overdue: warning and breach (and maybe an escalation) fire
            values = (now - timedelta(days=2), now - timedelta(days=3), now - timedelta(days=2),
                      now - timedelta(days=1), now - late, now - late)
        else:  # answered, the resolution clock reaches its warning
            values = (now - timedelta(days=1), now - timedelta(days=2), now - timedelta(days=1), now - late,
                      now + timedelta(days=1), now + timedelta(days=1))
        for column, value in zip(DUE_COLUMNS, values):
            columns[column].append(value)
        columns["next_at"].append(now - timedelta(days=1) if i % 4 == 2 else now - late)
    return columns


def make_due(url, ids, columns, now):
    """Reset the chosen tickets to a due state and VACUUM (not timed); check that exactly those are due."""
    assignments = sql.SQL(", ").join(sql.SQL("{0} = d.{0}").format(sql.Identifier(c)) for c in DUE_COLUMNS)
    unnest = sql.SQL(", ").join(sql.SQL("%s::timestamp[]") for _ in DUE_COLUMNS)
    names = sql.SQL(", ").join(map(sql.Identifier, DUE_COLUMNS))
    tickets = sql.SQL("UPDATE tickets t SET {}, sla_error = NULL, sla_paused_at = NULL "
                      "FROM unnest(%s::int[], {}) AS d(id, {}) WHERE t.id = d.id").format(assignments, unnest, names)
    schedules = ("UPDATE sla_schedules s SET next_at = d.next_at, response_stage = 0, resolution_stage = 0 "
                 "FROM unnest(%s::int[], %s::timestamp[]) AS d(id, next_at) WHERE s.ticket_id = d.id")
    naive = now.replace(tzinfo=None)
    with psycopg.connect(dataset.plain_url(url), autocommit=True) as conn:
        conn.execute(tickets, [ids] + [[_naive(v) for v in columns[c]] for c in DUE_COLUMNS])
        conn.execute(schedules, [ids, [_naive(v) for v in columns["next_at"]]])
        # Every repeat rewrites the same rows: without a vacuum (autovacuum may be off, and would not run this
        # often) each sweep would meet one more dead version of each. Cheap: only the touched pages are read.
        conn.execute("VACUUM tickets")
        conn.execute("VACUUM sla_schedules")
        # Also what the sweep's index range scan finds: a count that differs means the load got it wrong.
        found = conn.execute("SELECT count(*) FROM sla_schedules WHERE next_at <= %s", [naive]).fetchone()[0]
    if found != len(ids):
        raise RuntimeError(f"{found} tickets due after making {len(ids)} due")


def _naive(value):
    """Naive UTC, as the columns store it."""
    return value.replace(tzinfo=None) if value is not None else None


def timed_sweep(app, now, due):
    """Seconds one sweep_once takes (its commit included); checks it claimed them all and wrote events."""
    with app.app_context():
        started = time.perf_counter()
        advanced, written, claimed = sweep_once(now, limit=due)
        elapsed = time.perf_counter() - started
        db.session.remove()
    if claimed != due or advanced != due or written <= 0:
        raise RuntimeError(f"sweep advanced {advanced}, wrote {written} events, claimed {claimed}; expected {due}")
    return elapsed, written


def measure_size(app, url, ids, now, repeats):
    """One warm-up sweep (kept apart), then `repeats` timed ones, each over freshly due tickets."""
    columns = due_values(ids, now)
    samples, events = [], set()
    for _ in range(repeats + 1):
        make_due(url, ids, columns, now)
        seconds, written = timed_sweep(app, now, len(ids))
        samples.append(round(seconds * 1000, 1))
        events.add(written)
    # The first pays for the process's first calendars and statement compilations, at the first size only.
    warmup, samples = samples[0], samples[1:]
    return {"median_ms": round(statistics.median(samples), 1), "samples_ms": samples, "warmup_ms": warmup,
            "events_per_sweep": sorted(events)}


def measure_sweep(database_url, log, sizes=SIZES, due=DUE, repeats=REPEATS, keep_db=False):
    """Time one sweep of `due` tickets at each size (ascending); returns medians, samples, ratio and verdicts."""
    url = own_url(database_url)
    sizes = sorted(sizes)
    log(f"sweep: creating {dataset.database_name(url)}")
    dataset.recreate_database(url)
    try:
        app, facts = prepare(url, log)
        now = datetime.now(timezone.utc).replace(microsecond=0)
        source = TicketRows(facts, now.replace(tzinfo=None))
        figures, loaded, ids = {}, 0, None
        for size in sizes:
            started = time.perf_counter()
            newest = FIRST_DAYS * loaded / sizes[0] if loaded else 0  # older history behind what is there
            count = copy_tickets(url, source.rows(loaded + 1, size - loaded, newest, FIRST_DAYS * size / sizes[0]),
                                 log, before=loaded)
            loaded += count
            vacuum_analyze(url)
            load_s = time.perf_counter() - started
            ids = ids or pick_due(url, due)
            log(f"sweep: {loaded:,} tickets loaded in {load_s:.0f} s; timing {repeats} sweeps of {due:,} due")
            figures[loaded] = {"tickets": loaded, "load_s": round(load_s, 1),
                               **measure_size(app, url, ids, now, repeats)}
            log(f"sweep @{loaded:,}: median {figures[loaded]['median_ms']} ms {figures[loaded]['samples_ms']}")
        with app.app_context():
            db.engine.dispose()
    finally:
        clear_all()
        if not keep_db:
            dataset.drop_database(url)
    return summarise(figures, due, repeats)


def summarise(figures, due, repeats):
    """Per-size figures, the largest against the smallest, and the two verdicts."""
    small, large = figures[min(figures)], figures[max(figures)]
    ratio = round(large["median_ms"] / small["median_ms"], 2) if small["median_ms"] else None
    return {"due": due, "repeats": repeats, "sizes": [figures[n] for n in sorted(figures)], "ratio": ratio,
            "goal_ms": GOAL_MS, "ratio_goal": RATIO_GOAL,
            "pass_ms": large["median_ms"] < GOAL_MS, "pass_ratio": ratio is not None and ratio <= RATIO_GOAL}


def parse_args(argv):
    """Command-line options of the sweep alone."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/dispatch_bench")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="table sizes, comma-separated")
    parser.add_argument("--due", type=int, default=DUE)
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--keep-db", action="store_true", help="leave the sweep's database behind")
    return parser.parse_args(argv)


def main(argv=None):
    """Run only the sweep bench and print its figures."""
    from bench.report import sweep_lines

    args = parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    result = measure_sweep(args.database_url, log, sizes, args.due, args.repeats, args.keep_db)
    print("\n".join(sweep_lines(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
