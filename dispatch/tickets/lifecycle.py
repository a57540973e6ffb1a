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

    @property
    def resident_label(self):
        """What the resident is told of the state, in plain words (RESIDENT_STATUS_LABELS)."""
        return RESIDENT_STATUS_LABELS[self]


STATUS_LABELS = {
    Status.NEW: "待受理", Status.ACCEPTED: "已受理", Status.DISPATCHED: "已派单", Status.SIGNED: "已签收",
    Status.IN_PROGRESS: "办理中", Status.WAITING_RESIDENT: "待居民补充", Status.RETURNED: "已退单",
    Status.EXTENSION_REQUESTED: "延期申请中", Status.RESOLVED: "已办结", Status.CLOSED: "已关闭",
    Status.INVALID: "无效", Status.MERGED: "已合并", Status.REOPENED: "重办",
}
# The same states as residents are told them (H5 pages, WeChat replies, their notifications): plain words, no
# office terms (受理, 派单, 签收, 重办), and at most 5 characters so a template's `phrase` field takes them whole.
RESIDENT_STATUS_LABELS = {
    Status.NEW: "已收到", Status.ACCEPTED: "正在安排", Status.DISPATCHED: "已安排人员", Status.SIGNED: "人员已接手",
    Status.IN_PROGRESS: "正在办理", Status.WAITING_RESIDENT: "请您补充", Status.RETURNED: "重新安排中",
    Status.EXTENSION_REQUESTED: "正在办理", Status.RESOLVED: "已办好", Status.CLOSED: "已完成",
    Status.INVALID: "未能办理", Status.MERGED: "合并办理", Status.REOPENED: "重新办理中",
}

# States in which a ticket still needs someone's work: the SLA clocks and "overdue" apply here.
OPEN_STATUSES = frozenset(set(Status) - {Status.RESOLVED, Status.CLOSED, Status.INVALID, Status.MERGED})
TERMINAL_STATUSES = frozenset({Status.CLOSED, Status.INVALID, Status.MERGED})

# The previous state: resume and the extension decisions go back to where the ticket was.
PREVIOUS = object()

MANAGERS = frozenset({Role.DISTRICT_ADMIN, Role.STREET_SUPERVISOR, Role.COMMUNITY_DIRECTOR, Role.COMMUNITY_STAFF})
HANDLERS = MANAGERS | {Role.VOLUNTEER, Role.DEPARTMENT_USER}
SUPERVISORS = frozenset({Role.DISTRICT_ADMIN, Role.STREET_SUPERVISOR})


# Who may take an action besides its roles: anyone with the role, only whoever holds the ticket's open task
# (the community's managers when no task is open), or managers plus volunteers and departments while they hold it.
ANYONE, HOLDER, HANDS_ON = "anyone", "holder", "hands_on"
ALL_STATES = frozenset(Status)


@dataclass(frozen=True)
class Action:
    """Something people or jobs do to a ticket: the states it starts from, where it leads, who may take it."""

    name: str
    label: str
    sources: frozenset
    target: object               # a Status, PREVIOUS, or None when the state does not change
    roles: frozenset
    needs_note: bool = False
    answers: bool = False        # the community has answered the resident: the response clock stops
    holder: str = ANYONE         # ANYONE, HOLDER or HANDS_ON (see above)
    event: str | None = None     # the timeline entry's kind, when it is not the action's name
    measure: str | None = None   # what the monitor counts its entries as (resolution, rating, returns, …)
    resident: bool = False       # the resident's own (their H5 page takes it): staff's buttons do not offer it
    job: bool = False            # the scheduler's jobs take it (take-back, the duty chain): no person is offered it

    @property
    def kind(self):
        """The kind of the timeline entry the action writes."""
        return self.event or self.name

    @property
    def changes_state(self):
        """Whether the action moves the ticket to another state (a transition), not only adds to its timeline."""
        return self.target is not None


def _action(name, label, sources, target, roles, needs_note=False, answers=False, holder=ANYONE, event=None,
            measure=None, resident=False, job=False):
    return Action(name, label, frozenset(sources), target, frozenset(roles), needs_note, answers, holder, event,
                  measure, resident, job)


