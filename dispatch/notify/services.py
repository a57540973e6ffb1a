"""What the console shows and changes of notifications: a ticket's messages, failures, the template mapping."""
from sqlalchemy import func, select, update

from dispatch.errors import Invalid, NotFound
from dispatch.extensions import db
from dispatch.notify.channels import REGISTRY
from dispatch.notify.models import Notification, NotifyTemplate, Status
from dispatch.notify.rules import EVENT_LABELS
from dispatch.notify.templates import PAGES, check_fields, read_content

STATUS_LABELS = {Status.PENDING: "等待发送", Status.SENDING: "发送中", Status.SENT: "已送达", Status.FAILED: "发送失败",
                 Status.STOPPED: "对方不再接收", Status.UNREACHABLE: "无法联系"}
SHOWN_FAILURES = 100
# The channels as the admin reads them (the registry's names never reach a page).
# WeChat's refusals an admin can fix, in words (the code stays beside them for a call to WeChat's support).
ERROR_LABELS = {"40037": "模板 ID 不存在，请核对模板 ID", "47003": "字段内容不符合模板要求，请核对每一项填的内容",
                "43116": "这个模板已被微信停用，请换一个模板", "40036": "模板 ID 不对，请核对",
                "41028": "订阅通知需要居民先点同意", "43101": "对方拒收消息", "43004": "对方已取消关注"}
WECHAT_CHANNELS = ("wechat_template", "wechat_subscribe")
CHANNEL_LABELS = {"wechat_template": "微信模板消息", "wechat_subscribe": "订阅通知", "sms": "短信", "log": "只记录"}


def for_ticket(ticket_id):
    """A ticket's notifications, oldest first (the ticket page's '已通知居民 10:42')."""
    return db.session.scalars(select(Notification).where(Notification.ticket_id == ticket_id)
                              .order_by(Notification.id)).all()


def counts():
    """{status: count} over the whole outbox."""
    return dict(db.session.execute(select(Notification.status, func.count()).group_by(Notification.status)).all())


def failures(limit=SHOWN_FAILURES):
    """The latest failed notifications, for the admin to fix the setup and send again."""
    return db.session.scalars(select(Notification).where(Notification.status == Status.FAILED)
                              .order_by(Notification.id.desc()).limit(limit)).all()


def failure_count():
    return db.session.scalar(select(func.count()).where(Notification.status == Status.FAILED))


def retry_failed(now):
    """Put every failed notification back in the queue (after the admin fixed a template); how many."""
    count = db.session.execute(update(Notification).where(Notification.status == Status.FAILED).values(
        status=Status.PENDING, next_attempt_at=now, attempts=0, error=None, error_code=None)).rowcount
    db.session.commit()
    return count


def mappings():
    """Every event's mappings: the one for all accounts first, then per account."""
    rows = db.session.scalars(select(NotifyTemplate)).all()
    order = list(EVENT_LABELS)
    return sorted(rows, key=lambda m: (order.index(m.event) if m.event in order else 99, m.account_code or ""))


def mapping(mapping_id):
    found = db.session.get(NotifyTemplate, mapping_id)
    if found is None:
        raise NotFound("没有这条模板设置")
    return found


def channel_choices():
    """[(name, label)] of the channels this server can send through."""
    known = [(name, label) for name, label in CHANNEL_LABELS.items() if name in REGISTRY]
    return known + [(name, "其他方式") for name in REGISTRY if name not in CHANNEL_LABELS]


def pasted_fields(text):
    """The fields of a template pasted from WeChat's back office, each with a guess of its content; Invalid if none."""
    rows = read_content(text)
    if not rows:
        raise Invalid("没有读到模板字段：请在公众号后台「模板消息 → 我的模板」打开模板，把“详细内容”整段复制过来"
                      "（每行形如“工单类别：{{thing2.DATA}}”）")
    return rows


def form_fields(form):
    """The field rows as the form sends them: [[key, source, name]] in order."""
    keys, sources, names = form.getlist("field_key"), form.getlist("field_source"), form.getlist("field_name")
    return [[key.strip(), source, name.strip()[:20]] for key, source, name in zip(keys, sources, names)]


def _field_errors(rows):
    """The refusals of check_fields, each naming its field as the template does."""
    if not rows:
        return ["至少需要一个字段：请粘贴模板内容"]
    return [f"第 {i + 1} 个字段{'「' + rows[i][2] + '」' if rows[i][2] else ''}：{m}"
            for i, m in check_fields(rows).items()]


def save_mapping(found, form):
    """Save the admin's edit of one mapping, or nothing with the reasons."""
    errors = {}
    template_id = (form.get("template_id") or "").strip()
    if not template_id and form.get("channel") not in WECHAT_CHANNELS:
        template_id = found.template_id  # SMS and the record need none: keep what was there
    if not template_id or len(template_id) > 64:
        errors["template_id"] = ["请填写公众号后台的模板 ID（64 个字符以内）"]
    if form.get("channel") not in REGISTRY:
        errors["channel"] = [f"请从列表中选择：{'、'.join(label for _, label in channel_choices())}"]
    if form.get("page") not in PAGES:
        errors["page"] = [f"请从列表中选择：{'、'.join(PAGES.values())}"]
    fields = form_fields(form)
    if problems := _field_errors(fields):
        errors["fields"] = problems
    if errors:
        raise Invalid("模板设置有误，未保存", fields=errors)
    found.template_id, found.channel, found.page = template_id, form["channel"], form["page"]
    found.fields, found.active = fields, form.get("active") == "1"
    db.session.commit()
    return found


def add_account_mapping(event, account_code):
    """An account's own mapping for an event, copied from the one for every account."""
    base = db.session.scalar(select(NotifyTemplate).where(NotifyTemplate.event == event,
                                                          NotifyTemplate.account_code.is_(None)))
    if base is None:
        raise NotFound("没有这类通知")
    existing = db.session.scalar(select(NotifyTemplate).where(NotifyTemplate.event == event,
                                                              NotifyTemplate.account_code == account_code))
    if existing is not None:
        return existing
    copy = NotifyTemplate(event=event, account_code=account_code, channel=base.channel, template_id=base.template_id,
                          fields=[list(f) for f in base.fields], page=base.page, active=base.active)
    db.session.add(copy)
    db.session.commit()
    return copy
