"""Turn measurements into the printed table, the goal verdicts and bench/results/latest.json."""
import json
import statistics
from collections import defaultdict

from bench.load import latency_summary

CREATE_GOAL = 0.50  # ticket creation ≥ 50% of the one-row insert's throughput
CALLBACK_GOAL = 0.40  # a WeChat note becoming a ticket ≥ 40% of it
CALLBACK_P99_GOAL_MS = 200.0  # at 50 concurrent connections
LIST_P95_GOAL_MS = 50.0
LABELS = {"const": "bare constant", "insert": "bare one-row insert", "create": "ticket creation (API)",
          "callback": "WeChat callback (text)"}


def verdict(ok):
    """PASS or FAIL."""
    return "PASS" if ok else "FAIL"


def throughput_figures(rounds):
    """Per target: each round's req/s, their median, and latency over all rounds."""
    figures = {}
    for target in LABELS:
        tallies = [r[target] for r in rounds]
        latencies = [x for t in tallies for x in t.latencies]
        figures[target] = {"rounds_rps": [round(t.rate, 1) for t in tallies],
                           "median_rps": round(statistics.median(t.rate for t in tallies), 1),
                           "requests": len(latencies), "latency": latency_summary(latencies)}
    insert = figures["insert"]["median_rps"]
    for target, fig in figures.items():
        fig["vs_insert"] = round(fig["median_rps"] / insert, 3) if insert else None
    for target in ("create", "callback"):
        figures[target]["per_round_ratio"] = [round(r[target].rate / r["insert"].rate, 3) if r["insert"].rate
                                              else None for r in rounds]
    return figures


def p99_ms(latencies):
    """The 99th percentile in milliseconds."""
    from bench.load import percentile
    return round(percentile(latencies, 99) * 1000, 1) if latencies else None


def list_figures(tally):
    """Latency of the list overall, per token scope and per query kind."""
    groups = defaultdict(list)
    for kind, seconds in zip(tally.kinds, tally.latencies):
        groups[kind].append(seconds)
        groups[kind.split(":")[0] + " (all)"].append(seconds)
    return {"overall": latency_summary(tally.latencies),
            "by_kind": {kind: latency_summary(values) for kind, values in sorted(groups.items())}}


def goals(throughput, listing, callback):
    """The goals of the issues, with their verdicts."""
    ratio = throughput["create"]["vs_insert"] or 0.0
    callback_ratio = throughput["callback"]["vs_insert"] or 0.0
    p95, p99 = listing["overall"]["p95_ms"], callback["p99_ms_at_50"]
    return {"create_vs_insert": {"value": ratio, "goal": f">= {CREATE_GOAL:.0%}", "pass": ratio >= CREATE_GOAL},
            "callback_vs_insert": {"value": callback_ratio, "goal": f">= {CALLBACK_GOAL:.0%}",
                                   "pass": callback_ratio >= CALLBACK_GOAL},
            "callback_p99_ms_at_50": {"value": p99, "goal": f"< {CALLBACK_P99_GOAL_MS:.0f} ms",
                                      "pass": p99 is not None and p99 < CALLBACK_P99_GOAL_MS},
            "tickets_equal_msgids": {"value": (callback["tickets"], callback["distinct_msgids_200"]),
                                     "goal": "equal", "pass": callback["tickets"] == callback["distinct_msgids_200"]},
            "list_p95_ms": {"value": p95, "goal": f"< {LIST_P95_GOAL_MS:.0f} ms",
                            "pass": p95 is not None and p95 < LIST_P95_GOAL_MS}}


def sweep_goals(sweep):
    """The sweep's goals: fast at the largest size, and not much slower there than at the smallest."""
    largest = sweep["sizes"][-1]
    return {"sweep_ms_at_largest": {"value": largest["median_ms"],
                                    "goal": f"< {sweep['goal_ms']:.0f} ms at {largest['tickets']:,} tickets",
                                    "pass": sweep["pass_ms"]},
            "sweep_ratio": {"value": sweep["ratio"], "goal": f"<= {sweep['ratio_goal']:g}x",
                            "pass": sweep["pass_ratio"]}}


def _ms(value):
    """Milliseconds to one decimal, or a dash."""
    return "—" if value is None else f"{value:.1f}"


