"""The load client: plain http.client, one new connection per request for every target alike."""
import http.client
import math
import statistics
import threading
import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Call:
    """One HTTP request to send, with the statuses that count as success."""

    method: str
    path: str
    body: bytes | None = None
    headers: tuple = ()
    ok: tuple = (200,)
    kind: str = ""


@dataclass
class Tally:
    """What a run of requests produced: latencies, elapsed wall time and failures."""

    latencies: list = field(default_factory=list)
    kinds: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def rate(self):
        """Successful requests per second of wall time."""
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def merge(self, other):
        """Add another thread's results to this one."""
        self.latencies += other.latencies
        self.kinds += other.kinds
        self.errors += other.errors


def send(server, call):
    """Send one request on a fresh connection (Connection: close); returns (status, seconds, body)."""
    headers = dict(call.headers, Connection="close")
    if call.body is not None:
        headers.setdefault("Content-Type", "application/json")
    started = time.perf_counter()
    conn = http.client.HTTPConnection(server.host, server.port, timeout=60)
    try:
        conn.request(call.method, call.path, body=call.body, headers=headers)
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    return response.status, time.perf_counter() - started, body


def record(tally, server, call):
    """Send one call and note its latency, or the failure."""
    try:
        status, seconds, body = send(server, call)
    except OSError as exc:
        tally.errors.append(f"{call.method} {call.path}: {type(exc).__name__}: {exc}")
        return
    if status in call.ok:
        tally.latencies.append(seconds)
        tally.kinds.append(call.kind)
    else:
        tally.errors.append(f"{call.method} {call.path}: HTTP {status}: {body[:200].decode(errors='replace')}")


def _worker(server, calls, offset, deadline, tally):
    """Loop over the calls from an offset until the deadline."""
    i = offset
    while time.perf_counter() < deadline:
        record(tally, server, calls[i % len(calls)])
        i += 1


def hammer(server, calls, seconds, threads):
    """`threads` clients sending back to back for `seconds`; throughput over the whole wall time."""
    tallies = [Tally() for _ in range(threads)]
    started = time.perf_counter()
    deadline = started + seconds
    pool = [threading.Thread(target=_worker, args=(server, calls, i * 7919, deadline, t))
            for i, t in enumerate(tallies)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    total = Tally(elapsed=time.perf_counter() - started)
    for tally in tallies:
        total.merge(tally)
    return total


def in_sequence(server, calls):
    """Send the calls one after another from one client."""
    tally = Tally()
    started = time.perf_counter()
    for call in calls:
        record(tally, server, call)
    tally.elapsed = time.perf_counter() - started
    return tally


def percentile(values, pct):
    """The nearest-rank percentile of a list of numbers."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)] if ordered else float("nan")


def latency_summary(latencies):
    """Median, p95, max and count of latencies, in milliseconds."""
    if not latencies:
        return {"n": 0, "median_ms": None, "p95_ms": None, "max_ms": None}
    return {"n": len(latencies), "median_ms": round(statistics.median(latencies) * 1000, 2),
            "p95_ms": round(percentile(latencies, 95) * 1000, 2), "max_ms": round(max(latencies) * 1000, 2)}
