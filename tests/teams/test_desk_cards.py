"""What a desk card says about time, and the department desk's orders (pure: no app, `now` given)."""
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from dispatch.teams.desk_cards import choose, deadline, ordered, shown, SORTS

pytestmark = pytest.mark.pure
NOW = datetime(2026, 12, 2, 1, 0, tzinfo=timezone.utc)


def ticket(priority="normal", due=None, paused=False):
    return SimpleNamespace(priority=SimpleNamespace(value=priority), resolution_due_at=due,
                           sla_paused_at=NOW if paused else None)


def task(n, signed=False, **kw):
    return SimpleNamespace(id=n, ticket=ticket(**kw), dispatched_at=NOW - timedelta(hours=10 - n),
                           signed_at=NOW if signed else None)


@pytest.mark.parametrize("delta, words, late", [
    (timedelta(days=-6, hours=-3), "已超时 6 天", True),
    (timedelta(hours=5, minutes=59), "还剩 5 小时", False),
    (timedelta(minutes=20), "还剩 20 分钟", False),
    (timedelta(minutes=-1), "已超时 1 分钟", True),
])
def test_deadline_words(delta, words, late):
    found = deadline(ticket(due=NOW + delta), NOW)
    assert (found.words, found.late) == (words, late)


def test_no_deadline_and_a_paused_clock():
    assert deadline(ticket(), NOW) is None
    paused = deadline(ticket(due=NOW - timedelta(days=1), paused=True), NOW)
    assert paused.words == "计时已暂停" and not paused.late


def test_orders_and_filters():
    tasks = [task(1, due=NOW + timedelta(days=3), priority="urgent"), task(2, due=NOW - timedelta(days=2), signed=True),
             task(3, priority="low", due=NOW + timedelta(days=1)), task(4)]
    assert [t.id for t in ordered(tasks, "urgent")] == [1, 2, 4, 3]  # 紧急, 较急, 一般, 不急; each least time left first
    assert [t.id for t in ordered(tasks, "due")] == [2, 3, 1, 4]
    assert [t.id for t in ordered(tasks, "newest")] == [4, 3, 2, 1]
    assert [t.id for t in tasks if shown(t, "late", NOW)] == [2]
    assert [t.id for t in tasks if shown(t, "pending", NOW)] == [1, 3, 4]
    waiting = task(5, due=NOW - timedelta(days=9), priority="urgent", paused=True)
    assert [t.id for t in ordered([waiting, *tasks], "urgent")][-1] == 5  # waiting for the resident: last
    assert choose("bogus", SORTS, "urgent") == "urgent" and choose("due", SORTS, "urgent") == "due"
