"""make bench: ticket-creation throughput and filtered-list latency beside two bare-Flask baselines.

    python -m bench.run [--quick] [--tickets 100000] [--duration 8] [--database-url URL] [--keep-db]
                        [--sweep-sizes 200000,2000000] [--skip-sweep] [--skip-notify]
                        [--monitor-tickets 2000000] [--skip-monitor] [--skip-cold-start] [--skip-poll]

A measurement, not a test: it prints PASS/FAIL against the goals and exits 0 either way;
it exits 1 only when something broke (a server would not start, a request failed).
"""
import argparse
import os
import platform
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402

from bench import (coldstart_bench, dataset, monitor_bench, notify_bench, poll_bench, report,  # noqa: E402
                   routing_bench, scenarios, sweep_bench, wechat_load)
from bench.baseline_app import create_baseline_app, create_schema  # noqa: E402
from bench.load import hammer, in_sequence  # noqa: E402
from bench.profile_create import create_statements, is_statement, statements_for  # noqa: E402
from bench.progress import log  # noqa: E402
from bench.servers import WORKERS, serving_all  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/dispatch_bench"
RESULTS = Path(__file__).resolve().parent / "results"
BASELINE = "bench.baseline_app:app"
SERVERS = {"const": (BASELINE, "/const"), "insert": (BASELINE, "/const"), "create": ("wsgi:app", "/healthz")}
CALLBACK_CONNECTIONS = 50


