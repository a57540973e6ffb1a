"""Template fields under WeChat's rules: each key's type is its prefix, each value cut to fit, never refused.

Since 2023-05-04 templates have no first/remark; `thing` ≤ 20 characters, `character_string` ≤ 32 ASCII,
`phrase` ≤ 5 Chinese characters (too long → 47003). Values are cut here so that a long note never costs a send.
"""
import re

from sqlalchemy import select

from dispatch.extensions import db
from dispatch.notify.models import NotifyTemplate
from dispatch.notify.rules import EVENT_LABELS

# What a field may carry: the keys of News.facts, with their Chinese names for the mapping page.
SOURCES = {"number": "工单号", "category": "诉求类别", "status": "当前状态", "note": "说明", "holder": "承办人",
           "community": "社区", "time": "时间", "due": "办结时限", "description": "诉求内容", "address": "地址",
           "event": "事件"}
TYPES = ("thing", "character_string", "phrase", "time", "date", "number", "letter", "name", "phone_number",
         "amount", "const")
LIMITS = {"thing": 20, "character_string": 32, "phrase": 5, "number": 32, "letter": 32, "name": 10,
          "phone_number": 17, "amount": 32, "const": 20, "time": 32, "date": 32}
PAGES = {"ticket": "居民工单页", "rate": "居民评价页", "desk": "志愿者任务页", "console": "工作台工单页"}
ASCII = re.compile(r"[^\x21-\x7e]")
CHINESE = re.compile(r"[^\u4e00-\u9fff]")


def field_type(key):
    """'thing12' → 'thing'; None for a key no template may carry (first, remark, or unknown)."""
    name = key.rstrip("0123456789")
    return name if name in TYPES and name != key else None


def fit(kind, text):
    """The value cut to the field's rules: an ellipsis where words were cut (ASCII '...' in ASCII fields)."""
    text = " ".join(str(text or "").split()) or "-"
    limit = LIMITS.get(kind, 20)
    if kind in ("character_string", "letter", "number", "amount"):
        text = ASCII.sub("", text) or "-"
        return text if len(text) <= limit else text[:limit - 3] + "..."
    if kind == "phrase":  # Chinese characters only: no room for an ellipsis that is not one
        return (CHINESE.sub("", text) or "处理中")[:limit]
    return text if len(text) <= limit else text[:limit - 1] + "…"


def render(fields, facts):
    """{key: {"value": ...}} for the template's [[key, source], ...], every value fitted to its type."""
    data = {}
    for key, source in fields:
        kind = field_type(key)
        if kind is not None:
            data[key] = {"value": fit(kind, facts.get(source, ""))}
    return data


def check_fields(rows):
    """Errors for a mapping's fields as the admin typed them: {row index: message}."""
    errors, seen = {}, set()
    for index, (key, source) in enumerate(rows):
        if field_type(key) is None:
            errors[index] = f"字段名「{key}」应为类型加序号，如 thing1、character_string2（不再支持 first/remark）"
        elif source not in SOURCES:
            errors[index] = f"请选择字段内容（{'、'.join(SOURCES.values())}）"
        elif key in seen:
            errors[index] = f"字段名「{key}」重复"
        seen.add(key)
    return errors


def _default(event):
    """The fields most events use: number, category, status, time; residents' notes where they say something."""
    fields = [["character_string1", "number"], ["thing2", "category"], ["phrase3", "status"], ["time4", "time"]]
    if event in ("need_info", "resolved", "delayed", "reopened", "urged", "department_return", "task_taken_back",
                 "extension_requested", "withdrawn", "answered", "taken_back_director"):
        fields.append(["thing5", "note"])
    if event in ("new_task", "new_ticket", "breach", "escalated", "duty_alert", "duty_sms"):
        fields.append(["thing5", "address"])
    return fields


def default_mappings():
    """One row per event for every account: a placeholder template id the admin replaces with the real one."""
    pages = {"resolved": "rate", "new_task": "desk", "task_taken_back": "desk", "nudged": "desk"}
    staff = ("new_ticket", "breach", "department_return", "escalated", "extension_requested", "nudged_director",
             "withdrawn", "duty_alert", "duty_sms", "taken_back_director")
    channels = {"duty_sms": "sms"}
    return [{"event": event, "account_code": None, "channel": channels.get(event, "wechat_template"),
             "template_id": f"TPL_{event.upper()}", "fields": _default(event),
             "page": "console" if event in staff else pages.get(event, "ticket"), "active": True}
            for event in EVENT_LABELS]


def load_mappings():
    """Every active and inactive mapping, by (event, account code or None)."""
    return {(m.event, m.account_code): m for m in db.session.scalars(select(NotifyTemplate))}


def mapping_for(mappings, event, account_code):
    """The account's own mapping for the event, else the one for every account, else None."""
    return mappings.get((event, account_code)) or mappings.get((event, None))


def text_of(event, facts):
    """A plain-text line for channels without templates (log, SMS)."""
    label = EVENT_LABELS.get(event, event).split("：")[-1]
    note = f"：{facts['note']}" if facts.get("note") else ""
    return f"【{label}】工单 {facts.get('number', '')} {facts.get('category', '')}{note}"


def load_defaults():
    """Add the mapping for every account of any event that has none (an admin's edits stay); how many added."""
    have = {m.event for m in db.session.scalars(select(NotifyTemplate).where(NotifyTemplate.account_code.is_(None)))}
    missing = [NotifyTemplate(**row) for row in default_mappings() if row["event"] not in have]
    db.session.add_all(missing)
    db.session.commit()
    return len(missing)
