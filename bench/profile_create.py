"""Where a ticket-creation request spends its time, beside the one-row insert baseline.

On its own throwaway database: the SQL each request sends, in-process timings (Flask test client,
no HTTP), a cProfile breakdown, and what PostgreSQL backends wait on under gunicorn load.
    python -m bench.profile_create [--database-url URL] [--requests 300] [--tickets 5000] [--seconds 6]
"""
import argparse
import cProfile
import pstats
import sys
import threading
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402
from sqlalchemy import event  # noqa: E402

from bench import dataset, scenarios  # noqa: E402
from bench.baseline_app import create_baseline_app, create_schema  # noqa: E402
from bench.load import hammer  # noqa: E402
from bench.servers import serving  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/dispatch_bench_profile"
RESULTS = Path(__file__).resolve().parent / "results"
# (label, file suffix, function name) of the steps of POST /api/v1/tickets, for the breakdown.
STEPS = (
    ("whole request (Flask wsgi_app)", "flask/app.py", "wsgi_app"),
    ("  auth: token look-up (before_request)", "dispatch/api/common.py", "authenticate_bearer"),
    ("  view api.create_ticket", "dispatch/api/tickets.py", "create_ticket"),
    ("    _community look-up", "dispatch/api/tickets.py", "_community"),
    ("    pipeline.open_ticket", "dispatch/tickets/pipeline.py", "open_ticket"),
    ("      category_by_code (SELECT)", "dispatch/tickets/categories.py", "category_by_code"),
    ("      suggest (classifier, jieba)", "dispatch/tickets/categories.py", "suggest"),
    ("      _next_number (sequence upsert)", "dispatch/tickets/store.py", "_next_number"),
    ("      _resident", "dispatch/tickets/store.py", "_resident"),
    ("      session.commit (INSERTs + COMMIT)", "sqlalchemy/orm/scoping.py", "commit"),
    ("    _detail (serialise: reload + lazy loads)", "dispatch/api/tickets.py", "_detail"),
    ("  teardown (session.remove)", "flask_sqlalchemy/extension.py", "_teardown_session"),
)
PACKAGES = ("jieba", "dispatch", "sqlalchemy", "psycopg", "marshmallow", "flask_sqlalchemy", "flask", "werkzeug")


@contextmanager
def sql_log(engine):
    """Collect what reaches the database: statements, transaction control and pool check-outs."""
    log = []
    checkout = "(pool checkout + pre-ping)" if engine.pool._pre_ping else "(pool checkout)"
    listeners = [
        (engine, "before_cursor_execute", lambda conn, cur, stmt, *a: log.append(" ".join(stmt.split()))),
        (engine, "begin", lambda conn: log.append("BEGIN")),
        (engine, "commit", lambda conn: log.append("COMMIT")),
        (engine, "rollback", lambda conn: log.append("ROLLBACK")),
        (engine.pool, "checkout", lambda *a: log.append(checkout)),
    ]
    for target, name, fn in listeners:
        event.listen(target, name, fn)
    try:
        yield log
    finally:
        for target, name, fn in listeners:
            event.remove(target, name, fn)


def send(client, call):
    """One call through the Flask test client; fails loudly on an unexpected status."""
    response = client.open(call.path, method=call.method, data=call.body, headers=dict(call.headers),
                           content_type="application/json" if call.body else None)
    if response.status_code not in call.ok:
        raise RuntimeError(f"{call.method} {call.path} answered {response.status_code}: {response.get_data()[:300]}")


def statements_for(app, call):
    """The database traffic of one request sent through the test client."""
    with app.app_context():
        engine = app.extensions["sqlalchemy"].engine
    with sql_log(engine) as log:
        send(app.test_client(), call)
    return log


def create_statements(app, calls):
    """Statements of a typical create request (the 4th, so first-call costs are excluded)."""
    return [statements_for(app, call) for call in calls[:4]][-1]


def is_statement(line):
    """True for SQL statements, false for BEGIN/COMMIT/ROLLBACK and pool events."""
    return not line.startswith(("(", "BEGIN", "COMMIT", "ROLLBACK"))


def ms_per_request(app, calls, count):
    """Mean wall milliseconds per request, sequential, in-process, no profiler."""
    client = app.test_client()
    send(client, calls[0])
    started = time.perf_counter()
    for i in range(count):
        send(client, calls[i % len(calls)])
    return (time.perf_counter() - started) * 1000 / count


def profile(app, calls, count):
    """cProfile `count` requests through the test client."""
    client = app.test_client()
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(count):
        send(client, calls[i % len(calls)])
    profiler.disable()
    return pstats.Stats(profiler)


