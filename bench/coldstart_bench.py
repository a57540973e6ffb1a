"""The first WeChat note a freshly started server answers, beside the same server's warm median.

    python -m bench.coldstart_bench [--starts 3] [--warm 30] [--database-url URL] [--keep-db]

Each start is a new gunicorn (2 sync workers, as every bench server), ready once /healthz answers; then one
client sends notes one after another: the first is the cold one, the next WORKERS * 2 are discarded (each
worker's first), the rest give the warm median. Done with the classifier's dictionary loaded when a worker
starts (PRELOAD_CLASSIFIER, the default) and without it (as before: on the first note), on its own database.
"""
import argparse
import statistics
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.engine import make_url  # noqa: E402

from bench import dataset, wechat_load  # noqa: E402
from bench.load import send  # noqa: E402
from bench.progress import log as progress  # noqa: E402
from bench.servers import ROOT, WORKERS, serving  # noqa: E402
from dispatch.extensions import db  # noqa: E402

STARTS = 3
WARM = 30
MODES = {"preloaded": "1", "lazy": "0"}  # PRELOAD_CLASSIFIER for the server
FIRST_ID = 8_500_000_000_000_000_001  # MsgIds apart from the callback bench's


def own_url(database_url):
    """The same server, this bench's own database (<name>_coldstart)."""
    url = make_url(dataset.plain_url(database_url))
    return url.set(database=f"{url.database}_coldstart").render_as_string(hide_password=False)


def prepare(url, log):
    """Schema, organisation and the bench's WeChat account, on a new database."""
    dataset.recreate_database(url)
    app = dataset.dispatch_app(url)
    org, _tokens = dataset.prepare_schema(app, log)
    with app.app_context():
        wechat_load.add_account(org["home_community"])
        db.engine.dispose()


def _note(server, messages):
    """Send one new note; its latency in ms (a failure raises: a cold start that errs is broken, not slow)."""
    call = messages[0]  # without retries, every item is a new MsgId
    status, seconds, body = send(server, call)
    if status not in call.ok:
        raise RuntimeError(f"cold start: HTTP {status} for a note: {body[:200]!r}")
    return seconds * 1000


def one_start(url, log_dir, mode, messages, warm):
    """A new server; (first note ms, warm median ms)."""
    with serving(f"coldstart-{mode}", "wsgi:app", "/healthz", url, log_dir,
                 env={"PRELOAD_CLASSIFIER": MODES[mode]}) as server:
        first = _note(server, messages)
        for _ in range(WORKERS * 2):
            _note(server, messages)
        rest = [_note(server, messages) for _ in range(warm)]
    return first, statistics.median(rest)


def measure_cold_start(database_url, log, starts=STARTS, warm=WARM, keep_db=False, log_dir=None):
    """Fresh starts in both modes, interleaved; each start's first note and warm median, and their medians."""
    url = own_url(database_url)
    log_dir = Path(log_dir or ROOT / "bench" / "results")
    log_dir.mkdir(parents=True, exist_ok=True)
    log(f"cold start: creating {dataset.database_name(url)}")
    messages = wechat_load.FreshMessages(seed=9, first_id=FIRST_ID, retry_every=0)
    samples = {mode: [] for mode in MODES}
    try:
        prepare(url, log)
        for start in range(starts):
            for mode in MODES:
                samples[mode].append(one_start(url, log_dir, mode, messages, warm))
                first, median = samples[mode][-1]
                log(f"cold start {start + 1}/{starts} ({mode}): first note {first:.0f} ms, warm median "
                    f"{median:.1f} ms")
    finally:
        if not keep_db:
            dataset.drop_database(url)
    return {"starts": starts, "warm": warm, "workers": WORKERS, **{
        mode: {"first_ms": [round(f, 1) for f, _ in rows], "warm_median_ms": [round(m, 1) for _, m in rows],
               "first_median_ms": round(statistics.median(f for f, _ in rows), 1),
               "warm_median_ms_overall": round(statistics.median(m for _, m in rows), 1)}
        for mode, rows in samples.items()}}


def summarise(figures):
    """The lines make bench prints."""
    now, before = figures["preloaded"], figures["lazy"]

    def each(values):
        return ", ".join(f"{v:.0f}" for v in values)

    return [f"WeChat callback, fresh start (a new gunicorn, its first note; median of {figures['starts']} starts)",
            f"  first note {now['first_median_ms']:.0f} ms (each start: {each(now['first_ms'])})   warm median "
            f"{now['warm_median_ms_overall']:.1f} ms   (dictionary loaded when a worker starts)",
            f"  first note {before['first_median_ms']:.0f} ms (each start: {each(before['first_ms'])})   warm median "
            f"{before['warm_median_ms_overall']:.1f} ms   (PRELOAD_CLASSIFIER=0: loaded by the first note, as before)"]


def main(argv=None):
    """Entry point for running this bench alone."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/dispatch_bench")
    parser.add_argument("--starts", type=int, default=STARTS, help="fresh starts per mode")
    parser.add_argument("--warm", type=int, default=WARM, help="notes behind each start's warm median")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args(argv)
    figures = measure_cold_start(args.database_url, progress, args.starts, args.warm, args.keep_db)
    print("\n".join(summarise(figures)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
