"""The ticket lifecycle as data and pure functions (接、派、办、督、评), no Flask, no database."""
import enum
from dataclasses import dataclass

from dispatch.org.roles import Role


class Status(str, enum.Enum):
    """Where a ticket stands."""

    NEW = "new"
    ACCEPTED = "accepted"
    DISPATCHED = "dispatched"
    SIGNED = "signed"
    IN_PROGRESS = "in_progress"
    WAITING_RESIDENT = "waiting_resident"
    RETURNED = "returned"
    EXTENSION_REQUESTED = "extension_requested"
    RESOLVED = "resolved"
    CLOSED = "closed"
    INVALID = "invalid"
    MERGED = "merged"
    REOPENED = "reopened"

    @property
    def label(self):
        """The status's Chinese name."""
        return STATUS_LABELS[self]


STATUS_LABELS = {
    Status.NEW: "待受理", Status.ACCEPTED: "已受理", Status.DISPATCHED: "已派单", Status.SIGNED: "已签收",
    Status.IN_PROGRESS: "办理中", Status.WAITING_RESIDENT: "待居民补充", Status.RETURNED: "已退单",
    Status.EXTENSION_REQUESTED: "延期申请中", Status.RESOLVED: "已办结", Status.CLOSED: "已关闭",
    Status.INVALID: "无效", Status.MERGED: "已合并", Status.REOPENED: "重办",
}

# States in which a ticket still needs someone's work: the SLA clocks and "overdue" apply here.
OPEN_STATUSES = frozenset(set(Status) - {Status.RESOLVED, Status.CLOSED, Status.INVALID, Status.MERGED})
TERMINAL_STATUSES = frozenset({Status.CLOSED, Status.INVALID, Status.MERGED})

# The previous state: resume and the extension decisions go back to where the ticket was.
PREVIOUS = object()

MANAGERS = frozenset({Role.DISTRICT_ADMIN, Role.STREET_SUPERVISOR, Role.COMMUNITY_DIRECTOR, Role.COMMUNITY_STAFF})
HANDLERS = MANAGERS | {Role.VOLUNTEER, Role.DEPARTMENT_USER}
SUPERVISORS = frozenset({Role.DISTRICT_ADMIN, Role.STREET_SUPERVISOR})


@dataclass(frozen=True)
class Action:
    """A lifecycle action: the states it starts from, the state it leads to, who may take it."""

    name: str
    label: str
    sources: frozenset
    target: object
    roles: frozenset
    needs_note: bool = False
    answers: bool = False  # the community has answered the resident: the response clock stops


def _action(name, label, sources, target, roles, needs_note=False, answers=False):
    return Action(name, label, frozenset(sources), target, frozenset(roles), needs_note, answers)


S = Status
ACTIONS = {a.name: a for a in (
    _action("accept", "受理", [S.NEW], S.ACCEPTED, MANAGERS, answers=True),
    _action("dispatch", "派单", [S.ACCEPTED, S.RETURNED, S.REOPENED], S.DISPATCHED, MANAGERS),
    _action("sign", "签收", [S.DISPATCHED], S.SIGNED, HANDLERS),
    _action("withdraw", "撤回派单", [S.DISPATCHED, S.SIGNED], S.ACCEPTED, MANAGERS, needs_note=True),
    # A task nobody signed for in time: the scheduler takes it back to the director's queue.
    _action("take_back", "超时收回", [S.DISPATCHED], S.RETURNED, {Role.DISTRICT_ADMIN}),
    _action("return", "退单", [S.DISPATCHED, S.SIGNED], S.RETURNED, HANDLERS, needs_note=True),
    _action("start", "开始办理", [S.SIGNED], S.IN_PROGRESS, HANDLERS),
    _action("wait_for_resident", "待居民补充", [S.ACCEPTED, S.SIGNED, S.IN_PROGRESS], S.WAITING_RESIDENT,
            HANDLERS, needs_note=True),
    _action("resume", "恢复办理", [S.WAITING_RESIDENT], PREVIOUS, HANDLERS),
    _action("request_extension", "申请延期", [S.SIGNED, S.IN_PROGRESS], S.EXTENSION_REQUESTED, HANDLERS,
            needs_note=True),
    _action("approve_extension", "批准延期", [S.EXTENSION_REQUESTED], PREVIOUS, SUPERVISORS),
    _action("refuse_extension", "驳回延期", [S.EXTENSION_REQUESTED], PREVIOUS, SUPERVISORS, needs_note=True),
    _action("resolve", "办结", [S.ACCEPTED, S.SIGNED, S.IN_PROGRESS, S.REOPENED], S.RESOLVED, HANDLERS,
            needs_note=True, answers=True),
    _action("close", "关闭", [S.RESOLVED], S.CLOSED, MANAGERS),
    _action("reopen", "重办", [S.RESOLVED, S.CLOSED], S.REOPENED, MANAGERS, needs_note=True),
    _action("invalidate", "作废", [S.NEW, S.ACCEPTED, S.RETURNED, S.REOPENED], S.INVALID, MANAGERS,
            needs_note=True, answers=True),
    _action("merge", "合并重复", [S.NEW, S.ACCEPTED, S.RETURNED], S.MERGED, MANAGERS, answers=True),
)}

# The timeline kinds that answer the resident (the first one stops the response clock and is the 响应).
ANSWERING = frozenset(a.name for a in ACTIONS.values() if a.answers)


class IllegalTransition(Exception):
    """An action that the ticket's current state does not allow."""

    def __init__(self, status, action_name):
        self.status = status
        self.action_name = action_name
        allowed = "、".join(f"{a.label}({a.name})" for a in allowed_actions(status)) or "无"
        label = ACTIONS[action_name].label if action_name in ACTIONS else action_name
        super().__init__(f"工单当前状态为「{status.label}」，不能执行「{label}」。当前可执行的操作：{allowed}")


class ActionNotPermitted(Exception):
    """An action that the caller's role may not take."""


def allowed_actions(status, role=None):
    """The actions possible from a state, optionally only those a role may take."""
    return [a for a in ACTIONS.values() if status in a.sources and (role is None or role in a.roles)]


def next_status(status, action_name, previous=None):
    """The state an action leads to; PREVIOUS targets go back to the state before the pause."""
    action = ACTIONS.get(action_name)
    if action is None or status not in action.sources:
        raise IllegalTransition(status, action_name)
    if action.target is PREVIOUS:
        return previous or Status.ACCEPTED
    return action.target


def check_role(action_name, role):
    """Raise ActionNotPermitted when a role may not take an action."""
    action = ACTIONS[action_name]
    if role not in action.roles:
        raise ActionNotPermitted(f"{role.label}不能执行「{action.label}」")