def cumulative(stats, suffix, name):
    """Cumulative seconds of the functions with this name in files ending with this suffix."""
    return sum(ct for (filename, _line, func), (_cc, _nc, _tt, ct, _callers) in stats.stats.items()
               if func == name and filename.replace("\\", "/").endswith(suffix))


def package_of(filename):
    """The package a profiled function belongs to."""
    path = filename.replace("\\", "/")
    return next((name for name in PACKAGES if f"/{name}/" in path), "other")


def own_time_by_package(stats):
    """tottime summed per package, largest first."""
    totals = Counter()
    for (filename, _line, _func), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():
        totals[package_of(filename)] += tottime
    return totals.most_common()


def sample_waits(database_url, stop, samples):
    """Count what the other backends of the bench database are doing, every 5 ms, until stopped."""
    query = ("SELECT coalesce(wait_event_type || ':' || wait_event, 'on CPU'), state FROM pg_stat_activity "
             "WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'")
    with psycopg.connect(dataset.plain_url(database_url), autocommit=True) as conn:
        while not stop.is_set():
            for wait, _state in conn.execute(query):
                samples[wait] += 1
            samples["(samples)"] += 1
            time.sleep(0.005)


def waits_under_load(name, app_spec, calls, database_url, seconds):
    """Run one target under gunicorn with 4 client threads and sample pg_stat_activity meanwhile."""
    with serving(name, app_spec, "/const" if "baseline" in app_spec else "/healthz", database_url, RESULTS) as srv:
        hammer(srv, calls, 2, 4)
        stop, samples = threading.Event(), Counter()
        sampler = threading.Thread(target=sample_waits, args=(database_url, stop, samples))
        sampler.start()
        tally = hammer(srv, calls, seconds, 4)
        stop.set()
        sampler.join()
    return tally, samples


def print_statements(title, log):
    """Print one request's database traffic."""
    print(f"\n{title}: {sum(map(is_statement, log))} SQL statements, {len(log)} items in all")
    for i, line in enumerate(log, 1):
        print(f"  {i:2d}. {line if len(line) <= 110 else line[:109] + '…'}")


def print_breakdown(stats, count):
    """Print milliseconds per request for each step of the create request."""
    print(f"\nbreakdown under cProfile (ms per request, cumulative, profiler overhead included; n={count}):")
    for label, suffix, name in STEPS:
        print(f"  {label:44s} {1000 * cumulative(stats, suffix, name) / count:7.2f}")
    total = sum(t for _, t in own_time_by_package(stats))
    print("own time by package: " + ", ".join(f"{p} {100 * t / total:.0f}%" for p, t in own_time_by_package(stats)))


def print_waits(name, tally, samples):
    """Print throughput and the wait-event mix of one target."""
    n = samples.pop("(samples)") or 1
    mix = ", ".join(f"{wait} {count / n:.2f}" for wait, count in samples.most_common(6))
    print(f"  {name:8s} {tally.rate:7.1f} req/s; active backends per sample: {mix}")


def main(argv=None):
    """Build a small database, then look at ticket creation from four angles."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--tickets", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=6.0, help="seconds of gunicorn load per target")
    args = parser.parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    dataset.recreate_database(args.database_url)
    try:
        app = dataset.dispatch_app(args.database_url)
        org, tokens = dataset.prepare_schema(app, print)
        create_schema(args.database_url)
        dataset.bulk_load_tickets(args.database_url, args.tickets)
        calls = scenarios.throughput_calls(org, tokens)
        baseline = create_baseline_app(args.database_url)
        print_statements("one-row insert baseline", statements_for(baseline, calls["insert"][0]))
        print_statements("ticket creation, resident given", create_statements(app, calls["create"][1::2]))
        print_statements("ticket creation, no resident", create_statements(app, calls["create"][::2]))
        create_ms = ms_per_request(app, calls["create"], args.requests)
        insert_ms = ms_per_request(baseline, calls["insert"], args.requests)
        print(f"\nin-process, sequential, no profiler: create {create_ms:.2f} ms, insert {insert_ms:.2f} ms "
              f"per request (create = {insert_ms / create_ms:.0%} of insert throughput)")
        print_breakdown(profile(app, calls["create"], args.requests), args.requests)
        print(f"\nunder gunicorn (2 workers, 4 client threads, {args.seconds:g} s each):")
        for name, spec in (("insert", "bench.baseline_app:app"), ("create", "wsgi:app")):
            print_waits(name, *waits_under_load(name, spec, calls[name], args.database_url, args.seconds))
    finally:
        dataset.drop_database(args.database_url)


if __name__ == "__main__":
    main()
