"""What open console queues cost the server: the live poll beside a trivial health check, on PostgreSQL.

    python -m bench.poll_bench [--consoles 50] [--tickets 100000] [--duration 5] [--repeats 3]
                               [--database-url URL] [--keep-db]

One gunicorn (2 sync workers, as every bench server) over its own database with bulk-loaded tickets. Each of
the consoles is a director (or a street supervisor) logged in through the real login form, holding the cursor
and ETag its queue page gave it, and polling as an open console does between changes (the answer is a 304).
Measured in rounds that alternate the poll and GET /healthz (one SELECT 1, the baseline): requests per second
the server sustains, and its CPU time per request (gunicorn's workers and the PostgreSQL backends serving them,
from /proc). The load of the consoles is then polls per second (consoles / QUEUE_POLL_SECONDS) times the CPU
per poll, as a share of one core. A poll never holds a worker: it is one short request like any other.
"""
import argparse
import os
import re
import statistics
import sys
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench import dataset  # noqa: E402
from bench.load import Call, hammer, latency_summary, send  # noqa: E402
from bench.progress import log as progress  # noqa: E402
from bench.servers import WORKERS, serving  # noqa: E402
from config import Config  # noqa: E402
from dispatch.extensions import db  # noqa: E402
from dispatch.org.models import Community, Street  # noqa: E402
from dispatch.org.services import create_user  # noqa: E402

CONSOLES = 50
TICKETS = 100_000
DURATION, REPEATS, THREADS = 5.0, 3, 4
PASSWORD = "bench-console-2026"
GOAL_CORE_PCT = 5.0  # 50 open consoles cost under 5% of one core
TICK = os.sysconf("SC_CLK_TCK")


def own_url(database_url):
    """The same server, this bench's own database (<name>_poll)."""
    url = make_url(dataset.plain_url(database_url))
    return url.set(database=f"{url.database}_poll").render_as_string(hide_password=False)


def prepare(url, tickets, log):
    """Schema, organisation, tickets, and one console user per community (plus each street's supervisor)."""
    dataset.recreate_database(url)
    app = dataset.dispatch_app(url)
    dataset.prepare_schema(app, log)
    loaded = dataset.bulk_load_tickets(url, tickets)
    with app.app_context():
        users = []
        for community in db.session.scalars(select(Community).order_by(Community.id)):
            users.append(create_user(f"poll-{community.code}", "community_director", PASSWORD, "主任",
                                     community=community)[0].username)
        for street in db.session.scalars(select(Street).order_by(Street.id)):
            users.append(create_user(f"poll-{street.code}", "street_supervisor", PASSWORD, "督办",
                                     street=street)[0].username)
        db.session.remove()
        db.engine.dispose()
    return users, loaded


def _cookies(headers, jar):
    """Keep the Set-Cookie values of an answer in a plain dict."""
    for name, value in headers:
        if name.lower() == "set-cookie":
            jar.update({k: m.value for k, m in SimpleCookie(value).items()})
    return jar


def _request(server, method, path, jar, body=None):
    """One request carrying the cookies, keeping the new ones; (status, headers, text)."""
    import http.client
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items()), "Connection": "close"}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode(errors="replace")
        _cookies(response.getheaders(), jar)
        return response.status, dict(response.getheaders()), text
    finally:
        conn.close()


def open_console(server, username):
    """Log in through the form and open the queue: the Call an idle open console repeats (its cursor and ETag)."""
    jar = {}
    _status, _headers, page = _request(server, "GET", "/login", jar)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = urlencode({"username": username, "password": PASSWORD, "csrf_token": token}).encode()
    status, _headers, _page = _request(server, "POST", "/login", jar, body=form)
    if status != 302:
        raise RuntimeError(f"poll bench: {username} could not log in (HTTP {status})")
    status, _headers, page = _request(server, "GET", "/", jar)
    cursor = re.search(r'data-cursor="(\d+)"', page).group(1)
    path = f"/queue/changes?since={cursor}"
    status, headers, _body = _request(server, "GET", path, jar)
    if status != 200 or "ETag" not in headers:
        raise RuntimeError(f"poll bench: the first poll answered HTTP {status}")
    cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
    return Call("GET", path, headers=(("Cookie", cookie), ("If-None-Match", headers["ETag"])), ok=(304,),
                kind="poll")


