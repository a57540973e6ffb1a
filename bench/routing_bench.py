"""make bench, dispatch suggestions: ranked volunteers for one ticket among 500 volunteers of a street.

    python -m bench.routing_bench [--volunteers 500] [--history 20000] [--repeats 50] [--database-url URL]

Builds a street of the demo organisation with `volunteers` volunteers spread over its communities (profiles,
weekly hours, leave, open tasks and `history` past tasks for the acceptance and on-time rates), then times
teams.services.suggestions(ticket, now) — one read (profiles, rates, open-task counts) and the pure
ranking — against two baselines measured in the same run: the bare read of the street's volunteer rows
(the same columns as text, no task counts, nothing parsed), and the pure ranking alone.
"""
import argparse
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402
from sqlalchemy import Text, cast, insert, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench import dataset  # noqa: E402
from dispatch.cache import clear_all  # noqa: E402
from dispatch.extensions import db  # noqa: E402
from dispatch.org.models import Community, Street, User  # noqa: E402
from dispatch.org.roles import Role  # noqa: E402
from dispatch.teams import routing, services  # noqa: E402
from dispatch.teams.models import Volunteer  # noqa: E402
from dispatch.teams.skills import SKILLS  # noqa: E402
from dispatch.tickets.models import Assignment, Category, Channel, Priority, Ticket  # noqa: E402
from dispatch.tickets.lifecycle import Status  # noqa: E402
from dispatch.timeutil import local  # noqa: E402

GOAL_MS = 20.0
NOW = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)  # a Friday, 10:00 in Shanghai
HOURS = (["08:30-11:30,14:00-17:00"] * 5 + ["09:00-11:00", ""], ["", "08:00-12:00"] * 3 + ["13:00-18:00"])


def own_url(database_url):
    """The same server, this bench's own database (<name>_routing)."""
    url = make_url(dataset.plain_url(database_url))
    return url.set(database=f"{url.database}_routing").render_as_string(hide_password=False)


def _users(street, count, rng):
    """`count` volunteer users over the street's communities, with their profiles; all on the street's shared
    team, so every one of them is a candidate for the ticket (the worst case)."""
    communities = list(db.session.scalars(select(Community.id).where(Community.street_id == street.id)))
    rows = [{"username": f"bench-v{i}", "display_name": f"志愿者{i}", "password_hash": "-", "role": Role.VOLUNTEER,
             "community_id": communities[i % len(communities)], "active": True, "created_at": NOW}
            for i in range(count)]
    ids = db.session.scalars(insert(User).returning(User.id), rows).all()
    db.session.execute(insert(Volunteer), [{
        "user_id": uid, "skills": rng.sample(sorted(SKILLS), rng.randint(1, 3)), "weekly_hours": rng.choice(HOURS),
        "leave": [["2026-11-19", "2026-11-21"]] if rng.random() < 0.05 else [], "max_tasks": rng.randint(3, 5),
        "serves_street": True, "latitude": 36.06 + rng.uniform(-0.02, 0.02),
        "longitude": 120.38 + rng.uniform(-0.02, 0.02)} for uid in ids])
    return ids, communities


def _history(user_ids, communities, count, rng):
    """Past tasks (ended) and open ones, on tickets of their own."""
    category = db.session.scalar(select(Category.id).where(Category.code == "lighting"))
    tickets = [{"number": f"B{i:09d}", "channel": Channel.PHONE, "community_id": rng.choice(communities),
                "category_id": category, "priority": Priority.NORMAL, "status": Status.CLOSED, "description": "历史",
                "sla_paused_seconds": 0, "created_at": NOW - timedelta(days=rng.randint(1, 120)), "updated_at": NOW,
                "version": 1} for i in range(count + len(user_ids))]
    ids = db.session.scalars(insert(Ticket).returning(Ticket.id), tickets).all()
    tasks = []
    for n, ticket_id in enumerate(ids):
        at = NOW - timedelta(days=rng.randint(0, 120))
        ended = n < count  # the last len(user_ids) are open tasks, one per volunteer at most
        tasks.append({"ticket_id": ticket_id, "user_id": user_ids[n % len(user_ids)] if ended else
                      user_ids[n - count], "dispatched_at": at, "signed_at": at if rng.random() < 0.85 else None,
                      "ended_at": at + timedelta(hours=5) if ended else None,
                      "outcome": rng.choice(("resolved", "resolved", "resolved", "declined")) if ended else None,
                      "on_time": rng.random() < 0.8 if ended else None})
    db.session.execute(insert(Assignment), [t for t in tasks if t["ended_at"] or rng.random() < 0.6])


