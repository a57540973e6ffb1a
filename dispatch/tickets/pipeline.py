"""Every change to a ticket is a command through here: one check, the consequences table, one transaction.

A door (console, desk, API, Open311, WeChat, H5, scheduler job, CLI) hands `execute` one or more Commands;
`lifecycle.decide` checks each (state, role, holder, note; the version before anything is written); the steps
of `consequences.TABLE` run in phase order; the pipeline commits. `open_ticket` does the same for a new
ticket: the store's one insert, then the `created` consequences. A door that keeps rows of its own with the
change (the raw WeChat message, an Open311 submission) wraps its work in `unit()`, and the pipeline commits
once at its end.
"""
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from sqlalchemy import select

from dispatch.errors import Conflict, Invalid
from dispatch.extensions import db
from dispatch.tickets import consequences, store, tasks
from dispatch.tickets.lifecycle import (ACTIONS, ANYONE, COMMUNITY, HANDS_ON, MANAGERS, PREVIOUS, MissingNote,
                                        check_note, decide)
from dispatch.tickets.models import TicketEvent
from dispatch.tickets.timeline import record
from dispatch.timeutil import now as clock_now

_in_unit = ContextVar("ticket_unit", default=False)


@contextmanager
def unit():
    """One transaction for a door's own writes and the ticket changes it hands over: committed here, or rolled back."""
    if _in_unit.get():  # already inside a door's unit: that one commits
        yield
        return
    token = _in_unit.set(True)
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        _in_unit.reset(token)


def _finish():
    """Commit a change, unless a door's unit() will commit it with its own rows."""
    if _in_unit.get():
        db.session.flush()
    else:
        db.session.commit()


@dataclass(frozen=True)
class Command:
    """What a door asks: who, which ticket, which action, its fields, and the version they saw."""

    principal: object
    ticket: object
    action: str
    note: str | None = None
    version: int | None = None
    fields: dict = field(default_factory=dict)


@dataclass
class Change:
    """A command being carried out: what the steps read and what they return for the timeline."""

    command: Command
    now: object
    before: object = None                  # the state before
    after: object = None                   # the state after (None: unchanged)
    previous_assignee: object = None       # the volunteer who held it before (take-back, withdraw, decline)
    data: dict = field(default_factory=dict)
    event: TicketEvent | None = None
    _task: object = False

    @property
    def ticket(self):
        return self.command.ticket

    @property
    def principal(self):
        return self.command.principal

    @property
    def note(self):
        return self.command.note

    @property
    def fields(self):
        return self.command.fields

    @property
    def task(self):
        """The ticket's open task (an Assignment), read once per change."""
        if self._task is False:
            self._task = tasks.open_task(self.ticket)
        return self._task


def check_version(ticket, version):
    """A client that read an older version must not overwrite a newer one."""
    if version is not None and version != ticket.version:
        raise Conflict(f"工单已被他人更新（您看到的是第 {version} 版，当前为第 {ticket.version} 版），请刷新后重试")


def _previous_status(ticket):
    """The state before the ticket entered its current (paused) state, read from the timeline."""
    query = (select(TicketEvent.from_status)
             .where(TicketEvent.ticket_id == ticket.id, TicketEvent.to_status == ticket.status.value)
             .order_by(TicketEvent.id.desc()).limit(1))
    previous = db.session.scalar(query)
    return type(ticket.status)(previous) if previous else None


def _holder(change, action):
    """Who holds the ticket's open task, read only when the action's check needs it."""
    if action.holder == ANYONE or (action.holder == HANDS_ON and change.principal.role in MANAGERS):
        return COMMUNITY
    return tasks.holder_of(change.task)


def _check(change):
    """The one check: the action, the state, the role, the holder, the note; returns the state it leads to."""
    command = change.command
    action = ACTIONS.get(command.action)
    if action is None:
        raise Invalid(f"未知的操作「{command.action}」", fields={"action": ["未知的操作"]})
    ticket = command.ticket
    goes_back = action.target is PREVIOUS and ticket.status in action.sources
    target = decide(command.action, ticket.status, command.principal, _holder(change, action),
                    previous=_previous_status(ticket) if goes_back else None)
    try:
        check_note(command.action, command.note)
    except MissingNote as exc:
        raise Invalid(str(exc), fields={"note": ["必填"]}) from None
    return action, target


def check(command):
    """Whether a command may be carried out now (raises as execute would), before a door stores anything for it."""
    check_version(command.ticket, command.version)
    _check(Change(command, None))


def _run_phase(change, plan, phase):
    for registered, argument in plan.steps(phase):
        change.data.update(registered.run(change, argument) or {})


def _carry_out(command, now):
    """Check one command and run its consequences in phase order (no commit)."""
    change = Change(command, now, previous_assignee=command.ticket.assignee)
    action, target = _check(change)
    plan = consequences.plan(command.action)
    for phase in consequences.PHASES:
        if phase == "state":
            change.before = command.ticket.status
            if target is not None:
                change.after = command.ticket.status = target
                command.ticket.updated_at = now
        elif phase == "timeline":
            moved = {"from_status": change.before, "to_status": target} if target is not None else {}
            change.event = record(command.ticket, command.principal, action.kind, now, note=command.note,
                                  **moved, **change.data)
        else:
            _run_phase(change, plan, phase)
    return change


def execute(*commands, now=None):
    """Carry out commands as one transaction (each checked, versions before anything changes); the last ticket."""
    now = now or clock_now()
    for command in commands:
        check_version(command.ticket, command.version)
    for command in commands:
        _carry_out(command, now)
    _finish()
    return commands[-1].ticket


def act(principal, ticket, action, note=None, version=None, now=None, **fields):
    """One command, as a call: execute(Command(principal, ticket, action, note, version, fields))."""
    return execute(Command(principal, ticket, action, note, version, fields), now=now)


def _after_opening(ticket, principal, now):
    """The `created` consequences of a ticket the store has just written (its first event is already in)."""
    change = Change(Command(principal, ticket, "created"), now, after=ticket.status)
    change.event = ticket.events[0]
    plan = consequences.plan("created")
    for phase in consequences.PHASES:
        if phase not in ("state", "timeline"):
            _run_phase(change, plan, phase)


def open_ticket(principal, data, now=None, along=None):
    """Open a ticket from any door: worked out, written in one insert, then its `created` consequences.

    With `along` (a door's rows in the same statement) returns (ticket or None, the door's row)."""
    now = now or clock_now()
    opening = store.prepare(principal, data, now)
    ticket_id, number, event_id, door_row = store.insert_ticket(opening, now, along)
    ticket = None
    if ticket_id is not None:
        resident = store.resident_in(door_row) if along else None
        ticket = store.opened(opening, ticket_id, number, event_id, resident)
        _after_opening(ticket, principal, now)
    _finish()
    return (ticket, door_row) if along else ticket
