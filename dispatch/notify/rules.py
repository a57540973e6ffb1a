"""Who hears what: a timeline event of a ticket → messages to residents, volunteers, directors, supervisors.

Pure: the News of one event in, Message descriptions out; outbox.py finds the people and writes the rows.
"""
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class News:
    """What a ticket's change says, with the ids needed to find who should hear of it."""

    kind: str                       # the timeline event: accept, dispatch, created, sla_breach, ...
    ticket_id: int
    at: datetime
    facts: dict                     # number, category, status, note, holder, community, due, ... (templates.SOURCES)
    resident_ids: tuple = ()        # the reporter and the reporters of tickets merged into this one
    community_id: int | None = None
    street_id: int | None = None
    volunteer_id: int | None = None           # the volunteer holding the ticket after the change
    previous_volunteer_id: int | None = None  # the one holding it before (take-back, withdraw, decline)
    actor_role: str | None = None
    to_user_ids: tuple = ()         # SLA events name the people of their escalation step
    to_role: str | None = None      # ... and their role in the chain: assignee, director, street
    urgent: bool = False            # an urgent ticket: its staff messages ignore nothing, residents' skip quiet hours
    messages: tuple = ()            # what the change sends: names from MESSAGES (the ticket's consequences table)


@dataclass(frozen=True)
class Message:
    """One kind of message to one audience: `who` is residents, volunteer, previous_volunteer, directors,
    supervisors or named (the SLA event's people)."""

    event: str
    audience: str
    who: str
    urgent: bool = False


# Every message event, with its Chinese name (the admin's mapping page and the ticket page use these).
EVENT_LABELS = {
    "accepted": "居民：社区已收到", "dispatched": "居民：已安排人员", "visit_started": "居民：开始上门办理",
    "resolved": "居民：已办好（请评价）", "need_info": "居民：请补充情况", "delayed": "居民：办理时间延长",
    "reopened": "居民：重新办理", "new_task": "志愿者：新任务", "task_taken_back": "志愿者：任务已收回",
    "urged": "承办人：催办/督办", "new_ticket": "主任：社区新工单", "breach": "主任：工单超时",
    "department_return": "主任：部门退单", "escalated": "街道：超时升级", "extension_requested": "街道：延期申请",
    "nudged": "志愿者：居民催一催", "nudged_director": "主任：居民催一催", "withdrawn": "主任：居民撤回诉求",
    "answered": "承办人：居民已补充情况", "duty_alert": "值班：夜间紧急工单", "duty_sms": "值班：夜间紧急工单（短信）",
    "taken_back_director": "主任：任务超时收回",
}
RESIDENT_MESSAGES = ("accepted", "dispatched", "visit_started", "resolved", "need_info", "delayed", "reopened")
AUDIENCE_LABELS = {"resident": "居民", "volunteer": "志愿者", "director": "社区主任", "supervisor": "街道"}


def _to_residents(event):
    return lambda news: Message(event, "resident", "residents")


def _new_task(news):
    return Message("new_task", "volunteer", "volunteer", urgent=news.urgent) if news.volunteer_id else None


def _taken_back(news):
    return Message("task_taken_back", "volunteer", "previous_volunteer") if news.previous_volunteer_id else None


def _urged(news):
    if news.volunteer_id:
        return Message("urged", "volunteer", "volunteer", urgent=True)
    return Message("urged", "director", "directors", urgent=True)


def _answered(news):
    """The resident answered the question: the volunteer holding the ticket hears it, else the directors."""
    if news.volunteer_id:
        return Message("answered", "volunteer", "volunteer")
    return Message("answered", "director", "directors")


def _department_return(news):
    return Message("department_return", "director", "directors") if news.actor_role == "department_user" else None


def _named(event):
    """An SLA point's message, to the people of its escalation step, whose role gives the audience."""
    def message(news):
        audience = {"assignee": "volunteer", "director": "director"}.get(news.to_role, "supervisor")
        return Message(event, audience, "named", urgent=True)
    return message


def _on_call(event):
    """A duty message, to the person on call the alert names; their role gives the audience."""
    def message(news):
        return Message(event, news.to_role or "director", "named", urgent=True) if news.to_user_ids else None
    return message


def _taken_back_director(news):
    """A take-back is never silent: the community's directors hear of it."""
    return Message("taken_back_director", "director", "directors", urgent=news.urgent)


# Each message a change may send, and to whom (None: nobody to tell this time, e.g. no volunteer holds it).
MESSAGES = {
    **{event: _to_residents(event) for event in RESIDENT_MESSAGES},
    "new_task": _new_task, "task_taken_back": _taken_back, "urged": _urged,
    "new_ticket": lambda news: Message("new_ticket", "director", "directors", urgent=news.urgent),
    "department_return": _department_return, "answered": _answered,
    "extension_requested": lambda news: Message("extension_requested", "supervisor", "supervisors"),
    "breach": _named("breach"), "escalated": _named("escalated"),
    "nudged": lambda news: Message("nudged", "volunteer", "volunteer") if news.volunteer_id else None,
    "nudged_director": lambda news: Message("nudged_director", "director", "directors"),
    "withdrawn": lambda news: Message("withdrawn", "director", "directors"),
    "duty_alert": _on_call("duty_alert"), "duty_sms": _on_call("duty_sms"),
    "taken_back_director": _taken_back_director,
}


def any_for_residents(messages):
    """Whether any of these messages goes to the ticket's residents (so their ids must be looked up)."""
    return any(name in RESIDENT_MESSAGES for name in messages)


def messages_for(news):
    """The messages one change calls for (often none)."""
    found = (MESSAGES[name](news) for name in news.messages)
    return [message for message in found if message is not None]