def _ticks(pid):
    """User plus system CPU ticks of one process; 0 when it is gone or not readable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def _workers(server):
    """The gunicorn workers under the arbiter."""
    path = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _backends(url):
    """The PostgreSQL backends connected to the bench database (the workers' pooled connections)."""
    with psycopg.connect(url) as conn:
        return [pid for (pid,) in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")]


def cpu_seconds(server, url):
    """CPU seconds used so far by the server's workers and by the database backends serving them."""
    app = sum(_ticks(pid) for pid in _workers(server)) / TICK
    database = sum(_ticks(pid) for pid in _backends(url)) / TICK
    return app, database


def one_round(server, url, calls, duration, threads):
    """Hammer one target; its rate, CPU ms per request (app, database) and latencies."""
    before = cpu_seconds(server, url)
    tally = hammer(server, calls, duration, threads)
    after = cpu_seconds(server, url)
    count = max(1, len(tally.latencies))
    app_ms, db_ms = ((a - b) * 1000 / count for a, b in zip(after, before))
    return {"rps": tally.rate, "app_ms": app_ms, "db_ms": db_ms, "latencies": tally.latencies,
            "errors": tally.errors}


def _median(rounds, key):
    return round(statistics.median(r[key] for r in rounds), 3)


def figures(rounds):
    """Medians over the rounds of one target."""
    return {"median_rps": _median(rounds, "rps"), "cpu_ms_app": _median(rounds, "app_ms"),
            "cpu_ms_db": _median(rounds, "db_ms"),
            "cpu_ms": round(statistics.median(r["app_ms"] + r["db_ms"] for r in rounds), 3),
            "latency": latency_summary([x for r in rounds for x in r["latencies"]]),
            "rounds_rps": [round(r["rps"], 1) for r in rounds]}


def measure(server, url, calls, duration, repeats, threads, log):
    """Warm up, then alternate the poll and the baseline `repeats` times."""
    targets = {"poll": calls, "health": [Call("GET", "/healthz", kind="health")]}
    for name, target in targets.items():
        hammer(server, target, 1.0, threads)
    rounds = {name: [] for name in targets}
    for i in range(repeats):
        for name, target in targets.items():
            rounds[name].append(one_round(server, url, target, duration, threads))
            log(f"poll bench round {i + 1}/{repeats} {name}: {rounds[name][-1]['rps']:.0f} req/s")
    errors = [e for rs in rounds.values() for r in rs for e in r["errors"]]
    return {name: figures(rs) for name, rs in rounds.items()}, errors


def measure_poll(database_url, log, consoles=CONSOLES, tickets=TICKETS, duration=DURATION, repeats=REPEATS,
                 threads=THREADS, keep_db=False, log_dir=None):
    """The whole bench on its own database; the figures and the verdict."""
    url = own_url(database_url)
    log(f"poll bench: {tickets:,} tickets, {consoles} consoles")
    users, loaded = prepare(url, tickets, log)
    interval = Config().QUEUE_POLL_SECONDS
    try:
        with serving("poll", "wsgi:app", "/healthz", url, log_dir or Path(__file__).parent / "results") as server:
            calls = [open_console(server, users[i % len(users)]) for i in range(consoles)]
            check = send(server, calls[0])
            if check[0] != 304:
                raise RuntimeError(f"poll bench: an unchanged poll answered HTTP {check[0]}, not 304")
            targets, errors = measure(server, url, calls, duration, repeats, threads, log)
    finally:
        if not keep_db:
            dataset.drop_database(url)
    poll, health = targets["poll"], targets["health"]
    polls_per_second = consoles / interval
    core_pct = round(polls_per_second * poll["cpu_ms"] / 1000 * 100, 3)
    return {"consoles": consoles, "interval_s": interval, "tickets": loaded["tickets"], "workers": WORKERS,
            "threads": threads, "poll": poll, "health": health, "polls_per_second": round(polls_per_second, 2),
            "core_pct": core_pct, "vs_health_cpu": round(poll["cpu_ms"] / health["cpu_ms"], 2) if health["cpu_ms"]
            else None, "goal_core_pct": GOAL_CORE_PCT, "pass": core_pct < GOAL_CORE_PCT and not errors,
            "errors": errors}


def summarise(result):
    """The printed lines."""
    poll, health = result["poll"], result["health"]
    return [
        f"\nopen console queues (live poll, {result['tickets']:,} tickets, {result['workers']} sync workers, "
        f"medians of {len(poll['rounds_rps'])} rounds)",
        f"  GET /healthz (baseline): {health['median_rps']:.0f} req/s, CPU {health['cpu_ms']:.2f} ms a request "
        f"(app {health['cpu_ms_app']:.2f} + database {health['cpu_ms_db']:.2f}), median {health['latency']['median_ms']} ms",
        f"  unchanged poll (304):    {poll['median_rps']:.0f} req/s, CPU {poll['cpu_ms']:.2f} ms a poll "
        f"(app {poll['cpu_ms_app']:.2f} + database {poll['cpu_ms_db']:.2f}), median {poll['latency']['median_ms']} ms, "
        f"{result['vs_health_cpu']}x the baseline's CPU",
        f"  {result['consoles']} consoles polling every {result['interval_s']} s: {result['polls_per_second']} polls/s "
        f"= {result['core_pct']:.2f}% of one core (goal < {result['goal_core_pct']:g}%): "
        f"{'PASS' if result['pass'] else 'FAIL'}; no worker is held between polls",
    ]


def main(argv=None):
    """Run the bench alone."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/dispatch_bench")
    parser.add_argument("--consoles", type=int, default=CONSOLES)
    parser.add_argument("--tickets", type=int, default=TICKETS)
    parser.add_argument("--duration", type=float, default=DURATION)
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args(argv)
    result = measure_poll(args.database_url, progress, args.consoles, args.tickets, args.duration, args.repeats,
                          keep_db=args.keep_db)
    print("\n".join(summarise(result)))
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