def build(app, volunteers, history, seed=7):
    """The street, its volunteers and their history; returns the ticket to route."""
    rng = random.Random(seed)
    with app.app_context():
        street = db.session.scalar(select(Street).order_by(Street.id))
        user_ids, communities = _users(street, volunteers, rng)
        _history(user_ids, communities, history, rng)
        category = db.session.scalar(select(Category).where(Category.code == "lighting"))
        category.required_skills = ["electrical"]
        ticket = Ticket(number="B-ROUTE", channel=Channel.PHONE, community_id=communities[0], category=category,
                        priority=Priority.NORMAL, status=Status.ACCEPTED, description="3号楼走廊灯坏了",
                        sla_paused_seconds=0, created_at=NOW, updated_at=NOW, version=1, latitude=36.06,
                        longitude=120.38)
        db.session.add(ticket)
        db.session.commit()
        services.refresh_rates(NOW)  # the scheduler's job, as it would have run
        number = ticket.number
        db.session.remove()
        db.engine.dispose()
    return number


def analyze(url):
    """Fresh planner statistics for the tables the suggestions read."""
    with psycopg.connect(dataset.plain_url(url), autocommit=True) as conn:
        for table in ("users", "volunteers", "assignments", "communities"):
            conn.execute(f"ANALYZE {table}")


def _median_ms(function, repeats):
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), sorted(times)[int(0.95 * (len(times) - 1))]


def measure(app, number, repeats):
    """Medians of the full suggestion, the bare read of the volunteers, and the pure ranking."""
    with app.app_context():
        ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
        as_text = [cast(c, Text) for c in (Volunteer.skills, Volunteer.weekly_hours, Volunteer.leave)]
        street_users = select(User.id, User.username, User.display_name, User.community_id, *as_text,
                              Volunteer.max_tasks, Volunteer.latitude, Volunteer.longitude).join(Volunteer, Volunteer.user_id == User.id).where(
            User.community_id.in_(select(Community.id).where(Community.street_id == ticket.community.street_id)))
        pool = services.candidates(ticket, NOW)
        job, at = services.job_for(ticket), local(NOW)
        services.suggestions(ticket, NOW)  # warm: caches, prepared statements
        full = _median_ms(lambda: services.suggestions(ticket, NOW), repeats)
        read = _median_ms(lambda: db.session.execute(street_users).all(), repeats)
        pure = _median_ms(lambda: routing.rank(job, pool, at), repeats)
        ranked = services.suggestions(ticket, NOW)
        db.session.remove()
    return {"candidates": len(pool), "ranked": len(ranked), "top": ranked[0].reason if ranked else None,
            "median_ms": round(full[0], 2), "p95_ms": round(full[1], 2), "read_median_ms": round(read[0], 2),
            "rank_median_ms": round(pure[0], 2), "ratio_to_read": round(full[0] / read[0], 2) if read[0] else None,
            "goal_ms": GOAL_MS, "pass": full[0] < GOAL_MS}


def measure_routing(database_url, log, volunteers=500, history=20_000, repeats=50, keep_db=False):
    """Build the routing database, time the suggestions, drop it (unless keep_db)."""
    url = own_url(database_url)
    dataset.recreate_database(url)
    try:
        clear_all()
        app = dataset.dispatch_app(url)
        dataset.prepare_schema(app, log)
        log(f"routing: {volunteers} volunteers, {history:,} past tasks")
        number = build(app, volunteers, history)
        analyze(url)
        figures = measure(app, number, repeats)
        with app.app_context():
            db.engine.dispose()
        return {"volunteers": volunteers, "history": history, "repeats": repeats, **figures}
    finally:
        if not keep_db:
            dataset.drop_database(url)


def summarise(figures):
    """The lines make bench prints."""
    verdict = "PASS" if figures["pass"] else "FAIL"
    return [f"dispatch suggestions @{figures['volunteers']} volunteers ({figures['candidates']} in the ticket's "
            f"pool, {figures['ranked']} ranked, {figures['history']:,} past tasks, {figures['repeats']} runs)",
            f"  suggestions median {figures['median_ms']} ms, p95 {figures['p95_ms']} ms   goal median < "
            f"{GOAL_MS:g} ms  {verdict}",
            f"  baselines: bare read of the street's volunteers {figures['read_median_ms']} ms "
            f"(suggestions = {figures['ratio_to_read']}× it); pure ranking {figures['rank_median_ms']} ms",
            f"  top: {figures['top']}"]


def main(argv=None):
    """Entry point for running this bench alone."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/dispatch_bench")
    parser.add_argument("--volunteers", type=int, default=500)
    parser.add_argument("--history", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args(argv)
    figures = measure_routing(args.database_url, lambda m: print(f"[routing] {m}", flush=True), args.volunteers,
                              args.history, args.repeats, args.keep_db)
    print("\n".join(summarise(figures)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