def parse_args(argv):
    """Command-line options; --quick shrinks everything for a smoke run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL, help="created and dropped by the bench")
    parser.add_argument("--tickets", type=int, default=100_000, help="tickets bulk-loaded for the list test")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per throughput phase")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds per throughput target")
    parser.add_argument("--threads", type=int, default=4, help="concurrent client threads")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up per target")
    parser.add_argument("--list-rounds", type=int, default=40, help="passes over the list query mix (13 each)")
    parser.add_argument("--sweep-sizes", help="tickets in the SLA sweep's table, smallest first "
                        "(default 200000,2000000; 20000,200000 with --quick)")
    parser.add_argument("--skip-sweep", action="store_true", help="leave out the SLA sweep")
    parser.add_argument("--skip-notify", action="store_true", help="leave out notification delivery")
    parser.add_argument("--monitor-tickets", type=int, help="tickets (with timelines) behind the monitor pages "
                        f"(default {monitor_bench.TICKETS:,}; 20,000 with --quick)")
    parser.add_argument("--skip-monitor", action="store_true", help="leave out the monitor overviews")
    parser.add_argument("--skip-cold-start", action="store_true", help="leave out the first note after a fresh "
                        "start")
    parser.add_argument("--skip-poll", action="store_true", help="leave out what 50 open console queues cost "
                        "(the live poll beside /healthz)")
    parser.add_argument("--quick", action="store_true", help="5,000 tickets, 3 s phases, 10 list rounds, "
                        "2,000 notifications once, 20,000 tickets behind the monitor pages")
    parser.add_argument("--keep-db", action="store_true", help="leave the bench databases behind")
    args = parser.parse_args(argv)
    if args.quick:
        args.tickets, args.duration, args.warmup, args.list_rounds = 5000, 3.0, 2.0, 10
    args.monitor_tickets = args.monitor_tickets or (20_000 if args.quick else monitor_bench.TICKETS)
    default_sizes = sweep_bench.QUICK_SIZES if args.quick else sweep_bench.SIZES
    args.sweep_sizes = [int(n) for n in args.sweep_sizes.split(",")] if args.sweep_sizes else list(default_sizes)
    return args


def prepare(args):
    """A fresh database with the schema, organisation, tokens, baseline table and bulk tickets."""
    log(f"creating {dataset.database_name(args.database_url)}")
    dataset.recreate_database(args.database_url)
    app = dataset.dispatch_app(args.database_url)
    org, tokens = dataset.prepare_schema(app, log)
    with app.app_context():
        wechat_load.add_account(org["home_community"])
    create_schema(args.database_url)
    started = time.perf_counter()
    loaded = dataset.bulk_load_tickets(args.database_url, args.tickets)
    log(f"loaded {loaded['tickets']:,} tickets ({loaded['open']:,} open) in {time.perf_counter() - started:.1f} s")
    return app, org, tokens, loaded


def measure_list(server, org, tokens, rounds):
    """Sequential list requests from one client, after one discarded warm-up pass."""
    in_sequence(server, scenarios.list_calls(org, tokens, 2, seed=1))
    calls = scenarios.list_calls(org, tokens, rounds)
    log(f"list: {len(calls)} sequential requests")
    return in_sequence(server, calls)


def measure_throughput(servers, calls, args):
    """Warm every target up, then run const, insert, create, callback in turn, `repeats` times."""
    warmups = {}
    for target, server in servers.items():
        log(f"warm-up {target} ({args.warmup:g} s)")
        warmups[target] = hammer(server, calls[target], args.warmup, args.threads)
    rounds = []
    for i in range(args.repeats):
        tallies = {}
        for target, server in servers.items():
            tallies[target] = hammer(server, calls[target], args.duration, args.threads)
            log(f"round {i + 1}/{args.repeats} {target}: {tallies[target].rate:.1f} req/s")
        rounds.append(tallies)
    return warmups, rounds


def measure_callback_latency(server, calls, args):
    """The callback at CALLBACK_CONNECTIONS concurrent connections, for its p99."""
    log(f"callback at {CALLBACK_CONNECTIONS} concurrent connections ({args.duration:g} s)")
    return hammer(server, calls, args.duration, CALLBACK_CONNECTIONS)


def callback_tally(warmups, rounds, at_50, database_url):
    """Distinct MsgIds answered 200 across every callback phase, beside the tickets the account opened."""
    tallies = [warmups["callback"], at_50] + [r["callback"] for r in rounds]
    answered = {kind for t in tallies for kind in t.kinds}
    sent = sum(len(t.kinds) + len(t.errors) for t in tallies)
    return {"requests": sent, "distinct_msgids_200": len(answered),
            "tickets": wechat_load.tickets_opened(dataset.plain_url(database_url)),
            "p99_ms_at_50": report.p99_ms(at_50.latencies), "rps_at_50": round(at_50.rate, 1)}


def sql_per_request(app, org, tokens, database_url):
    """SQL statements one create request and one baseline insert send, counted in-process."""
    calls = scenarios.throughput_calls(org, tokens)
    logs = {"create (with resident)": create_statements(app, calls["create"][1::2]),
            "create (no resident)": create_statements(app, calls["create"][::2]),
            "insert baseline": statements_for(create_baseline_app(database_url), calls["insert"][0])}
    return {name: {"statements": sum(map(is_statement, items)), "log": items} for name, items in logs.items()}


def postgres_version(database_url):
    """The server's version string, e.g. PostgreSQL 15.20."""
    with psycopg.connect(dataset.plain_url(database_url)) as conn:
        return "PostgreSQL " + conn.execute("SHOW server_version").fetchone()[0].split()[0]


def failures(list_tally, rounds):
    """Every failed request of the run."""
    return list_tally.errors + [e for r in rounds for t in r.values() for e in t.errors]


def measure_sweep(args):
    """The SLA sweep at each size, on its own database, after the servers have stopped (None if skipped)."""
    if args.skip_sweep:
        return None
    return sweep_bench.measure_sweep(args.database_url, log, args.sweep_sizes, keep_db=args.keep_db)


def measure_notify(args):
    """Notification delivery through the WeChat stub, one and two drain processes (None if skipped)."""
    if args.skip_notify:
        return None
    sizes = {"messages": 2000, "residents": 400, "repeats": 1, "raw": 1000} if args.quick else {}
    return notify_bench.measure_notify(args.database_url, log, keep_db=args.keep_db, log_dir=RESULTS, **sizes)


def measure_monitor(args):
    """The street and district overviews over tickets with timelines, and the fast path against the timeline."""
    if args.skip_monitor:
        return None
    repeats = 5 if args.quick else monitor_bench.REPEATS
    return monitor_bench.measure_monitor(args.database_url, log, args.monitor_tickets, repeats=repeats,
                                         keep_db=args.keep_db)


