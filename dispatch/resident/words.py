"""What residents are told of their ticket, in plain words: its steps one line per thing that happened, who is
coming, and when we promised to get back to them. Staff's words stay in the console (tickets/lifecycle labels)."""
import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from dispatch.extensions import db
from dispatch.intake.replies import response_promise
from dispatch.org.models import Department, User
from dispatch.org.principal import SYSTEM
from dispatch.org.roles import Role
from dispatch.resident.actions import promised_contact
from dispatch.tickets.lifecycle import OPEN_STATUSES, Status
from dispatch.tickets.models import Channel, Priority
from dispatch.tickets.ratings import RATINGS
from dispatch.timeutil import local

TEAM = "365服务队"
# Each timeline entry residents see, as they are told it ({who}: the volunteer or department, see who_is()).
STEPS = {"created": "您反映了问题", "photo_added": "您补充了照片", "photo_received": "您补充了照片",
         "voice_received": "您发来了语音留言", "voice_saved": "您发来了语音留言", "described": "您补充了问题说明",
         "located": "您发送了位置", "media_refused": "您发来的文件没能保存", "accept": "社区已收到，正在安排人员",
         "dispatch": "已安排{who}来办理", "sign": "{who}已接手，会尽快联系您", "start": "{who}开始办理",
         "wait_for_resident": "工作人员想请您补充情况", "resume": "继续办理", "approve_extension": "办理时间延长了",
         "return": "正在重新安排人员", "resolve": "已办好", "resolve_for_holder": "已办好", "rated": "您的评价", "close": "已完成",
         "reopen": "正在重新办理", "invalidate": "这个问题社区没法办理", "merge": "与相同的问题合并办理",
         "nudge": "您催了一下，已告诉工作人员", "withdraw_by_resident": "您撤回了这个问题",
         "answer": "您补充了情况，继续办理", "reported_by_family": "家人代为提交"}
# Entries whose note is said to the resident (staff's question and result, the resident's own words).
NOTES_SHOWN = {"wait_for_resident", "resolve", "resolve_for_holder", "reopen", "invalidate", "withdraw_by_resident", "answer",
               "reported_by_family"}
STAFF_DID = {"photo_added": "工作人员拍了照片", "described": "工作人员补充了问题说明", "located": "工作人员标注了位置"}
# The notes written for an answer that carried no words of the resident's (wechat_service, services.answer).
ANSWER_MEDIA = {"居民发来照片": "photo", "居民发来语音留言，待工作人员收听": "voice"}
PHOTOS_ONLY = re.compile(r"^居民补充了 \d+ 张照片$")  # an H5 answer of photos alone: its line counts them
MEDIA_FAILED = {"photo": ("您发来的图片没能保存", "可能不是照片，请重新拍一张发来。"),
                "voice": ("您发来的语音没能保存", "请再发一次语音，或者直接打字告诉我们。")}


@dataclass
class Line:
    """One line of the resident's timeline."""

    at: datetime
    label: str
    note: str = ""
    kind: str = ""
    resident: bool = False   # the resident did it (their photos of the same moment join it)
    photos: int = 0
    pending: list = field(default_factory=list)  # photo/voice sent from WeChat and still being saved

    @property
    def text(self):
        """The line's words, with the photos it carried."""
        return self.label + (f"（附 {self.photos} 张照片）" if self.photos else "")


def given_name(display_name):
    """'王建国' → '王师傅': the surname and 师傅, never the full name; '' when the name is not Chinese."""
    name = (display_name or "").strip()
    if name.endswith("师傅"):
        return name
    if len(name) == 2 and name[0] in "小老":
        name = name[1:]
    surname = name[:2] if name[:2] in COMPOUND_SURNAMES else name[:1]
    return f"{surname}师傅" if surname and all("\u4e00" <= ch <= "\u9fff" for ch in surname) else ""


COMPOUND_SURNAMES = {"欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "令狐", "慕容", "司徒", "夏侯", "尉迟",
                     "长孙", "宇文", "公孙", "端木", "申屠", "独孤", "南宫", "西门", "轩辕"}


def who_is(user=None, department=None):
    """Who is coming, as the resident is told: '王师傅（365服务队）', the department's name, or ''."""
    if user is not None:
        if user.role is Role.DEPARTMENT_USER and user.department is not None:
            return user.department.name
        name = given_name(user.display_name)
        return f"{name}（{TEAM}）" if name else f"{TEAM}的师傅"
    return department.name if department is not None else ""


def coming(ticket):
    """Who is coming (the volunteer or department the ticket was sent to), as a sentence, or ''."""
    if ticket.status in (Status.NEW, Status.ACCEPTED, Status.RETURNED, Status.INVALID, Status.MERGED):
        return ""
    who = who_is(ticket.assignee, ticket.department)
    if not who:
        return ""
    return f"由{who}办理。" if ticket.status in (Status.RESOLVED, Status.CLOSED) else f"{who}负责办理，会联系您。"


def promise(ticket, now):
    """'我们会在 12月2日 10:00 前联系您。' while nobody has answered yet and the time has not passed (then the page
    offers 催一催), else ''; the time is the one 催一催 waits for (without an SLA: one working day)."""
    if ticket.responded_at is not None or ticket.status not in OPEN_STATUSES:
        return ""
    if ticket.response_due_at is None and ticket.priority is Priority.URGENT:
        return response_promise(ticket, now)  # "在 2 小时内"
    due = promised_contact(ticket)
    if now >= due:
        return ""
    here = local(due)
    return f"我们会在 {here.month}月{here.day}日 {here:%H:%M} 前联系您。"


