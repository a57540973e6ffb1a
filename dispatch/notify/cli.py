"""flask notify: drain the outbox once, or run an extra delivery worker beside the scheduler."""
import logging
import time

import click
from flask.cli import with_appcontext

from dispatch.extensions import db
from dispatch.notify.delivery import drain
from dispatch.notify.services import counts
from dispatch.notify.templates import load_defaults
from dispatch.timeutil import now


@click.group("notify")
def notify():
    """Notifications: the outbox and its delivery."""


@notify.command("drain")
@with_appcontext
def drain_once():
    """Send everything due now, then exit."""
    click.echo(f"settled {drain(now())} notification(s); queue: {counts()}")


@notify.command("load-templates")
@with_appcontext
def load_templates():
    """Add the default template mapping of any event that has none (edits made on /notify stay)."""
    click.echo(f"{load_defaults()} mapping(s) added")


@notify.command("work")
@click.option("--poll", default=2.0, show_default=True, help="seconds to wait when nothing is due")
@with_appcontext
def work(poll):
    """An extra delivery process: drain, wait, repeat until stopped (rows are shared through SKIP LOCKED)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    while True:
        try:
            if drain(now()) == 0:
                time.sleep(poll)
        except Exception:  # a database or network hiccup must not end the worker
            logging.getLogger(__name__).exception("delivery failed; trying again")
            db.session.rollback()
            time.sleep(poll)
        finally:
            db.session.remove()
