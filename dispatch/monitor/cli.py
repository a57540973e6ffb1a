"""flask monitor: bring the metrics up to date now, or rebuild them from the whole timeline."""
import time

import click
from flask.cli import with_appcontext

from dispatch.monitor.refresh import rebuild, run_refresh
from dispatch.timeutil import now


@click.group("monitor")
def monitor():
    """Metrics: the facts and rollup the dashboards read."""


@monitor.command("refresh")
@with_appcontext
def refresh():
    """Read the timeline entries written since the last run (the scheduler does this every minute)."""
    started = time.perf_counter()
    click.echo(f"refreshed {run_refresh(now())} ticket(s) in {time.perf_counter() - started:.1f} s")


@monitor.command("rebuild")
@with_appcontext
def rebuild_all():
    """Throw the facts away and read the whole timeline again (after a restore or a change of formulas)."""
    started = time.perf_counter()
    click.echo(f"rebuilt {rebuild(now())} ticket(s) in {time.perf_counter() - started:.1f} s")
