"""Service-level behaviour that no single door shows: batching."""
import pytest

from dispatch.extensions import db
from dispatch.tickets import services
from dispatch.tickets.models import Ticket


def test_one_transaction_commits_once_or_not_at_all(make_ticket):
    with services.one_transaction():
        make_ticket()
        make_ticket()
    assert db.session.query(Ticket).count() == 2
    with pytest.raises(ZeroDivisionError):
        with services.one_transaction():
            make_ticket()
            1 / 0
    assert db.session.query(Ticket).count() == 2