S = Status
ACTIONS = {a.name: a for a in (
    _action("accept", "受理", [S.NEW], S.ACCEPTED, MANAGERS, answers=True),
    _action("dispatch", "派单", [S.ACCEPTED, S.RETURNED, S.REOPENED], S.DISPATCHED, MANAGERS),
    _action("sign", "签收", [S.DISPATCHED], S.SIGNED, HANDLERS, holder=HOLDER),
    _action("withdraw", "撤回派单", [S.DISPATCHED, S.SIGNED, S.IN_PROGRESS], S.ACCEPTED, MANAGERS, needs_note=True),
    # A task nobody signed for in time: the scheduler takes it back to the director's queue.
    _action("take_back", "超时收回", [S.DISPATCHED], S.RETURNED, {Role.DISTRICT_ADMIN}, job=True),
    # Outside office hours an urgent ticket goes to the person on call, and up the chain while nobody signs.
    _action("duty_dispatch", "交值班人员", [S.ACCEPTED, S.RETURNED, S.REOPENED], S.DISPATCHED, {Role.DISTRICT_ADMIN},
            job=True),
    _action("duty_escalate", "值班升级", [S.DISPATCHED], S.DISPATCHED, {Role.DISTRICT_ADMIN}, job=True),
    _action("return", "退单", [S.DISPATCHED, S.SIGNED], S.RETURNED, HANDLERS, needs_note=True, holder=HOLDER,
            measure="returns"),
    _action("start", "开始办理", [S.SIGNED], S.IN_PROGRESS, HANDLERS, holder=HOLDER),
    _action("wait_for_resident", "待居民补充", [S.ACCEPTED, S.SIGNED, S.IN_PROGRESS], S.WAITING_RESIDENT,
            HANDLERS, needs_note=True, holder=HOLDER),
    _action("resume", "恢复办理", [S.WAITING_RESIDENT], PREVIOUS, HANDLERS, holder=HOLDER),
    # The resident's answer to the question (their words, or a note that photos came): whoever holds the ticket.
    _action("answer", "居民补充情况", [S.WAITING_RESIDENT], PREVIOUS, MANAGERS, needs_note=True),
    _action("request_extension", "申请延期", [S.SIGNED, S.IN_PROGRESS], S.EXTENSION_REQUESTED, HANDLERS,
            needs_note=True, holder=HOLDER, measure="extensions"),
    _action("approve_extension", "批准延期", [S.EXTENSION_REQUESTED], PREVIOUS, SUPERVISORS),
    _action("refuse_extension", "驳回延期", [S.EXTENSION_REQUESTED], PREVIOUS, SUPERVISORS, needs_note=True),
    _action("resolve", "办结", [S.ACCEPTED, S.SIGNED, S.IN_PROGRESS, S.REOPENED], S.RESOLVED, HANDLERS,
            needs_note=True, answers=True, holder=HOLDER, measure="resolution"),
    # The director closes a task a volunteer or department still holds, on their behalf, with the reason.
    _action("resolve_for_holder", "代为办结", [S.DISPATCHED, S.SIGNED, S.IN_PROGRESS], S.RESOLVED,
            {Role.COMMUNITY_DIRECTOR}, needs_note=True, answers=True, measure="resolution"),
    _action("close", "关闭", [S.RESOLVED], S.CLOSED, MANAGERS),
    _action("reopen", "重办", [S.RESOLVED, S.CLOSED], S.REOPENED, MANAGERS, needs_note=True, measure="reopenings"),
    _action("invalidate", "作废", [S.NEW, S.ACCEPTED, S.RETURNED, S.REOPENED], S.INVALID, MANAGERS,
            needs_note=True, answers=True),
    _action("merge", "合并重复", [S.NEW, S.ACCEPTED, S.RETURNED], S.MERGED, MANAGERS, answers=True),
    # Actions that add to the timeline without moving the ticket.
    _action("comment", "备注", ALL_STATES, None, HANDLERS, needs_note=True, holder=HANDS_ON),
    _action("photo", "添加照片", ALL_STATES, None, HANDLERS, holder=HANDS_ON, event="photo_added"),
    _action("classify", "分类", ALL_STATES, None, MANAGERS, event="classified"),
    _action("describe", "补充诉求", ALL_STATES, None, MANAGERS, event="described"),
    _action("locate", "标注位置", ALL_STATES, None, MANAGERS, event="located"),
    _action("urge", "催办", ALL_STATES, None, SUPERVISORS, needs_note=True),
    _action("supervise", "督办", ALL_STATES, None, SUPERVISORS, needs_note=True),
    _action("rate", "评价", [S.RESOLVED, S.CLOSED], None, MANAGERS, event="rated", measure="rating"),
    _action("callback", "回访", [S.RESOLVED, S.CLOSED], None, MANAGERS),
    _action("photo_received", "居民补充照片", ALL_STATES, None, MANAGERS),
    _action("voice_received", "居民语音留言", ALL_STATES, None, MANAGERS),
    _action("voice_saved", "语音已保存", ALL_STATES, None, MANAGERS),
    _action("media_refused", "图片或语音未能保存", ALL_STATES, None, MANAGERS),
    # The resident's own, from their H5 ticket page (the resident principal acts with the district's role).
    _action("nudge", "居民催一催", OPEN_STATUSES - {S.WAITING_RESIDENT}, None, {Role.DISTRICT_ADMIN}, resident=True),
    _action("withdraw_by_resident", "居民撤回", [S.NEW, S.ACCEPTED], S.INVALID, {Role.DISTRICT_ADMIN},
            resident=True),
    # The resident said a photo, voice or location that joined this ticket is about another problem.
    # A family member (代办人) reported this ticket for the resident from their own WeChat.
    _action("reported_by_family", "家人代报", ALL_STATES, None, MANAGERS, needs_note=True),
    _action("split_off", "居民说明为另一问题", ALL_STATES, None, MANAGERS, needs_note=True),
)}
TRANSITIONS = {name: a for name, a in ACTIONS.items() if a.changes_state}
# The state changes staff take (their buttons, the API's /transitions): not the resident's own.
STAFF_TRANSITIONS = {name: a for name, a in TRANSITIONS.items() if not a.resident and not a.job}
CHASES = ("urge", "supervise")  # a street's two ways of pressing a late ticket's holder

