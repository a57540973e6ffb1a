"""make bench, notification delivery: 10,000 queued notifications drained against the local WeChat stub.

    python -m bench.notify_bench [--messages 10000] [--residents 2000] [--repeats 3] [--raw 3000]
                                 [--database-url URL] [--keep-db]

The stub (dispatch.wechat.stub) runs alone under gunicorn: one gthread worker, so its delivery-once memory is in
one place. Each round times `flask notify drain` as the operator runs it — a process started, the outbox drained
with NOTIFY_THREADS threads, the process gone — over `messages` queued rows: `residents` people with a ticket
each and messages/residents lifecycle messages about it (accepted, dispatched, visit started, ...), the tickets
interleaved at random, so a ticket's later messages are due while its earlier ones wait or are being sent.
First one process drains them, then (queued afresh) two started together. The baseline, measured in the same
round, is the stub's ceiling from one client process: the same number of threads posting template messages over
kept-alive connections (requests.Session per thread); beside it, the same posts on a new connection each (as a
bare requests.post). Also timed: a drain process with nothing queued (start-up and exit), alone and two at once,
to show the rate without it.

After every drain: the stub's calls and deliveries must both equal `messages` (none sent twice, none lost) and
every row must be 'sent'. Messages that reached a person before an older one about the same ticket are counted
too (the stub numbers msgids in delivery order; the count must be 0).
"""
import argparse
import random
import statistics
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402
import requests  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench import dataset, servers, wechat_load  # noqa: E402
from bench.progress import log  # noqa: E402
from dispatch.cache import clear_all  # noqa: E402
from dispatch.extensions import db  # noqa: E402
from dispatch.notify.models import Notification, Status  # noqa: E402
from dispatch.notify.templates import load_defaults  # noqa: E402
from dispatch.org.models import Community, Resident  # noqa: E402
from dispatch.tickets.lifecycle import Status as TicketStatus  # noqa: E402
from dispatch.tickets.models import Category, Channel, Priority, Ticket  # noqa: E402

GOAL_RATE = 500.0  # messages per second with two delivery processes
MESSAGES, RESIDENTS, REPEATS, RAW = 10_000, 2_000, 3, 3_000
STUB_THREADS = 16
DRAIN_TIMEOUT = 600
ROOT = servers.ROOT
FLASK = str(Path(sys.executable).with_name("flask"))
STUB_APP = "dispatch.wechat.stub:create_stub_app()"
FACTS = {"number": "20261121-0001", "category": "楼道及路灯", "status": "已受理", "time": "2026年11月21日 10:00"}
# A ticket's messages to its resident, in the order they are written (status: a phrase of ≤ 5 characters).
EVENTS = (("accepted", "已受理"), ("dispatched", "已派单"), ("visit_started", "上门办理"), ("need_info", "待补充"),
          ("resolved", "已办结"))


def own_url(database_url):
    """The same server, this bench's own database (<name>_notify)."""
    url = make_url(dataset.plain_url(database_url))
    return url.set(database=f"{url.database}_notify").render_as_string(hide_password=False)


@contextmanager
def stub_server(log_dir):
    """The WeChat stub alone under gunicorn (1 gthread worker, STUB_THREADS threads); yields its base URL."""
    port = servers.free_port()
    log_path = Path(log_dir) / "wechat_stub.log"
    command = [sys.executable, "-m", "gunicorn", "--workers", "1", "--worker-class", "gthread", "--threads",
               str(STUB_THREADS), "--bind", f"127.0.0.1:{port}", "--timeout", "60", "--log-level", "warning",
               STUB_APP]
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    server = servers.Server("wechat_stub", port, process, log_path)
    try:
        servers.wait_until_ready(server, "/_stub/wechat/_state")
        yield f"http://127.0.0.1:{port}/_stub/wechat"
    finally:
        servers.stop(server)


def stub_state(base, **change):
    """The stub's counters (GET), after a change if one is given (POST: reset, delay, ...)."""
    if change:
        requests.post(f"{base}/_state", json=change, timeout=10).raise_for_status()
    response = requests.get(f"{base}/_state", timeout=10)
    response.raise_for_status()
    return response.json()


