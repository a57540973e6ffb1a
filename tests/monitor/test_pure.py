"""The facts and figures as pure functions: no app, no database."""
import ast
import itertools
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from dispatch.monitor.counters import (COUNTERS, DAILY_COUNTS, FORMULAS, LISTED, MEASURES, OPERATORS, RATES, counts_of,
                                       holds, rates)
from dispatch.monitor.facts import Entry, TicketRow, fact_of, percentile
from dispatch.sla.calendar import WorkingCalendar
from dispatch.tickets.rating_scale import RATINGS

pytestmark = pytest.mark.pure

CREATED = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)  # Friday 10:00 in Shanghai
WEEKDAYS = WorkingCalendar(is_workday=lambda day: day.weekday() < 5)


@pytest.fixture(autouse=True)
def clean_db():
    """Pure functions: the suite's app, database and cleanup are not needed."""
    yield


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


# ---- the counters table: one definition, read the same everywhere ----

# What each counter means, as ARCHITECTURE.md states it, written out by hand: the table must say the same.
MEANT = {
    "created": lambda f: True,
    "valid": lambda f: f["valid"],
    "responded": lambda f: f["valid"] and f["responded"],
    "responded_on_time": lambda f: f["valid"] and f["responded_on_time"],
    "resolved": lambda f: f["valid"] and f["resolved"],
    "resolved_on_time": lambda f: f["valid"] and f["resolved_on_time"],
    "rated": lambda f: f["valid"] and f["rating"] is not None,
    "satisfied": lambda f: f["valid"] and f["rating"] in ("satisfied", "basically_satisfied"),
    "reopened": lambda f: f["valid"] and f["reopenings"] > 0,
    "returned": lambda f: f["valid"] and f["returns"] > 0,
    "extended": lambda f: f["valid"] and f["extensions"] > 0,
}
FLAGS = ("valid", "responded", "responded_on_time", "resolved", "resolved_on_time")
TALLIES = ("reopenings", "returns", "extensions")


def every_kind_of_fact():
    """Every combination of the fact fields the counters read (the rest of a fact does not matter to them)."""
    for flags in itertools.product((False, True), repeat=len(FLAGS)):
        for tallies in itertools.product((0, 2), repeat=len(TALLIES)):
            for rating in (None, *RATINGS):
                yield {**dict(zip(FLAGS, flags)), **dict(zip(TALLIES, tallies)), "rating": rating}


def test_counts_of_follows_the_table_and_the_table_says_what_the_formulas_mean():
    assert tuple(MEANT) == DAILY_COUNTS
    for fact in every_kind_of_fact():
        assert counts_of(fact) == {name: int(meant(fact)) for name, meant in MEANT.items()}, fact


def test_each_list_beside_a_counter_is_what_its_rate_leaves_out():
    for fact in every_kind_of_fact():
        counts = {name: int(holds(measure, fact)) for name, measure in MEASURES.items()}
        assert counts["created"] == counts["valid"] + counts["invalid"]
        assert counts["valid"] == counts["responded_on_time"] + counts["not_responded_on_time"]
        assert counts["valid"] == counts["resolved"] + counts["unresolved"]
        assert counts["rated"] == counts["satisfied"] + counts["unsatisfied"]


def test_the_table_reads_real_fact_fields_and_the_formulas_name_its_measures():
    fields = set(fact_of(ticket(), [Entry(1, "created", CREATED)], WEEKDAYS))
    for measure in MEASURES.values():
        for field, operator, _ in measure.conditions:
            assert field in fields and operator in OPERATORS
    assert set(LISTED) == set(MEASURES) - {"responded"} and "invalid" not in COUNTERS
    assert FORMULAS["response_rate"].startswith("响应率 = 按时响应的工单 ÷ 有效工单。响应指第一次受理")
    assert FORMULAS["satisfaction_rate"].startswith("满意率 = 满意或基本满意的工单 ÷ 已评价的有效工单。")
    for name, (top, bottom) in RATES.items():
        assert top in COUNTERS and bottom in COUNTERS and MEASURES[top].words in FORMULAS[name]


# ---- pure by import ----

SOURCE = Path(__file__).resolve().parents[2]
IMPURE = ("flask", "sqlalchemy", "dispatch.extensions")


def imports_of(module):
    """The modules a dispatch module imports, read from its source (anywhere in it, functions too)."""
    tree = ast.parse((SOURCE / f"{module.replace('.', '/')}.py").read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            found.add(node.module)
            # `from dispatch.x import y` may name a module y as well as a name in x.
            found.update(f"{node.module}.{alias.name}" for alias in node.names
                         if (SOURCE / f"{node.module.replace('.', '/')}/{alias.name}.py").exists())
    return found


def reached_from(module, stop_at=()):
    """Every module imported from a dispatch module, following dispatch modules (not those in stop_at)."""
    found, todo = set(), [module]
    while todo:
        for name in imports_of(todo.pop()) - found:
            found.add(name)
            if name.startswith("dispatch.") and name not in stop_at and (SOURCE / f"{name.replace('.', '/')}.py").exists():
                todo.append(name)
    return found


def impure(modules):
    return sorted(m for m in modules if any(m == bad or m.startswith(f"{bad}.") for bad in IMPURE))


def test_the_counters_table_and_the_fact_builder_need_no_flask_and_no_database():
    assert impure(reached_from("dispatch.monitor.counters")) == []
    # dispatch.timeutil's pure parts (SHANGHAI, as_utc) are moving to a pure module; until then it is not followed.
    reached = reached_from("dispatch.monitor.facts", stop_at={"dispatch.timeutil"})
    assert impure(reached) == [] and "dispatch.sla.services" not in reached