def measure_cold_start(args):
    """The first WeChat note of a freshly started server beside its warm median (None if skipped)."""
    if args.skip_cold_start:
        return None
    return coldstart_bench.measure_cold_start(args.database_url, log, starts=2 if args.quick else
                                              coldstart_bench.STARTS, keep_db=args.keep_db, log_dir=RESULTS)


def measure_poll(args):
    """What open console queues polling for changes cost the server, beside a health check (None if skipped)."""
    if args.skip_poll:
        return None
    sizes = {"tickets": args.tickets, "duration": 2.0, "repeats": 1} if args.quick else {"tickets": args.tickets}
    return poll_bench.measure_poll(args.database_url, log, keep_db=args.keep_db, log_dir=RESULTS, **sizes)


def run(args):
    """Prepare, measure, report; returns the results."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    app, org, tokens, loaded = prepare(args)
    calls = {**scenarios.throughput_calls(org, tokens), "callback": wechat_load.FreshMessages()}
    with serving_all(SERVERS, args.database_url, RESULTS) as servers:
        list_tally = measure_list(servers["create"], org, tokens, args.list_rounds)
        warmups, rounds = measure_throughput({**servers, "callback": servers["create"]}, calls, args)
        at_50 = measure_callback_latency(servers["create"], calls["callback"], args)
    throughput, listing = report.throughput_figures(rounds), report.list_figures(list_tally)
    callback = callback_tally(warmups, rounds, at_50, args.database_url)
    sql = sql_per_request(app, org, tokens, args.database_url)
    cold_start = measure_cold_start(args)
    sweep = measure_sweep(args)
    routing = routing_bench.measure_routing(args.database_url, log, keep_db=args.keep_db)
    notify = measure_notify(args)
    monitor = measure_monitor(args)
    poll = measure_poll(args)
    return {"meta": {"tickets": args.tickets, "postgres": postgres_version(args.database_url),
                     "cpus": os.cpu_count(), "python": platform.python_version(), "workers": WORKERS,
                     "threads": args.threads, "duration": args.duration, "repeats": args.repeats,
                     "warmup": args.warmup, "quick": args.quick, "sweep_sizes": None if args.skip_sweep
                     else args.sweep_sizes, "at": time.strftime("%Y-%m-%dT%H:%M:%S%z")},
            "dataset": loaded, "throughput": throughput, "list": listing, "callback": callback,
            "cold_start": cold_start, "sweep": sweep,
            "routing": routing, "notify": notify, "monitor": monitor, "poll": poll,
            "goals": {**report.goals(throughput, listing, callback), **(report.sweep_goals(sweep) if sweep else {}),
                      "suggestions": {"pass": routing["pass"], "median_ms": routing["median_ms"]},
                      **({"delivery": {"pass": notify["pass"], "median_rate_two": notify["two"]["median_rate"]}}
                         if notify else {}),
                      **({"monitor": {"pass": monitor["pass"], "equal": monitor["equal"]}} if monitor else {}),
                      **({"open_consoles": {"pass": poll["pass"], "core_pct": poll["core_pct"]}} if poll else {})},
            "sql": sql, "errors": failures(list_tally, rounds) + at_50.errors + (poll["errors"] if poll else [])}


def main(argv=None):
    """Entry point: exit 0 whatever the verdicts, 1 if something broke."""
    args = parse_args(argv)
    try:
        results = run(args)
    finally:
        if not args.keep_db:
            dataset.drop_database(args.database_url)
    report.print_report(results)
    if results["cold_start"]:
        print("\n".join(coldstart_bench.summarise(results["cold_start"])))
    print("\n".join(routing_bench.summarise(results["routing"])))
    if results["notify"]:
        print("\n".join(notify_bench.summarise(results["notify"])))
    if results["monitor"]:
        print("\n".join(monitor_bench.summarise(results["monitor"])))
    if results["poll"]:
        print("\n".join(poll_bench.summarise(results["poll"])))
    report.write_json(results, RESULTS / "latest.json")
    log(f"wrote {RESULTS / 'latest.json'}")
    # A fast path that disagrees with the timeline is broken, not slow.
    broken_monitor = results["monitor"] and not results["monitor"]["equal"]
    return 1 if results["errors"] or (results["notify"] and not results["notify"]["ok"]) or broken_monitor else 0


if __name__ == "__main__":
    sys.exit(main())
