"""The auto-close job: resolved tickets nobody rated close after AUTO_CLOSE_DAYS, on a frozen clock."""
from datetime import timedelta

import pytest
from sqlalchemy import update

from dispatch.tickets import pipeline
from dispatch.extensions import db
from dispatch.org.principal import Principal
from dispatch.resident import services as resident
from dispatch.scheduler import JOBS
from dispatch.tickets import callbacks, ratings
from dispatch.tickets.lifecycle import Status
from dispatch.tickets.models import Ticket

WEEK = timedelta(days=7)


@pytest.fixture
def resolve(org, clock):
    """resolve(ticket): the director accepts (if new) and resolves it now."""
    director = Principal.from_user(org.director)

    def done(ticket):
        if ticket.status is Status.NEW:
            pipeline.act(director, ticket, "accept", now=clock())
        return pipeline.act(director, ticket, "resolve", note="已修好", now=clock())
    return done


def test_closes_after_the_days_and_not_before(app, make_ticket, resolve, clock):
    ticket = resolve(make_ticket())
    resolved_at = clock()
    assert ratings.auto_close(resolved_at + WEEK - timedelta(seconds=1)) == []
    assert ticket.status is Status.RESOLVED
    assert ratings.auto_close(resolved_at + WEEK) == [ticket.number]
    db.session.refresh(ticket)
    assert ticket.status is Status.CLOSED and ticket.closed_at == resolved_at + WEEK and ticket.rating is None
    close = ticket.events[-1]
    assert (close.kind, close.actor_label, close.note) == ("close", "系统", "居民 7 天未评价，系统自动关闭")
    assert ratings.auto_close(resolved_at + 2 * WEEK) == []


def test_rated_tickets_are_left_alone(org, make_ticket, resolve, clock):
    by_resident, by_phone = resolve(make_ticket("楼道灯坏了")), resolve(make_ticket("水管漏了"))
    resident.rate(by_resident, "unsatisfied", "还是不亮", clock())  # reopened, to be redone
    callbacks.record_callback(Principal.from_user(org.director), by_phone, True, "unsatisfied", None, clock())
    assert by_phone.status is Status.RESOLVED  # rated on the phone: staff decide, not the clock
    assert ratings.auto_close(clock() + 3 * WEEK) == []
    assert (by_resident.status, by_phone.status) == (Status.REOPENED, Status.RESOLVED)


def test_a_redone_ticket_counts_from_its_new_resolution(make_ticket, resolve, clock):
    ticket = resolve(make_ticket())
    resident.rate(ticket, "unsatisfied", "还是不亮", clock.advance(hours=1))
    clock.advance(days=3)
    resolve(ticket)  # resolved again: the earlier rating was of the earlier result
    assert ratings.auto_close(clock() + WEEK - timedelta(minutes=1)) == []
    assert ratings.auto_close(clock() + WEEK) == [ticket.number]


def test_zero_days_disables_it(app, make_ticket, resolve, clock, monkeypatch):
    resolve(make_ticket())
    monkeypatch.setitem(app.config, "AUTO_CLOSE_DAYS", 0)
    assert ratings.run_auto_close(clock() + 52 * WEEK) == 0
    monkeypatch.setitem(app.config, "AUTO_CLOSE_DAYS", 3)
    assert ratings.run_auto_close(clock() + timedelta(days=3)) == 1


def test_works_through_batches_and_skips_a_ticket_rated_meanwhile(make_ticket, resolve, clock, monkeypatch):
    tickets = [resolve(make_ticket(f"第 {n} 件事")) for n in range(5)]
    monkeypatch.setattr(ratings, "AUTO_CLOSE_BATCH", 2)
    unrated = ratings._still_unrated

    def rated_meanwhile(ticket):
        """The resident rates the third ticket after the job read it and before it closes it."""
        if ticket.id == tickets[2].id:
            with db.engine.begin() as other:
                other.execute(update(Ticket).where(Ticket.id == ticket.id).values(
                    status=Status.CLOSED, rating="satisfied", rated_at=clock(), version=Ticket.version + 1))
        return unrated(ticket)
    monkeypatch.setattr(ratings, "_still_unrated", rated_meanwhile)
    closed = ratings.auto_close(clock() + WEEK)
    assert closed == [t.number for i, t in enumerate(tickets) if i != 2]
    db.session.expire_all()
    assert tickets[2].rating == "satisfied" and [e.kind for e in tickets[2].events][-1] == "resolve"


def test_the_scheduler_runs_it(app):
    job = next(j for j in JOBS if j.name == "auto-close")
    assert job.function() is ratings.run_auto_close and job.seconds == 600
    assert app.config["AUTO_CLOSE_DAYS"] == 7
