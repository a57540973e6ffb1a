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


@dataclass(frozen=True)
class Message:
    """One kind of message to one audience: `who` is residents, volunteer, previous_volunteer, directors,
    supervisors or named (the SLA event's people)."""

    event: str
    audience: str
    who: str
    urgent: bool = False


RESIDENT_EVENTS = {"accept": "accepted", "dispatch": "dispatched", "start": "visit_started", "resolve": "resolved",
                   "wait_for_resident": "need_info", "approve_extension": "delayed", "reopen": "reopened"}
CHASES = ("urge", "supervise")
STAFF_EVENTS = frozenset({"dispatch", "take_back", "withdraw", *CHASES, "created", "return", "request_extension",
                          "sla_breach", "sla_escalation"})
# The timeline kinds anyone may hear of: a change of any other kind needs no News at all.
NEWSWORTHY = frozenset(RESIDENT_EVENTS) | STAFF_EVENTS

# Every message event, with its Chinese name (the admin's mapping page and the ticket page use these).
EVENT_LABELS = {
    "accepted": "居民：已受理", "dispatched": "居民：已派单", "visit_started": "居民：开始上门办理",
    "resolved": "居民：已办结（请评价）", "need_info": "居民：请补充情况", "delayed": "居民：办理时间延长",
    "reopened": "居民：重新办理", "new_task": "志愿者：新任务", "task_taken_back": "志愿者：任务已收回",
    "urged": "承办人：催办/督办", "new_ticket": "主任：社区新工单", "breach": "主任：工单超时",
    "department_return": "主任：部门退单", "escalated": "街道：超时升级", "extension_requested": "街道：延期申请",
}
AUDIENCE_LABELS = {"resident": "居民", "volunteer": "志愿者", "director": "社区主任", "supervisor": "街道"}


def messages_for(news):
    """The messages one event calls for (often none)."""
    found = []
    if news.kind in RESIDENT_EVENTS:
        found.append(Message(RESIDENT_EVENTS[news.kind], "resident", "residents"))
    found.extend(_staff_messages(news))
    return found


def _staff_messages(news):
    kind = news.kind
    if kind == "dispatch" and news.volunteer_id:
        yield Message("new_task", "volunteer", "volunteer", urgent=news.urgent)
    if kind in ("take_back", "withdraw") and news.previous_volunteer_id:
        yield Message("task_taken_back", "volunteer", "previous_volunteer")
    if kind in CHASES:
        yield (Message("urged", "volunteer", "volunteer", urgent=True) if news.volunteer_id
               else Message("urged", "director", "directors", urgent=True))
    if kind == "created":
        yield Message("new_ticket", "director", "directors", urgent=news.urgent)
    if kind == "return" and news.actor_role == "department_user":
        yield Message("department_return", "director", "directors")
    if kind == "request_extension":
        yield Message("extension_requested", "supervisor", "supervisors")
    if kind in ("sla_breach", "sla_escalation"):
        audience = {"assignee": "volunteer", "director": "director"}.get(news.to_role, "supervisor")
        yield Message("breach" if kind == "sla_breach" else "escalated", audience, "named", urgent=True)
