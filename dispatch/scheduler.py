"""The scheduler process: periodic jobs declared as data, run by `flask scheduler run`.

One process runs them; on PostgreSQL an advisory lock makes a second scheduler wait instead of doubling
the work. Jobs take `now` and return a count, so tests call them directly with a frozen clock.
"""
import logging
import time
from dataclasses import dataclass
from importlib import import_module

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import text

from dispatch.extensions import db
from dispatch.timeutil import now

log = logging.getLogger(__name__)
LOCK_KEY = 365_365  # pg_advisory_lock key held by the running scheduler


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
    Job("media-fetch", "dispatch.intake.media_jobs:run_media_fetches", seconds=5),
)


def run_job(app, job):
    """Run one job in its own app context; a failure is logged and the next run tries again."""
    with app.app_context():
        try:
            done = job.function()(now())
            if done:
                log.info("%s: %s done", job.name, done)
        except Exception:
            log.exception("scheduler job %s failed", job.name)
            db.session.rollback()
        finally:
            db.session.remove()


def _hold_lock():
    """Block until this process is the only scheduler (PostgreSQL); returns the connection that holds it."""
    engine = db.engine
    if engine.dialect.name != "postgresql":
        return None
    connection = engine.connect()
    while not connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY}).scalar():
        click.echo("another scheduler is running; waiting…")
        connection.rollback()
        time.sleep(10)
    connection.commit()
    return connection


@click.group("scheduler")
def scheduler():
    """The background jobs (media fetch; SLA sweep and notifications arrive with their issues)."""


@scheduler.command("run")
@click.option("--once", is_flag=True, help="run every job once and exit")
@with_appcontext
def run(once):
    """Run the jobs on their schedules until stopped."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    app = current_app._get_current_object()
    if once:
        for job in JOBS:
            run_job(app, job)
        return
    lock = _hold_lock()
    runner = BlockingScheduler(timezone="UTC")
    for job in JOBS:
        runner.add_job(run_job, "interval", seconds=job.seconds, args=(app, job), id=job.name,
                       max_instances=1, coalesce=True)
    click.echo("scheduler running: " + ", ".join(f"{j.name} every {j.seconds}s" for j in JOBS))
    try:
        runner.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        if lock is not None:
            lock.close()