def prepare(url, log, residents):
    """Schema, organisation, the bench account, its template mapping, `residents` followers and a ticket of each;
    [(resident id, ticket id, ticket number)]."""
    dataset.recreate_database(url)
    app = dataset.dispatch_app(url)
    org, _ = dataset.prepare_schema(app, log)
    with app.app_context():
        wechat_load.add_account(org["home_community"])
        load_defaults()  # the migration seeds the mapping; this adds any event it lacks
        now = datetime.now(timezone.utc)
        ids = db.session.scalars(insert(Resident).returning(Resident.id), [
            {"account_code": wechat_load.ACCOUNT["code"], "openid": f"o_notify_{i:05d}", "name": f"居民{i}",
             "created_at": now, "subscribed": True} for i in range(residents)]).all()
        community = db.session.scalar(select(Community.id).where(Community.code == org["home_community"]))
        category = db.session.scalar(select(Category.id).order_by(Category.sort_order))
        numbers = [f"N{i:09d}" for i in range(residents)]
        tickets = db.session.scalars(insert(Ticket).returning(Ticket.id), [
            {"number": number, "channel": Channel.WECHAT_TEXT, "community_id": community, "category_id": category,
             "priority": Priority.NORMAL, "status": TicketStatus.ACCEPTED, "description": "3号楼走廊灯坏了",
             "resident_id": rid, "sla_paused_seconds": 0, "created_at": now, "updated_at": now, "version": 1}
            for rid, number in zip(ids, numbers)]).all()
        db.session.commit()
        threads = app.config["NOTIFY_THREADS"]
        db.session.remove()
        db.engine.dispose()
    return app, list(zip(ids, tickets, numbers)), threads


def queue(app, url, people, messages, seed):
    """An empty outbox, then `messages` due rows in one insert: each ticket's lifecycle messages in order,
    the tickets interleaved at random; the account's stored token cleared (the stub was reset and forgot it)."""
    with psycopg.connect(dataset.plain_url(url), autocommit=True) as conn:
        conn.execute("TRUNCATE notifications RESTART IDENTITY")
        conn.execute("UPDATE wechat_accounts SET access_token = NULL, access_token_expires_at = NULL")
    rng = random.Random(seed)
    order = [i % len(people) for i in range(messages)]
    rng.shuffle(order)
    start, told = datetime.now(timezone.utc) - timedelta(hours=1), [0] * len(people)
    rows = []
    for i, who in enumerate(order):
        (resident, ticket, number), (event, status) = people[who], EVENTS[told[who] % len(EVENTS)]
        told[who] += 1
        at = start + timedelta(milliseconds=i * 100)
        rows.append({"created_at": at, "event": event, "audience": "resident", "ticket_id": ticket,
                     "resident_id": resident, "user_id": None, "facts": {**FACTS, "number": number, "status": status},
                     "urgent": False, "status": Status.PENDING, "attempts": 0, "next_attempt_at": at})
    if rows:
        with app.app_context():
            db.session.execute(insert(Notification.__table__), rows)
            db.session.commit()
            db.session.remove()
            db.engine.dispose()
    with psycopg.connect(dataset.plain_url(url), autocommit=True) as conn:
        conn.execute("ANALYZE notifications")


def drain_env(url, base, threads):
    """A drain process's environment: production settings on the bench database, WeChat at the stub."""
    env = servers.server_env(url)
    env.update(WECHAT_API_BASE_URL=base, WECHAT_STUB="0", NOTIFY_THREADS=str(threads))
    return env


def run_drains(processes, env):
    """Start `processes` `flask notify drain` at once; (seconds until the last exits, [settled per process])."""
    started = time.perf_counter()
    running = [subprocess.Popen([FLASK, "--app", "wsgi", "notify", "drain"], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(processes)]
    outputs = []
    try:
        for process in running:
            out, err = process.communicate(timeout=DRAIN_TIMEOUT)
            outputs.append((process.returncode, out, err))
    finally:
        for process in running:
            if process.poll() is None:
                process.kill()
                process.wait()
    elapsed = time.perf_counter() - started
    settled = []
    for code, out, err in outputs:
        if code != 0 or not out.startswith("settled "):
            raise RuntimeError(f"flask notify drain exited {code}:\n{out[-2000:]}\n{err[-3000:]}")
        settled.append(int(out.split()[1]))
    return elapsed, settled


def check(url, base):
    """What the drain left: the stub's counters, rows by status, messages that overtook an older one about the
    same ticket."""
    state = stub_state(base)
    with psycopg.connect(dataset.plain_url(url)) as conn:
        statuses = dict(conn.execute("SELECT status, count(*) FROM notifications GROUP BY status").fetchall())
        overtaken = conn.execute(
            "SELECT count(*) FROM (SELECT msgid::bigint AS m, lag(msgid::bigint) OVER (PARTITION BY resident_id, "
            "ticket_id ORDER BY id) AS before FROM notifications WHERE status = 'sent') s "
            "WHERE before > m").fetchone()[0]
    return {**state, "statuses": statuses, "out_of_order": overtaken}


def _post_all(base, token, count, threads, keep_alive):
    """`count` template sends from `threads` threads; messages per second."""
    bodies = [{"touser": f"o_raw_{i % RESIDENTS:05d}", "template_id": "TPL_ACCEPTED",
               "url": "http://127.0.0.1:5000/h5/bench/tickets/20261121-0001",
               "data": {"character_string1": {"value": FACTS["number"]}, "thing2": {"value": FACTS["category"]},
                        "phrase3": {"value": FACTS["status"]}, "time4": {"value": FACTS["time"]}},
               "client_msg_id": f"raw-{keep_alive}-{i}"} for i in range(count)]
    url, params, lock, failures = f"{base}/cgi-bin/message/template/send", {"access_token": token}, threading.Lock(), []
    chunks = [bodies[i::threads] for i in range(threads)]

    def send(chunk):
        post = requests.Session().post if keep_alive else requests.post
        for body in chunk:
            reply = post(url, params=params, json=body, timeout=10).json()
            if reply.get("errcode"):
                with lock:
                    failures.append(reply)

    workers = [threading.Thread(target=send, args=(chunk,)) for chunk in chunks]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"raw sends refused: {failures[:3]}")
    return count / elapsed