def _people(events):
    """The users and departments the entries name, in two queries: {username: user}, {user id: user}, {code: d}."""
    names = {e.data.get("assignee") for e in events if e.kind == "dispatch" and e.data} - {None, ""}
    codes = {e.data.get("department") for e in events if e.kind == "dispatch" and e.data} - {None, ""}
    ids = {e.actor_user_id for e in events if e.kind in ("sign", "start") and e.actor_user_id}
    users = db.session.scalars(select(User).where(User.username.in_(names) | User.id.in_(ids))).all() \
        if names or ids else []
    departments = db.session.scalars(select(Department).where(Department.code.in_(codes))).all() if codes else []
    return ({u.username: u for u in users}, {u.id: u for u in users}, {d.code: d for d in departments})


def _who(event, people):
    by_name, by_id, departments = people
    if event.kind == "dispatch":
        data = event.data or {}
        return who_is(by_name.get(data.get("assignee")), departments.get(data.get("department")))
    return who_is(by_id.get(event.actor_user_id))


def _media_of(event):
    """'photo' or 'voice' for a refused file."""
    data = event.data or {}
    return data.get("media") or ("voice" if "语音" in (event.note or "") else "photo")


def timeline(ticket, events):
    """The resident's lines for these entries (oldest first): a photo or voice sent once shows once (the WeChat
    fetch that saved it joins the line of the moment it was sent, a failed one turns that line into a kind
    word); photos sent with a report or answer join its line; a rating's closing joins the rating."""
    lines, people = [], _people(events)
    for e in events:
        if e.kind not in STEPS:
            continue
        last = lines[-1] if lines else None
        by_system = e.actor_user_id is None and e.actor_label == SYSTEM.label
        by_resident = e.actor_user_id is None and not by_system
        same_moment = last is not None and last.at == e.at
        if e.kind in ("photo_added", "voice_saved") and by_system:
            _settle(lines, "photo" if e.kind == "photo_added" else "voice")
            continue
        if e.kind == "media_refused":
            _fail(lines, e, _media_of(e))
            continue
        if e.kind == "photo_added" and same_moment and last.resident == by_resident and last.kind != "rated":
            last.photos += 1
            continue
        if e.kind == "voice_received" and same_moment and last.kind in ("created", "answer"):
            last.pending.append("voice")
            last.label = "您用语音反映了问题" if last.kind == "created" else "您发来了语音留言，继续办理"
            last.note = ""
            continue
        if e.kind == "close" and by_resident and same_moment and last.kind == "rated":
            continue
        lines.append(_line(ticket, e, by_resident, people))
    return lines


def _line(ticket, e, by_resident, people):
    line = Line(e.at, STEPS[e.kind], kind=e.kind, resident=by_resident)
    if e.kind in NOTES_SHOWN and e.note and not (e.kind == "reopen" and by_resident) and not PHOTOS_ONLY.match(e.note):
        line.note = e.note
    if e.kind in STAFF_DID and not by_resident:
        line.label = STAFF_DID[e.kind]
    elif e.kind == "photo_added":
        line.label, line.photos = "您补充了照片", 1
    elif "{who}" in line.label:
        who = _who(e, people)
        line.label = line.label.format(who=who) if who else {"dispatch": "已安排人员来办理",
                                                             "sign": "工作人员已接手，会尽快联系您",
                                                             "start": "工作人员开始办理"}[e.kind]
    elif e.kind == "created" and ticket.channel is Channel.WECHAT_PHOTO:
        line.label, line.pending = "您发来照片反映了问题", ["photo"]
    elif e.kind == "photo_received":
        line.pending = ["photo"]
    elif e.kind == "voice_received":
        line.pending = ["voice"]
    elif e.kind == "answer" and e.note in ANSWER_MEDIA:
        media = ANSWER_MEDIA[e.note]
        line.label = "您发来了照片，继续办理" if media == "photo" else "您发来了语音留言，继续办理"
        line.note, line.pending = "", [media]
    elif e.kind == "approve_extension" and (e.data or {}).get("extension_days"):
        line.label = f"办理时间延长了 {e.data['extension_days']} 天"
    elif e.kind == "rated":
        _rating(line, e.data or {})
    return line


def _rating(line, data):
    """'您的评价：满意' (or by phone, or changed) and the comment."""
    label = ("电话回访时您的评价" if data.get("source") == "callback" else
             "您修改了评价" if data.get("changed") else "您的评价")
    line.label = label + (f"：{RATINGS[data['rating']]}" if data.get("rating") in RATINGS else "")
    line.note = data.get("comment") or ""


def _settle(lines, media):
    """A file sent from WeChat was saved: the line of the moment it was sent already says so."""
    for line in lines:
        if media in line.pending:
            line.pending.remove(media)
            return


def _fail(lines, event, media):
    """A file could not be saved: the line that announced it says so kindly, or a line of its own."""
    label, note = MEDIA_FAILED[media]
    for line in lines:
        if media in line.pending:
            line.pending.remove(media)
            if line.kind in ("photo_received", "voice_received"):
                line.label, line.note = label, note
            else:  # the report or answer stands; only the file is missing
                line.note = f"{label}，{note}"
            return
    lines.append(Line(event.at, label, note, kind="media_refused"))
