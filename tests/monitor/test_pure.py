"""The facts and figures as pure functions: no app, no database."""
from datetime import date, datetime, timedelta, timezone

import pytest

from dispatch.monitor.facts import Entry, TicketRow, counts_of, fact_of, percentile, rates
from dispatch.sla.calendar import WorkingCalendar

pytestmark = pytest.mark.pure

CREATED = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)  # Friday 10:00 in Shanghai
WEEKDAYS = WorkingCalendar(is_workday=lambda day: day.weekday() < 5)


def ticket(status="closed", response_due=CREATED + timedelta(hours=2), resolution_due=CREATED + timedelta(days=3)):
    return TicketRow(id=1, community_id=1, street_id=1, category_id=None, handler_user_id=None,
                     department_id=None, channel="phone", status=status, created_at=CREATED,
                     response_due_at=response_due, resolution_due_at=resolution_due)


def at(**delta):
    return CREATED + timedelta(**delta)


def test_a_ticket_answered_and_resolved_in_time_and_rated_satisfied():
    entries = [Entry(1, "created", CREATED), Entry(2, "accept", at(minutes=30)), Entry(3, "resolve", at(hours=1)),
               Entry(4, "rated", at(hours=4), "satisfied"), Entry(5, "close", at(hours=4))]
    fact = fact_of(ticket(), entries, WEEKDAYS)
    assert fact["responded_on_time"] and fact["resolved_on_time"] and fact["rating"] == "satisfied"
    assert fact["response_hours"] == 0.5 and fact["resolution_hours"] == 1
    assert fact["created_day"] == date(2026, 11, 20) and fact["last_event_id"] == 5
    assert counts_of(fact) == {"created": 1, "valid": 1, "responded": 1, "responded_on_time": 1, "resolved": 1,
                               "resolved_on_time": 1, "rated": 1, "satisfied": 1, "reopened": 0, "returned": 0,
                               "extended": 0}


def test_working_hours_skip_the_weekend_and_the_latest_resolution_and_rating_count():
    # Accepted on Monday 10:00: the weekend in between adds no working time.
    entries = [Entry(1, "created", CREATED), Entry(2, "accept", at(days=3)), Entry(3, "resolve", at(days=3, hours=1)),
               Entry(4, "rated", at(days=3, hours=2), "unsatisfied"), Entry(5, "reopen", at(days=3, hours=2)),
               Entry(6, "return", at(days=3, hours=3)), Entry(7, "resolve", at(days=4)),
               Entry(8, "rated", at(days=4, hours=1), "basically_satisfied")]
    fact = fact_of(ticket(status="resolved"), entries, WEEKDAYS)
    day = WEEKDAYS.day_minutes / 60
    assert fact["response_hours"] == pytest.approx(day)  # Friday 10:00 → Monday 10:00 is one working day
    assert fact["resolution_hours"] == pytest.approx(2 * day)  # the latest resolution, Tuesday 10:00
    assert not fact["responded_on_time"] and not fact["resolved_on_time"]
    assert fact["rating"] == "basically_satisfied" and fact["reopenings"] == 1 and fact["returns"] == 1


def test_a_reopened_ticket_is_not_resolved_and_an_invalid_one_counts_nowhere():
    reopened = fact_of(ticket(status="reopened"), [Entry(1, "resolve", at(hours=1)), Entry(2, "reopen", at(hours=2))],
                       WEEKDAYS)
    assert not reopened["resolved"] and reopened["resolution_hours"] is None
    invalid = counts_of(fact_of(ticket(status="invalid"), [Entry(1, "invalidate", at(minutes=5))], WEEKDAYS))
    assert invalid["created"] == 1 and sum(invalid.values()) == 1


def test_no_response_deadline_means_any_response_is_on_time():
    fact = fact_of(ticket(response_due=None), [Entry(1, "accept", at(days=9))], WEEKDAYS)
    assert fact["responded_on_time"]


def test_rates_and_percentiles():
    assert rates({"valid": 3, "responded_on_time": 2, "resolved": 3, "rated": 0})["response_rate"] == 66.7
    assert rates({"valid": 0})["resolution_rate"] is None
    assert rates({"rated": 4, "satisfied": 3})["satisfaction_rate"] == 75.0
    assert percentile([4, 1, None, 3, 2], 0.5) == 2.5  # as PostgreSQL's percentile_cont
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9) == pytest.approx(9.1)
    assert percentile([], 0.5) is None and percentile([None], 0.9) is None