def raw_rates(base, count, threads):
    """The stub's ceiling from one process: kept-alive sessions per thread, and a new connection per send."""
    stub_state(base, reset=True)
    token = requests.post(f"{base}/cgi-bin/stable_token", json={"grant_type": "client_credential",
                          "appid": wechat_load.ACCOUNT["appid"], "secret": "bench-secret"}, timeout=10).json()
    rates = {"session": _post_all(base, token["access_token"], count, threads, True),
             "no_session": _post_all(base, token["access_token"], count, threads, False)}
    state = stub_state(base)
    if state["deliveries"] != 2 * count:
        raise RuntimeError(f"raw sends: the stub counted {state}")
    return rates


def one_round(app, url, base, env, people, messages, processes, seed):
    """Queue, reset the stub, drain with `processes` processes, check; the round's figures."""
    queue(app, url, people, messages, seed)
    stub_state(base, reset=True)
    seconds, settled = run_drains(processes, env)
    found = check(url, base)
    ok = (found["calls"] == messages and found["deliveries"] == messages and found["sent"] == messages
          and found["statuses"] == {Status.SENT: messages} and sum(settled) == messages
          and found["out_of_order"] == 0)
    return {"seconds": round(seconds, 2), "rate": messages / seconds, "settled": settled, **found, "ok": ok}


def _median(values):
    return round(statistics.median(values), 1)


def measure_notify(database_url, log, messages=MESSAGES, residents=RESIDENTS, repeats=REPEATS, raw=RAW,
                   keep_db=False, log_dir=None):
    """Rounds of raw baseline, empty start-ups, one drain process and two, interleaved; medians and checks."""
    url = own_url(database_url)
    log_dir = Path(log_dir or ROOT / "bench" / "results")
    log_dir.mkdir(parents=True, exist_ok=True)
    log(f"notify: creating {dataset.database_name(url)}")
    try:
        clear_all()
        app, people, threads = prepare(url, log, residents)
        rounds = []
        with stub_server(log_dir) as base:
            env = drain_env(url, base, threads)
            log(f"notify: stub up; warm-up drain of {min(messages, 1000):,}")
            one_round(app, url, base, env, people, min(messages, 1000), 1, seed=0)
            for i in range(repeats):
                figures = {"raw": raw_rates(base, raw, threads)}
                queue(app, url, people, 0, seed=0)
                figures["startup_1"] = run_drains(1, env)[0]
                figures["startup_2"] = run_drains(2, env)[0]
                for processes in (1, 2):
                    figures[processes] = one_round(app, url, base, env, people, messages, processes,
                                                   seed=i + 1)
                log(f"notify round {i + 1}/{repeats}: raw {figures['raw']['session']:.0f}/s "
                    f"(no session {figures['raw']['no_session']:.0f}/s), start-up {figures['startup_1']:.2f} s, "
                    f"one process {figures[1]['rate']:.0f}/s in {figures[1]['seconds']} s, "
                    f"two {figures[2]['rate']:.0f}/s in {figures[2]['seconds']} s {figures[2]['settled']}")
                rounds.append(figures)
        with app.app_context():
            db.engine.dispose()
    finally:
        clear_all()
        if not keep_db:
            dataset.drop_database(url)
    return summarise_rounds(rounds, messages, residents, threads, raw)


