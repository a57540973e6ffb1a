"""What every action does to a ticket besides its state: one ordered table, and the steps packages register for it.

Adding an action: a row in `lifecycle.ACTIONS` (who may take it, from where, to where) and a row here (its
steps); a step that does not exist yet is a function registered with `@step(name, phase)` in the package
that owns what it changes. Nothing else branches on an action's name. Pure: no Flask, no database.
"""
from dataclasses import dataclass, field

# The order every change runs in. "state" and "timeline" are the pipeline's own: the new state is set,
# then the timeline entry is written with what the steps before it returned.
PHASES = ("ticket", "task", "state", "clock", "timeline", "news")


def news(*messages):
    """The step that tells people: the messages (notify/rules.MESSAGES) this action sends."""
    return ("news", messages)


# Each action's steps; a step is a name, or (name, argument) when the row gives the step something to go on.
TABLE = {
    "created": (news("new_ticket"),),
    "accept": (("stamp", "accepted_at"), "sla.clock", news("accepted")),
    "dispatch": ("dispatch_target", "standing_guard", "task.start", "sla.clock", news("dispatched", "new_task")),
    "sign": ("task.sign", "sla.clock"),
    "withdraw": (("task.end", "withdrawn"), "sla.clock", news("task_taken_back")),
    "take_back": (("task.end", "timed_out"), "sla.clock", news("task_taken_back", "taken_back_director")),
    # An urgent ticket outside office hours, to the person on call (teams/duty.py), then up the chain.
    "duty_dispatch": ("duty.target", "task.start", "sla.clock", news("dispatched"), "duty.alert"),
    "duty_escalate": (("task.end", "timed_out"), "duty.target", "task.start", "sla.clock", "duty.alert"),
    "return": (("task.end", "returned"), "sla.clock", news("department_return")),
    "start": ("sla.clock", news("visit_started")),
    "wait_for_resident": ("asked", "sla.pause", "sla.clock", news("need_info")),
    "resume": ("sla.resume", "sla.clock"),
    "answer": ("touch", "sla.resume", "sla.clock", news("answered")),
    "request_extension": (("extension_days", "asked"), "sla.clock", news("extension_requested")),
    "approve_extension": (("extension_days", "granted"), "sla.extend", "sla.clock", news("delayed")),
    "refuse_extension": ("sla.clock",),
    "resolve": (("stamp", "resolved_at"), ("task.end", "resolved"), "sla.clock", news("resolved")),
    "resolve_for_holder": (("stamp", "resolved_at"), "task.on_behalf", ("task.end", "resolved"), "sla.clock",
                           news("resolved")),
    "close": (("stamp", "closed_at"), "sla.clock"),
    "reopen": ("unresolve", "sla.restart", "sla.clock", news("reopened")),
    "invalidate": (("stamp", "closed_at"), "sla.clock"),
    "merge": ("merge", "sla.clock"),
    "comment": ("touch",),
    "photo": ("photo",),
    "classify": ("classify", "touch"),
    "describe": ("describe", "touch"),
    "locate": ("locate", "touch"),
    "urge": ("overdue_only", "holder_named", "touch", news("urged")),
    "supervise": ("overdue_only", "holder_named", "touch", news("urged")),
    "rate": ("rating",),
    "callback": ("touch", ("keep_fields", ("reached", "rating"))),
    "photo_received": (),
    "voice_received": ("needs_listening",),
    "voice_saved": (),
    "media_refused": (),
    "nudge": ("holder_named", news("nudged", "nudged_director")),
    "withdraw_by_resident": (("stamp", "closed_at"), "sla.clock", news("withdrawn")),
    "split_off": (),
    "reported_by_family": (),
}


@dataclass(frozen=True)
class Step:
    """A registered step: the function that does it and the phase it runs in."""

    run: object
    phase: str


_steps = {}


def step(name, phase):
    """Register the function of a step (a decorator): run(change, argument) -> data for the timeline or None."""
    if phase not in PHASES or phase in ("state", "timeline"):
        raise ValueError(f"unknown phase {phase!r}")

    def register(run):
        _steps[name] = Step(run, phase)
        return run
    return register


def _entry(item):
    return (item, None) if isinstance(item, str) else item


@dataclass(frozen=True)
class Plan:
    """An action's steps grouped by phase, in the table's order within each phase."""

    by_phase: dict = field(default_factory=dict)

    def steps(self, phase):
        """The (Step, argument) pairs of one phase."""
        return self.by_phase.get(phase, ())


_plans = {}


def plan(action_name):
    """The steps of an action, by phase (computed once per action)."""
    if action_name not in _plans:
        grouped = {}
        for name, argument in map(_entry, TABLE[action_name]):
            registered = _steps[name]
            grouped.setdefault(registered.phase, []).append((registered, argument))
        _plans[action_name] = Plan({phase: tuple(items) for phase, items in grouped.items()})
    return _plans[action_name]


def missing_steps():
    """Steps the table names that no package registered (the app refuses to start with any)."""
    return sorted({_entry(item)[0] for row in TABLE.values() for item in row} - set(_steps))


def messages_of(action_name):
    """The messages an action's news step sends (none when it has no news step)."""
    return next((argument for name, argument in map(_entry, TABLE[action_name]) if name == "news"), ())
