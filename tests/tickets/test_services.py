"""Service-level behaviour that no single door shows: batching."""
import pytest

from dispatch.extensions import db
from dispatch.tickets import pipeline
from dispatch.tickets.models import Ticket


def test_one_transaction_commits_once_or_not_at_all(make_ticket):
    with pipeline.unit():
        make_ticket()
        make_ticket()
    assert db.session.query(Ticket).count() == 2
    with pytest.raises(ZeroDivisionError):
        with pipeline.unit():
            make_ticket()
            1 / 0
    assert db.session.query(Ticket).count() == 2


def test_is_overdue_agrees_with_the_overdue_filter(make_ticket, clock, org):
    from datetime import timedelta
    from dispatch.org.principal import Principal
    from dispatch.tickets import queries
    late, early, unanswered, done = (make_ticket() for _ in range(4))
    late.resolution_due_at = clock.at - timedelta(minutes=1)
    early.resolution_due_at = clock.at + timedelta(hours=1)
    unanswered.response_due_at = clock.at - timedelta(minutes=1)
    done.resolution_due_at = clock.at - timedelta(minutes=1)
    pipeline.act(Principal.from_user(org.admin), done, "accept")
    pipeline.act(Principal.from_user(org.admin), done, "resolve", note="已修好")
    db.session.commit()
    listed = queries.list_tickets(Principal.from_user(org.admin), {"overdue": True}, clock.at).items
    assert {t.number for t in listed} == {late.number, unanswered.number}
    assert [queries.is_overdue(t, clock.at) for t in (late, early, unanswered, done)] == [True, False, True, False]