def throughput_lines(figures, verdicts, repeats):
    """The req/s table, with the creation goal on its line."""
    lines = [f"{'target':26s} {f'req/s (median of {repeats})':>20s}   {'each round':20s} {'p50/p95 ms':>12s}"
             f"   vs insert baseline"]
    for target, label in LABELS.items():
        fig, lat = figures[target], figures[target]["latency"]
        rounds = ", ".join(f"{r:.0f}" for r in fig["rounds_rps"])
        lines.append(f"{label:26s} {fig['median_rps']:20.1f}   {rounds:20s} "
                     f"{_ms(lat['median_ms']):>6s}/{_ms(lat['p95_ms']):<5s}   {fig['vs_insert']:>4.0%}")
    for index, (target, key, goal_ratio) in ((-2, ("create", "create_vs_insert", CREATE_GOAL)),
                                            (-1, ("callback", "callback_vs_insert", CALLBACK_GOAL))):
        per_round = ", ".join(f"{r:.0%}" for r in figures[target]["per_round_ratio"] if r is not None)
        lines[index] += (f"   goal ≥ {goal_ratio:.0%}  {verdict(verdicts[key]['pass'])}  "
                         f"(round by round: {per_round})")
    return lines


def callback_lines(callback, verdicts):
    """The callback at 50 connections, and tickets against answered MsgIds."""
    p99, same = verdicts["callback_p99_ms_at_50"], verdicts["tickets_equal_msgids"]
    return [f"{'WeChat callback @50 conn':26s} {callback['rps_at_50']:.1f} req/s, p99 {_ms(callback['p99_ms_at_50'])} ms"
            f"   goal p99 < {CALLBACK_P99_GOAL_MS:.0f} ms  {verdict(p99['pass'])}",
            f"{'':26s} {callback['requests']:,} callback requests (1 in 20 a retry); distinct MsgIds answered 200: "
            f"{callback['distinct_msgids_200']:,}; tickets opened: {callback['tickets']:,}   {verdict(same['pass'])}"]


def list_lines(listing, verdicts, tickets):
    """The list latency line with its goal, and its breakdown by query kind."""
    overall, goal = listing["overall"], verdicts["list_p95_ms"]
    lines = [f"{f'filtered list @{tickets:,}':26s} median {_ms(overall['median_ms'])} ms, p95 {_ms(overall['p95_ms'])}"
             f" ms, max {_ms(overall['max_ms'])} ms (n={overall['n']})   goal p95 < {LIST_P95_GOAL_MS:.0f} ms  "
             f"{verdict(goal['pass'])}", "",
             f"  {'list query kind (sequential, one client)':44s} {'n':>4s} {'median ms':>10s} {'p95 ms':>8s}"
             f" {'max ms':>8s}"]
    for kind, s in listing["by_kind"].items():
        lines.append(f"  {kind:44s} {s['n']:4d} {_ms(s['median_ms']):>10s} {_ms(s['p95_ms']):>8s} "
                     f"{_ms(s['max_ms']):>8s}")
    return lines


def sweep_lines(sweep):
    """One SLA sweep of the same due tickets at each table size, their ratio and the verdict; then the samples."""
    sizes = "   ".join(f"{s['tickets']:,} tickets: median {_ms(s['median_ms'])} ms" for s in sweep["sizes"])
    ok = sweep["pass_ms"] and sweep["pass_ratio"]
    ratio = "—" if sweep["ratio"] is None else f"{sweep['ratio']:.2f}"
    samples = "; ".join(f"{s['tickets']:,}: " + ", ".join(f"{x:.1f}" for x in s["samples_ms"])
                        for s in sweep["sizes"])
    return [f"SLA sweep ({sweep['due']:,} due)   {sizes}   ratio {ratio}   goal < {sweep['goal_ms']:.0f} ms and "
            f"≤ {sweep['ratio_goal']:g}×  {verdict(ok)}",
            f"{'':26s} each sweep, ms ({sweep['repeats']} per size, after one warm-up): {samples}"]


def sql_lines(sql):
    """How many SQL statements each write request sends (BEGIN/COMMIT and pool check-outs not counted)."""
    return ["SQL statements per request (counted in-process): "
            + "; ".join(f"{name} {fig['statements']}" for name, fig in sql.items())]


def print_report(results):
    """Print everything a reader needs, in the order of the issue."""
    meta = results["meta"]
    print(f"\ndispatch bench: {meta['tickets']:,} tickets, {meta['postgres']}, {meta['cpus']} CPUs, gunicorn "
          f"{meta['workers']} sync workers per server, {meta['threads']} client threads, "
          f"{meta['duration']:g} s × {meta['repeats']} interleaved rounds\n")
    verdicts = results["goals"]
    lines = (throughput_lines(results["throughput"], verdicts, meta["repeats"])
             + callback_lines(results["callback"], verdicts) + list_lines(results["list"], verdicts, meta["tickets"])
             + ([""] + sweep_lines(results["sweep"]) if results.get("sweep") else [])
             + [""] + sql_lines(results["sql"]))
    print("\n".join(lines))
    if not verdicts["create_vs_insert"]["pass"]:
        print("where ticket creation spends its time: python -m bench.profile_create")
    if results["errors"]:
        print(f"\n{len(results['errors'])} failed requests, e.g.:\n  " + "\n  ".join(results["errors"][:5]))


def write_json(results, path):
    """Write the figures as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, ensure_ascii=False, indent=2, default=str) + "\n")
