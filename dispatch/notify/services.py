"""What the console shows and changes of notifications: a ticket's messages, failures, the template mapping."""
from sqlalchemy import func, select, update

from dispatch.errors import Invalid, NotFound
from dispatch.extensions import db
from dispatch.notify.channels import REGISTRY
from dispatch.notify.models import Notification, NotifyTemplate, Status
from dispatch.notify.rules import EVENT_LABELS
from dispatch.notify.templates import PAGES, check_fields

STATUS_LABELS = {Status.PENDING: "等待发送", Status.SENDING: "发送中", Status.SENT: "已送达", Status.FAILED: "发送失败",
                 Status.STOPPED: "对方不再接收", Status.UNREACHABLE: "无法联系"}
SHOWN_FAILURES = 100


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


def parse_fields(text):
    """'thing2=category' lines → [[key, source], ...]; refused with the line numbers that are wrong."""
    rows = []
    for line in (text or "").splitlines():
        if line.strip():
            key, _, source = line.partition("=")
            rows.append([key.strip(), source.strip()])
    problems = check_fields(rows)
    if not rows:
        raise Invalid("至少需要一个字段", fields={"fields": ["每行一个字段，如 thing2=category"]})
    if problems:
        raise Invalid("字段设置有误", fields={"fields": [f"第 {i + 1} 行：{m}" for i, m in problems.items()]})
    return rows


def save_mapping(found, form):
    """Save the admin's edit of one mapping, or nothing with the reasons."""
    errors = {}
    template_id = (form.get("template_id") or "").strip()
    if not template_id or len(template_id) > 64:
        errors["template_id"] = ["请填写公众号后台的模板 ID（64 个字符以内）"]
    if form.get("channel") not in REGISTRY:
        errors["channel"] = [f"可选：{'、'.join(REGISTRY)}"]
    if form.get("page") not in PAGES:
        errors["page"] = [f"可选：{'、'.join(PAGES)}"]
    try:
        fields = parse_fields(form.get("fields"))
    except Invalid as exc:
        errors.update(exc.fields)
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
