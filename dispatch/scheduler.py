"""The scheduler process: periodic jobs declared as data, run by `flask scheduler` (or `flask scheduler run`).

One process runs them. It holds a lease row in the database (any database, so SQLite demos too) and renews
it while alive; a second scheduler started beside it waits, and takes over when the lease runs out (within
LEASE_SECONDS plus one poll, under a minute) if the first dies. Jobs take `now` and return a count, so
tests call them directly with a frozen clock; each run is logged with what it did and how long it took.
"""
import logging
import os
import socket
import time
from dataclasses import dataclass
from datetime import timedelta
from importlib import import_module

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import String, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.extensions import db
from dispatch.timeutil import UTCDateTime, now

log = logging.getLogger(__name__)
LEASE_NAME = "scheduler"
LEASE_SECONDS = 40  # a dead holder's lease expires after this; the standby polls every POLL_SECONDS
POLL_SECONDS = 10


class SchedulerLease(db.Model):
    """Who runs the periodic jobs: one holder at a time, renewed while alive, taken over when it expires."""

    __tablename__ = "scheduler_leases"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class Job:
    """A periodic job: a name, 'module:function' taking now, and how often it runs."""

    name: str
    target: str
    seconds: int

    def function(self):
        module, name = self.target.split(":")
        return getattr(import_module(module), name)


JOBS = (
    Job("sla-sweep", "dispatch.sla.sweep:run_sla_sweep", seconds=60),
    Job("media-fetch", "dispatch.intake.media_jobs:run_media_fetches", seconds=5),
    Job("task-take-back", "dispatch.teams.services:run_take_back", seconds=60),
    Job("auto-assign", "dispatch.teams.services:run_auto_assign", seconds=30),
    Job("duty", "dispatch.teams.duty:run_duty", seconds=20),
    Job("volunteer-rates", "dispatch.teams.services:refresh_rates", seconds=600),
    Job("notify-delivery", "dispatch.notify.delivery:run_delivery", seconds=5),
    Job("auto-close", "dispatch.tickets.ratings:run_auto_close", seconds=600),
    Job("monitor-refresh", "dispatch.monitor.refresh:run_refresh", seconds=60),
    Job("open311-retry", "dispatch.open311.submissions:run_retries", seconds=60),
)


def holder_name():
    """This process, as the lease names it."""
    return f"{socket.gethostname()}:{os.getpid()}"


def acquire_lease(holder, at, seconds=LEASE_SECONDS, name=LEASE_NAME):
    """Take or renew the lease if it is free, expired or already ours; True when we hold it afterwards."""
    table = SchedulerLease.__table__
    expires = at + timedelta(seconds=seconds)
    if db.session.get(SchedulerLease, name) is None:
        db.session.add(SchedulerLease(name=name, holder=holder, expires_at=expires))
        try:
            db.session.commit()
            return True
        except Exception:  # another scheduler created it first: fall through to the compare-and-set
            db.session.rollback()
    # One UPDATE decides between rivals: only one of them can match the row as it was.
    taken = db.session.execute(update(table).where(
        table.c.name == name, or_(table.c.holder == holder, table.c.expires_at < at))
        .values(holder=holder, expires_at=expires)).rowcount == 1
    db.session.commit()
    return taken


def release_lease(holder, name=LEASE_NAME):
    """Give the lease up on a clean stop, so a standby need not wait for it to expire."""
    table = SchedulerLease.__table__
    db.session.execute(update(table).where(table.c.name == name, table.c.holder == holder)
                       .values(expires_at=now() - timedelta(seconds=1)))
    db.session.commit()


def lease_holder(name=LEASE_NAME):
    """(holder, expires_at) of the lease, or None."""
    row = db.session.execute(select(SchedulerLease.holder, SchedulerLease.expires_at)
                             .where(SchedulerLease.name == name)).one_or_none()
    return tuple(row) if row else None


def run_job(app, job, holder=None):
    """Run one job in its own app context, if we still hold the lease; log what it did and how long it took."""
    with app.app_context():
        started = time.perf_counter()
        try:
            if holder is not None and not acquire_lease(holder, now()):
                log.warning("%s: skipped, another scheduler holds the lease", job.name)
                return
            done = job.function()(now())
            log.info("%s: %s done in %.0f ms", job.name, done or 0, (time.perf_counter() - started) * 1000)
        except Exception:
            log.exception("scheduler job %s failed after %.0f ms", job.name, (time.perf_counter() - started) * 1000)
            db.session.rollback()
        finally:
            db.session.remove()


def wait_for_lease(app, holder, sleep=time.sleep):
    """Block until this process holds the lease."""
    while True:
        with app.app_context():
            try:
                if acquire_lease(holder, now()):
                    return
                current = lease_holder()
            finally:
                db.session.remove()
        click.echo(f"another scheduler ({current[0]}) holds the lease until {current[1]:%H:%M:%S} UTC; waiting…")
        sleep(POLL_SECONDS)


def _run_forever(app):
    from apscheduler.schedulers.blocking import BlockingScheduler

    holder = holder_name()
    wait_for_lease(app, holder)
    runner = BlockingScheduler(timezone="UTC")
    runner.add_job(_renew, "interval", seconds=POLL_SECONDS, args=(app, holder, runner), id="lease",
                   max_instances=1, coalesce=True)
    for job in JOBS:
        runner.add_job(run_job, "interval", seconds=job.seconds, args=(app, job, holder), id=job.name,
                       max_instances=1, coalesce=True)
    click.echo(f"scheduler {holder} running: " + ", ".join(f"{j.name} every {j.seconds}s" for j in JOBS))
    try:
        runner.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        with app.app_context():
            release_lease(holder)
            db.session.remove()


def _renew(app, holder, runner):
    """Keep the lease; if it was lost (this process stalled past its expiry), stop so the new holder runs alone."""
    with app.app_context():
        try:
            if not acquire_lease(holder, now()):
                log.error("scheduler %s lost its lease; stopping", holder)
                runner.shutdown(wait=False)
        finally:
            db.session.remove()


@click.group("scheduler", invoke_without_command=True)
@click.pass_context
def scheduler(ctx):
    """The background jobs (SLA sweep, media fetch); with no subcommand, run them until stopped."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(run)


@scheduler.command("run")
@click.option("--once", is_flag=True, help="run every job once and exit")
@with_appcontext
def run(once):
    """Run the jobs on their schedules until stopped (waiting while another scheduler holds the lease)."""
    app = current_app._get_current_object()
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("apscheduler").setLevel(logging.WARNING)  # our own line per job says what ran
    if once:
        for job in JOBS:
            run_job(app, job)
        return
    _run_forever(app)


@scheduler.command("status")
@with_appcontext
def status():
    """Who holds the lease, and the jobs."""
    current = lease_holder()
    click.echo(f"lease: {current[0]} until {current[1]:%Y-%m-%d %H:%M:%S} UTC" if current else "lease: nobody")
    for job in JOBS:
        click.echo(f"  {job.name}: every {job.seconds}s ({job.target})")
