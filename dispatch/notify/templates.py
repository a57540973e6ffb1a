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
    for key, source, *_ in fields:  # a third item, when there, is the field's name in the template
        kind = field_type(key)
        if kind is not None:
            data[key] = {"value": fit(kind, facts.get(source, ""))}
    return data


def check_fields(rows):
    """Errors for a mapping's fields as the admin chose them: {row index: message}."""
    errors, seen = {}, set()
    for index, (key, source, *_) in enumerate(rows):
        if field_type(key) is None:
            errors[index] = "这不是模板里的字段（微信已不再支持“首行/备注”），请重新粘贴模板内容"
        elif source not in SOURCES:
            errors[index] = "请从列表中选择要填入的内容"
        elif key in seen:
            errors[index] = "与前面的字段重复"
        seen.add(key)
    return errors


# ---- what the admin's page shows of a template: names, kinds, a sample message ----

# The name a field usually has in WeChat's template library, for mappings saved without one.
FIELD_NAMES = {"number": "工单编号", "category": "工单类别", "status": "处理进度", "note": "备注说明", "holder": "处理人员",
               "community": "所属社区", "time": "更新时间", "due": "办结时限", "description": "诉求内容",
               "address": "地址", "event": "通知事项"}
KIND_LABELS = {"thing": "文字，最多 20 字", "character_string": "编号，最多 32 个字母或数字", "phrase": "短词，最多 5 个汉字",
               "time": "时间", "date": "日期", "number": "数字", "letter": "字母", "name": "姓名，最多 10 字",
               "phone_number": "电话号码", "amount": "金额", "const": "固定文字"}
# A made-up ticket the preview fills the fields from.
SAMPLE = {"number": "20261102-0007", "category": "楼道及路灯", "status": "处理中", "note": "已联系物业，明天上午更换灯泡",
          "holder": "张建国", "community": "盐城路社区", "time": "2026年11月02日 09:30", "due": "2026年11月04日 17:30",
          "description": "3号楼2单元楼道灯坏了一个多星期，晚上老人上下楼看不见", "address": "盐城路12号3号楼2单元",
          "event": "工单进度更新"}
# Words in a field's name → what the system fills it with (the guess after a template is pasted).
GUESSES = (("编号", "number"), ("单号", "number"), ("类别", "category"), ("类型", "category"), ("进度", "status"),
           ("状态", "status"), ("结果", "status"), ("时限", "due"), ("截止", "due"), ("期限", "due"), ("时间", "time"),
           ("日期", "time"), ("地址", "address"), ("位置", "address"), ("社区", "community"), ("内容", "description"),
           ("诉求", "description"), ("问题", "description"), ("人员", "holder"), ("处理人", "holder"),
           ("承办", "holder"), ("说明", "note"), ("备注", "note"), ("原因", "note"), ("事项", "event"))
PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+\d+)\.DATA\s*\}\}")


def field_name(row):
    """The field's name as the template shows it: the one saved with it, else the usual one for its content."""
    key, source, *rest = row
    return rest[0] if rest and rest[0] else FIELD_NAMES.get(source, key)


def preview(fields, facts=SAMPLE):
    """[(name, value)] as WeChat shows the message: each field's name and its value fitted to its type."""
    data = render(fields, facts)
    return [(field_name(row), data[row[0]]["value"]) for row in fields if row[0] in data]


def guess_source(name, kind=None):
    """What a field called `name` (of a type) most likely carries; else the time for a time, the category otherwise."""
    fallback = "time" if kind in ("time", "date") else "category"
    return next((source for word, source in GUESSES if word in name), fallback)


def read_content(text):
    """A template's content as WeChat's back office shows it ("工单类别：{{thing2.DATA}}" lines) → [[key, source, name]]."""
    rows = []
    for line in (text or "").splitlines():
        found = PLACEHOLDER.search(line)
        if found:
            name = line[:found.start()].strip().rstrip("：:").strip() or FIELD_NAMES["event"]
            rows.append([found.group(1), guess_source(name, field_type(found.group(1))), name[:20]])
    return rows


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