def summarise_rounds(rounds, messages, residents, threads, raw):
    """Medians over the rounds, rates with and without start-up, ratios to the raw baseline, the verdict."""
    def per(processes):
        runs = [r[processes] for r in rounds]
        startups = [r[f"startup_{processes}"] for r in rounds]
        net = [messages / max(r["seconds"] - s, 1e-3) for r, s in zip(runs, startups)]
        return {"rates": [round(r["rate"], 1) for r in runs], "median_rate": _median(r["rate"] for r in runs),
                "median_seconds": round(statistics.median(r["seconds"] for r in runs), 2),
                "startup_s": round(statistics.median(startups), 2), "median_rate_net": _median(net),
                "settled": [r["settled"] for r in runs], "calls": [r["calls"] for r in runs],
                "deliveries": [r["deliveries"] for r in runs], "token_fetches": [r["token_fetches"] for r in runs],
                "sent_twice": sum(r["calls"] - r["deliveries"] for r in runs),
                "statuses": [r["statuses"] for r in runs], "out_of_order": [r["out_of_order"] for r in runs],
                "ok": all(r["ok"] for r in runs)}

    raw_session = _median(r["raw"]["session"] for r in rounds)
    raw_plain = _median(r["raw"]["no_session"] for r in rounds)
    one, two = per(1), per(2)
    for fig in (one, two):
        fig["vs_raw"] = round(fig["median_rate"] / raw_session, 2) if raw_session else None
        fig["vs_raw_no_session"] = round(fig["median_rate"] / raw_plain, 2) if raw_plain else None
    return {"messages": messages, "residents": residents, "threads": threads, "repeats": len(rounds), "raw": raw,
            "raw_rate": raw_session, "raw_rates": [round(r["raw"]["session"], 1) for r in rounds],
            "raw_no_session_rate": raw_plain, "one": one, "two": two,
            "two_vs_one": round(two["median_rate"] / one["median_rate"], 2) if one["median_rate"] else None,
            "goal": GOAL_RATE, "pass": two["median_rate"] >= GOAL_RATE and one["ok"] and two["ok"],
            "sent_twice": one["sent_twice"] + two["sent_twice"], "ok": one["ok"] and two["ok"]}


def summarise(figures):
    """The lines make bench prints."""
    one, two = figures["one"], figures["two"]
    verdict = "PASS" if figures["pass"] else "FAIL"

    def line(label, fig):
        return (f"  {label}: median {fig['median_rate']:.0f} msgs/s ({fig['median_seconds']} s from start to exit; "
                f"{fig['median_rate_net']:.0f}/s without the {fig['startup_s']} s start-up)   "
                f"= {fig['vs_raw']}× raw   rounds {', '.join(f'{r:.0f}' for r in fig['rates'])}")

    return [f"notification delivery: {figures['messages']:,} queued ({figures['residents']:,} residents, a ticket "
            f"each), flask notify drain with {figures['threads']} threads, WeChat stub under gunicorn (1 worker, "
            f"{STUB_THREADS} threads), {figures['repeats']} rounds",
            line("one process", one), line("two processes", two),
            f"  two / one = {figures['two_vs_one']}×   goal ≥ {figures['goal']:g}/s with two: "
            f"{'met' if two['median_rate'] >= figures['goal'] else 'not met'}  {verdict}",
            f"  baseline: raw sends from one process, {figures['threads']} threads, {figures['raw']:,} each: "
            f"kept-alive sessions {figures['raw_rate']:.0f}/s (rounds "
            f"{', '.join(f'{r:.0f}' for r in figures['raw_rates'])}); new connection per send "
            f"{figures['raw_no_session_rate']:.0f}/s",
            f"  sent twice: {figures['sent_twice']}   every round: stub calls = deliveries = {figures['messages']:,} "
            f"and every row sent: {'yes' if figures['ok'] else 'NO'}   split between two processes: "
            f"{'; '.join('/'.join(map(str, s)) for s in two['settled'])}",
            f"  messages that reached a person before an older one about the same ticket: one process "
            f"{sum(one['out_of_order'])}, two {sum(two['out_of_order'])}   token fetches per round: one process "
            f"{', '.join(map(str, one['token_fetches']))}; two {', '.join(map(str, two['token_fetches']))}"]


def main(argv=None):
    """Entry point for running this bench alone."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/dispatch_bench")
    parser.add_argument("--messages", type=int, default=MESSAGES)
    parser.add_argument("--residents", type=int, default=RESIDENTS)
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--raw", type=int, default=RAW, help="raw sends per baseline")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args(argv)
    figures = measure_notify(args.database_url, log, args.messages, args.residents, args.repeats, args.raw,
                             args.keep_db)
    print("\n".join(summarise(figures)))
    return 0 if figures["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