# The timeline kinds that answer the resident (the first one stops the response clock and is the 响应).
ANSWERING = frozenset(a.kind for a in ACTIONS.values() if a.answers)


def kinds_counted_as(measure):
    """The timeline kinds the monitor counts as this measure (resolution, rating, returns, extensions, reopenings)."""
    return frozenset(a.kind for a in ACTIONS.values() if a.measure == measure)


RESOLVING, RATING = kinds_counted_as("resolution"), kinds_counted_as("rating")
COUNTED = ("returns", "extensions", "reopenings")  # a fact's counts of these entries


@dataclass(frozen=True)
class Holder:
    """Who holds a ticket's open task: a volunteer, a department, or nobody (the community itself)."""

    user_id: int | None = None
    department_id: int | None = None
    name: str = ""

    @property
    def is_community(self):
        """No task is open: the community's managers handle the ticket themselves."""
        return self.user_id is None and self.department_id is None


COMMUNITY = Holder()


class IllegalTransition(Exception):
    """An action that the ticket's current state does not allow."""

    def __init__(self, status, action_name):
        self.status = status
        self.action_name = action_name
        allowed = "、".join(a.label for a in allowed_actions(status)) or "无"
        label = ACTIONS[action_name].label if action_name in ACTIONS else action_name
        super().__init__(f"工单当前状态为「{status.label}」，不能执行「{label}」。当前可执行的操作：{allowed}")


class ActionNotPermitted(Exception):
    """An action that the caller's role may not take."""


class NotHolder(ActionNotPermitted):
    """A holder's action taken by someone who does not hold the ticket's open task (or no longer does)."""


def allowed_actions(status, role=None):
    """The state changes possible from a state, optionally only those a role may take."""
    return [a for a in TRANSITIONS.values()
            if status in a.sources and not a.resident and not a.job and (role is None or role in a.roles)]


def next_status(status, action_name, previous=None):
    """The state an action leads to (None when it does not change it); PREVIOUS goes back before the pause."""
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


def holds(principal, holder):
    """Whether the caller holds the open task: its volunteer, a user of its department, or a manager when none."""
    if holder.is_community:
        return principal.role in MANAGERS
    if holder.user_id is not None:
        return principal.user_id == holder.user_id
    return principal.role is Role.DEPARTMENT_USER and principal.department_id == holder.department_id


def may_hold(action_name, principal, holder):
    """Whether the caller may take this action as far as holding the ticket goes."""
    action = ACTIONS[action_name]
    if action.holder == ANYONE or holds(principal, holder):
        return True
    return action.holder == HANDS_ON and principal.role in MANAGERS


def check_holder(action_name, principal, holder):
    """Raise NotHolder when the action is the holder's and the caller does not hold the ticket's task."""
    if may_hold(action_name, principal, holder):
        return
    action = ACTIONS[action_name]
    who = "社区" if holder.is_community else holder.name
    raise NotHolder(f"这张工单现由{who}承办，只有承办人可以{action.label}")


def check_note(action_name, note):
    """The note an action requires, stripped; raises MissingNote when it is blank."""
    action = ACTIONS[action_name]
    if action.needs_note and not (note or "").strip():
        raise MissingNote(f"「{action.label}」需要填写原因或说明")
    return note


class MissingNote(ValueError):
    """An action that needs a note or reason was taken without one."""


def decide(action_name, status, principal, holder, previous=None):
    """The one check of an action: known, from this state, by this role, by the holder where it must be.

    Returns the state it leads to (None when the state does not change)."""
    target = next_status(status, action_name, previous)
    check_role(action_name, principal.role)
    check_holder(action_name, principal, holder)
    return target
