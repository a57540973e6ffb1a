"""The admin's notification pages: the outbox at a glance, failures to fix, and the event → template mapping."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from dispatch.errors import Forbidden, Invalid
from dispatch.notify import services
from dispatch.notify.channels import REGISTRY
from dispatch.notify.rules import AUDIENCE_LABELS, EVENT_LABELS
from dispatch.notify.templates import PAGES, SOURCES
from dispatch.org.auth import console_principal
from dispatch.org.roles import Role
from dispatch.timeutil import now
from dispatch.wechat.accounts import account_by_code, all_accounts

bp = Blueprint("notify", __name__, url_prefix="/notify")


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


def _page(error=None, status=200, values=None, focus=None):
    return render_template("notify/index.html", counts=services.counts(), failures=services.failures(),
                           mappings=services.mappings(), labels=services.STATUS_LABELS, events=EVENT_LABELS,
                           audiences=AUDIENCE_LABELS, sources=SOURCES, pages=PAGES, channels=list(REGISTRY),
                           accounts=all_accounts(), error=error, values=values or {}, focus=focus), status


@bp.get("/")
def index():
    """Counts by status, failures with their reasons, and every mapping with its fields."""
    return _page()


@bp.post("/templates/<int:mapping_id>")
def save(mapping_id):
    """Save one mapping; a refusal shows the page again with what was typed and why."""
    found = services.mapping(mapping_id)
    try:
        services.save_mapping(found, request.form)
    except Invalid as exc:
        message = exc.message + "：" + "；".join(m for ms in (exc.fields or {}).values() for m in ms)
        return _page(message, 422, request.form, mapping_id)
    flash(f"已保存「{EVENT_LABELS.get(found.event, found.event)}」的模板", "success")
    return redirect(url_for(".index") + f"#m-{found.id}", 303)


@bp.post("/templates")
def add_for_account():
    """Give one account its own template for an event (its template ids differ from the others')."""
    event, code = request.form.get("event", ""), request.form.get("account", "")
    if event not in EVENT_LABELS or account_by_code(code) is None:
        return _page("请选择通知类型和公众号", 422)
    created = services.add_account_mapping(event, code)
    flash("已为该公众号单独设置模板，请填写它的模板 ID", "success")
    return redirect(url_for(".index") + f"#m-{created.id}", 303)


@bp.post("/retry")
def retry():
    """Send every failed notification again (after fixing a template id or field)."""
    count = services.retry_failed(now())
    flash(f"已重新排队 {count} 条通知", "success")
    return redirect(url_for(".index"), 303)
