"""Races settled by the database: two requests read the same version, both write, exactly one wins.

Each racer is a real HTTP request on its own test client, session and database connection. A barrier holds
every UPDATE of a ticket until both requests have read it, so the two transactions overlap for certain: on
PostgreSQL the loser's UPDATE waits on the winner's row lock, then finds the version gone and answers 409.
"""
import re
import threading

import pytest
from sqlalchemy import event, func, select

from dispatch.extensions import db
from dispatch.org.principal import Principal
from dispatch.teams import services as teams
from dispatch.teams.models import Volunteer
from dispatch.tickets.models import Assignment, Ticket, TicketEvent
from tests.conftest import csrf_from, login


class Gate:
    """Holds the first UPDATE of tickets in each racing thread until every racer has reached one."""

    def __init__(self, racers):
        self.barrier, self.armed, self.passed = threading.Barrier(racers, timeout=10), set(), set()

    def __call__(self, conn, cursor, statement, params, context, executemany):
        me = threading.get_ident()
        if me in self.armed and me not in self.passed and statement.lstrip().upper().startswith("UPDATE TICKETS"):
            self.passed.add(me)
            self.barrier.wait()


def race(app, gate, requests):
    """Run each request (a function of nothing returning a response) in its own thread; their status codes."""
    codes = [None] * len(requests)

    def run(i):
        gate.armed.add(threading.get_ident())
        with app.app_context():
            codes[i] = requests[i]().status_code
            db.session.remove()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return codes


@pytest.fixture
def gate(app):
    gate = Gate(2)
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", gate)
        yield gate
        event.remove(db.engine, "before_cursor_execute", gate)


def _form(app, client, url, target_url=None, **fields):
    """A prepared POST: the CSRF token and the page's version read now (both have seen it), sent later."""
    with app.app_context():  # a request's own app context, as in production (the test's would share g)
        page = client.get(url).get_data(as_text=True)
        version = re.search(r'name="version" value="(\d+)"', page).group(1)
        data = {"csrf_token": csrf_from(client, url), "version": version, **fields}
    return lambda: client.post(target_url or url, data=data)


def _clients(app, *usernames):
    made = []
    for name in usernames:
        client = app.test_client()
        with app.app_context():  # its own g: the test's app context would keep the previous login's user
            login(client, name)
        made.append(client)
    return made


def _count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def ticket(org, make_ticket):
    db.session.add_all([Volunteer(user=org.volunteer, skills=["electrical"], weekly_hours=["08:00-18:00"] * 7),
                        Volunteer(user=org.volunteer2, skills=["electrical"], weekly_hours=["08:00-18:00"] * 7)])
    db.session.commit()
    return make_ticket()


def test_two_directors_dispatch_the_same_ticket_at_once(app, gate, ticket):
    director, staff = _clients(app, "director", "staff")
    url = f"/tickets/{ticket.number}/dispatch"
    first = _form(app, director, url, target="assignee:volunteer")
    second = _form(app, staff, url, target="assignee:volunteer2")
    codes = race(app, gate, [first, second])
    assert sorted(codes) == [303, 409], codes
    db.session.expire_all()
    assert _count(Assignment) == 1 and _count(TicketEvent, TicketEvent.kind == "dispatch") == 1
    winner = db.session.scalar(select(Ticket)).assignee.username
    assert winner == ("volunteer" if codes[0] == 303 else "volunteer2")


def test_a_volunteer_signs_while_the_director_withdraws(app, gate, org, ticket, clock):
    teams.assign(Principal.from_user(org.director), ticket, clock(), volunteer="volunteer")
    volunteer, director = _clients(app, "volunteer", "director")
    base = f"/tickets/{ticket.number}"
    sign = _form(app, volunteer, base, f"{base}/actions/sign")
    withdraw = _form(app, director, base, f"{base}/actions/withdraw", note="居民已自行修好")
    codes = race(app, gate, [sign, withdraw])
    assert sorted(codes) == [302, 409], codes  # a volunteer who lost hears so, even though the ticket left them
    db.session.expire_all()
    fresh = db.session.scalar(select(Ticket))
    task = db.session.scalar(select(Assignment))
    if codes[0] == 302:  # the volunteer won: signed, still theirs
        assert fresh.status.value == "signed" and task.signed_at is not None and task.ended_at is None
    else:  # the director won: the task ended unsigned
        assert fresh.status.value == "accepted" and task.outcome == "withdrawn" and task.signed_at is None
    assert _count(TicketEvent, TicketEvent.kind.in_(("sign", "withdraw"))) == 1
