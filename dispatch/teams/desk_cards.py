"""What a desk card says about urgency and time, and the department desk's orders and filters.

Pure: tasks and tickets are read as plain objects and `now` is given, so it is tested without an app.
The time is plain clock time to the deadline the card prints (办结时限), so "还剩 5 小时" is what a watch says."""
from dataclasses import dataclass
from datetime import datetime, timezone

from dispatch.localtime import as_utc
from dispatch.sla.display import amount_text

RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}  # Priority values, most urgent first
NEVER = datetime.max.replace(tzinfo=timezone.utc)  # a ticket without a deadline sorts after every dated one
SORTS = {"urgent": "最紧急", "due": "最早到期", "newest": "最新"}
FILTERS = {"all": "全部", "pending": "待签收", "working": "办理中", "late": "已超时"}


@dataclass(frozen=True)
class Deadline:
    """The time left (还剩 5 小时), the lateness (已超时 6 天) or a paused clock, in words, and whether late."""

    words: str
    late: bool


def deadline(ticket, now):
    """How the ticket's resolution deadline stands now, or None when it has none."""
    due = as_utc(ticket.resolution_due_at)
    if due is None:
        return None
    if ticket.sla_paused_at is not None:
        return Deadline("计时已暂停", False)
    minutes = (due - now).total_seconds() / 60
    text = amount_text(minutes, working=False)
    return Deadline(f"已超时 {text}", True) if minutes < 0 else Deadline(f"还剩 {text}", False)


def _due(task):
    return as_utc(task.ticket.resolution_due_at) or NEVER


def _rank(task):
    return RANK.get(task.ticket.priority.value, len(RANK))


def _paused(task):
    return task.ticket.sla_paused_at is not None  # waiting for the resident: nothing to do until they answer


def ordered(tasks, sort):
    """Tasks in the chosen order: most urgent (紧急, 较急, 一般, 不急, each the least time left first), earliest due,
    or newest; a ticket waiting for the resident comes after those someone can work on now."""
    if sort == "newest":
        return sorted(tasks, key=lambda t: (as_utc(t.dispatched_at), t.id), reverse=True)
    if sort == "due":
        return sorted(tasks, key=lambda t: (_paused(t), _due(t), _rank(t), t.id))
    return sorted(tasks, key=lambda t: (_paused(t), _rank(t), _due(t), t.id))


def shown(task, show, now):
    """Whether a task passes the filter: 待签收 (not signed for), 办理中 (signed for), 已超时, or 全部."""
    if show == "pending":
        return task.signed_at is None
    if show == "working":
        return task.signed_at is not None
    if show == "late":
        late = deadline(task.ticket, now)
        return late is not None and late.late
    return True


def choose(value, options, default):
    """A sort or filter name from the query string, the default when absent or unknown."""
    return value if value in options else default
