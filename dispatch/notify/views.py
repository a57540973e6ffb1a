"""The admin's notification pages: the outbox at a glance, failures to fix, and each account's messages."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from dispatch.errors import Forbidden, Invalid, NotFound
from dispatch.notify import services
from dispatch.notify.rules import EVENT_LABELS
from dispatch.notify.templates import (KIND_LABELS, PAGES, SAMPLE, SOURCES, field_name, field_type, fit,
                                       load_defaults, preview, text_of)
from dispatch.org.auth import console_principal
from dispatch.org.roles import Role
from dispatch.timeutil import now
from dispatch.wechat.accounts import account_by_code, all_accounts

bp = Blueprint("notify", __name__, url_prefix="/notify")

GROUPS = ("居民", "志愿者", "承办人", "主任", "值班", "街道")  # the audiences, in the order the page lists their messages
GROUP_TITLES = {"居民": "发给居民的通知", "志愿者": "发给志愿者的通知", "承办人": "发给承办人的通知",
                "主任": "发给社区书记/主任的通知", "值班": "发给值班人员的通知",
                "街道": "发给街道的通知"}


@bp.app_context_processor
def _failed_notifications():
    """The admin sees on every console page how many notifications failed and wait for a fix."""
    user = current_user
    if getattr(user, "is_authenticated", False) and user.role is Role.DISTRICT_ADMIN:
        return {"failed_notifications": services.failure_count()}
    return {}


@bp.before_request
def _admins_only():
    """Only the district admin sets up and repairs notifications."""
    if console_principal().role is not Role.DISTRICT_ADMIN:
        raise Forbidden("通知设置只供区管理员使用")


def _field_rows(fields):
    """Each field as the form shows it: key, name, what it carries, its kind in words, each choice's sample value."""
    return [{"key": row[0], "name": field_name(row), "source": row[1],
             "type": field_type(row[0]) or "thing", "kind": KIND_LABELS.get(field_type(row[0]) or "", "文字")}
            for row in fields]


def _samples():
    """{field type: {content: the sample's value fitted to it}}: what the preview shows as a drop-down changes."""
    return {kind: {source: fit(kind, SAMPLE.get(source, "")) for source in SOURCES} for kind in KIND_LABELS}


def _message(event, mapping, own, typed):
    """One event's settings for the chosen account, as the page shows them (typed values after a refusal)."""
    fields = typed.get("rows") or mapping.fields
    channel = typed.get("channel") or mapping.channel
    return {"event": event, "label": EVENT_LABELS[event], "title": EVENT_LABELS[event].split("：")[-1],
            "mapping": mapping, "own": own, "typed": typed, "channel": channel, "fields": _field_rows(fields),
            "preview": preview(fields), "text": text_of(event, SAMPLE), "page": typed.get("page") or mapping.page,
            "placeholder": mapping.template_id.startswith("TPL_")}


def _groups(code, focus, typed):
    """The events under their audiences, each with the account's own mapping or the shared one it follows;
    and the names of the events nobody set up (they are not sent)."""
    found = {(m.event, m.account_code): m for m in services.mappings()}
    groups, missing = {name: [] for name in GROUPS}, []
    for event, label in EVENT_LABELS.items():
        mapping = found.get((event, code)) or found.get((event, None))
        if mapping is None:
            missing.append(label)
            continue
        own = code is None or mapping.account_code == code
        groups[label.split("：")[0]].append(_message(event, mapping, own, typed if mapping.id == focus else {}))
    return [(GROUP_TITLES[name], rows) for name, rows in groups.items() if rows], missing


def _account(code):
    """The account chosen on the page: None for the settings every account follows."""
    if not code:
        return None
    account = account_by_code(code)
    if account is None:
        raise NotFound("没有这个公众号")
    return account


def _page(code=None, error=None, status=200, typed=None, focus=None, notice=None):
    account = _account(code)
    groups, missing = _groups(code, focus, typed or {})
    unsent = [m["label"] for _, rows in groups for m in rows
              if m["placeholder"] and m["channel"] in services.WECHAT_CHANNELS]
    return render_template("notify/index.html", counts=services.counts(), failures=services.failures(),
                           labels=services.STATUS_LABELS, events=EVENT_LABELS, sources=SOURCES, pages=PAGES,
                           channels=services.channel_choices(), channel_labels=services.CHANNEL_LABELS,
                           error_labels=services.ERROR_LABELS,
                           accounts=all_accounts(), account=account, groups=groups, missing=missing, unsent=unsent,
                           samples=_samples(), error=error, focus=focus, notice=notice), status


def _back(mapping, code):
    return redirect(url_for(".index", account=code or None) + f"#m-{mapping.id}", 303)


@bp.get("/")
def index():
    """Counts by status, failures with their reasons, and the chosen account's messages with a preview of each."""
    return _page(request.args.get("account") or None)


def _typed(form, rows):
    return {"rows": rows, "channel": form.get("channel"), "page": form.get("page"),
            "template_id": form.get("template_id"), "active": form.get("active") == "1"}


@bp.post("/templates/<int:mapping_id>")
def save(mapping_id):
    """Save one mapping, or read a pasted template into its fields (unsaved); a refusal shows why, in a 400."""
    found = services.mapping(mapping_id)
    code = request.form.get("account") or None
    if (request.form.get("content") or "").strip():
        try:
            rows = services.pasted_fields(request.form["content"])
        except Invalid as exc:
            return _page(code, exc.message, 400, _typed(request.form, None), mapping_id)
        return _page(code, typed=_typed(request.form, rows), focus=mapping_id,
                     notice=f"已读出模板的 {len(rows)} 个字段，请核对每个字段要填的内容，再点「保存」")
    try:
        services.save_mapping(found, request.form)
    except Invalid as exc:
        message = exc.message + "：" + "；".join(m for ms in (exc.fields or {}).values() for m in ms)
        return _page(code, message, 400, _typed(request.form, services.form_fields(request.form)), mapping_id)
    flash(f"已保存「{EVENT_LABELS.get(found.event, found.event)}」的设置", "success")
    return _back(found, code)


@bp.post("/templates")
def add_for_account():
    """Give one account its own template for an event (its template ids differ from the others')."""
    event, code = request.form.get("event", ""), request.form.get("account", "")
    if event not in EVENT_LABELS or account_by_code(code) is None:
        return _page(None, "请选择通知类型和公众号", 400)
    created = services.add_account_mapping(event, code)
    flash("已为该公众号单独设置这条通知，请填写它在本公众号后台的模板 ID", "success")
    return _back(created, code)


@bp.post("/defaults")
def add_defaults():
    """Set up, with the usual fields, every kind of message that has no settings yet (so far never sent)."""
    count = load_defaults()
    flash(f"已补上 {count} 类通知的默认设置，请填写它们的模板 ID", "success")
    return redirect(url_for(".index"), 303)


@bp.post("/retry")
def retry():
    """Send every failed notification again (after fixing a template id or field)."""
    count = services.retry_failed(now())
    flash(f"已重新排队 {count} 条通知", "success")
    return redirect(url_for(".index"), 303)
