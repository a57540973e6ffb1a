"""The resident's pages inside WeChat (H5) under /h5/<account code>/, signed in by snsapi_base OAuth."""
import hmac
import logging
import secrets

from flask import (Blueprint, current_app, flash, g, redirect, render_template, request, send_file, session,
                   url_for)
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from dispatch.errors import HTTP_MESSAGES, AppError, NotFound
from dispatch.extensions import db
from dispatch.intake.wechat_service import community_for, pending_note
from dispatch.resident import actions, family, services, words
from dispatch.storage import storage
from dispatch.tickets.lifecycle import Status
from dispatch.tickets.categories import active_categories
from dispatch.timeutil import now
from dispatch.urls import base_url
from dispatch.wechat.accounts import account_by_code, hotline
from dispatch.wechat.client import WeChatError, authorize_url, openid_for_code

bp = Blueprint("h5", __name__, url_prefix="/h5/<account_code>")
log = logging.getLogger(__name__)
PENDING_LOGINS = 5  # sign-ins started and not finished (several tabs), kept per account in the session
OPEN_PAGES = {"h5.oauth", "h5.unknown"}  # reachable without an openid

# One icon per category, as emoji every phone has (Unicode 6): nothing is fetched from anywhere.
ICONS = {"water_power": "💧", "gas_heating": "🔥", "lighting": "💡", "sanitation": "🚮", "appliance": "📺",
         "elderly_care": "👵", "property": "🏢", "public_security": "🚨", "city_management": "🚧",
         "neighbour": "🏠", "consultation": "💬", "suggestion": "📝", "other": "📋"}

# What the resident sees of the timeline (words.STEPS): their own steps and the ones that answer them; staff
# notes, reclassifications and other internal entries stay in the console.
STEPS = words.STEPS


def _openid_key():
    return f"h5_openid:{g.h5_code}"


def _pending_key():
    return f"h5_oauth:{g.h5_code}"


@bp.url_value_preprocessor
def _take_code(endpoint, values):
    """Keep the account code for every view; runs before the app's CSRF check reads the form."""
    g.h5_code = (values or {}).pop("account_code", None)
    g.resident = None
    if endpoint in ("h5.report", "h5.answer") and request.method == "POST":
        # Up to 9 phone photos: the app-wide limit is sized for one upload, not for nine.
        request.max_content_length = services.MAX_PHOTOS * current_app.config["MAX_PHOTO_BYTES"] + (1 << 20)


@bp.url_defaults
def _give_code(endpoint, values):
    if "account_code" not in values and getattr(g, "h5_code", None):
        values["account_code"] = g.h5_code


@bp.before_request
def _sign_in():
    """Every page needs a known account and, except the OAuth return, the resident's openid."""
    g.account = account_by_code(g.h5_code)
    if g.account is None:
        raise NotFound("找不到这个公众号的页面，请从公众号菜单重新进入")
    if request.endpoint in OPEN_PAGES:
        return None
    openid = session.get(_openid_key())
    if openid is None:
        return _start_oauth()
    g.resident = services.signed_in(g.account, openid, now())
    return None


def _return_to():
    """Where to come back after signing in: this page, or for a form post the page that holds the form."""
    if request.method == "GET":
        query = request.query_string.decode("utf-8", "replace")
        return request.path + (f"?{query}" if query else "")
    if "number" in (request.view_args or {}):  # a form of a ticket's page: rating, 催一催, 撤回, the answer
        return url_for(".ticket", number=request.view_args["number"])
    return url_for(".report")


def _start_oauth():
    """Send the browser to WeChat for a silent snsapi_base sign-in, remembering a state and the page."""
    state = secrets.token_hex(16)
    pending = [p for p in session.get(_pending_key(), []) if isinstance(p, list) and len(p) == 2]
    session[_pending_key()] = (pending + [[state, _return_to()]])[-PENDING_LOGINS:]
    redirect_uri = base_url() + url_for(".oauth")
    return redirect(authorize_url(g.account, redirect_uri, state))


def _sign_in_failed(message, retry, status):
    return render_template("h5/error.html", title="登录没有成功", message=message, retry=retry), status


@bp.get("/oauth")
def oauth():
    """WeChat's return: check the state, exchange the code for the openid, go back to the page asked for."""
    state, code = request.args.get("state", ""), request.args.get("code", "")
    pending = session.get(_pending_key(), [])
    given = state.encode("utf-8")
    target = next((page for kept, page in pending if hmac.compare_digest(kept.encode(), given)), None)
    if target is None or not code:
        return _sign_in_failed("这个登录链接已经失效了。请点下面的按钮重新进入。", url_for(".home"), 400)
    session[_pending_key()] = [p for p in pending if p[0] != state]
    try:
        openid = openid_for_code(g.account, code)
    except WeChatError as exc:
        log.warning("h5 %s: OAuth code exchange failed: %s", g.h5_code, exc)
        return _sign_in_failed("微信登录没有成功，可能是网络不好或页面停留太久。请点下面的按钮再试一次。",
                               target, 503 if exc.transient else 400)
    session[_openid_key()] = openid
    services.signed_in(g.account, openid, now())
    return redirect(target)


@bp.get("/")
def home():
    """The account's H5 entry: the report form."""
    return redirect(url_for(".report"))


def _report_form(values, errors=None, status=200, query=None, show_all=False, resident=None, **extra):
    """The report form, empty, filled in for the resident, or as they typed it with messages per field; on the
    district account a short list of communities (those the words or the search by road or 小区 name point to)
    comes before the list of all of them; a family member reporting for a parent (resident) passes the parent
    and what the page says of them (extra)."""
    account, resident = g.account, resident or g.resident
    district = services.needs_community(account)
    short = services.short_list(values, query) if district else []
    return render_template(
        "h5/report.html", values=values, errors=errors or {}, categories=active_categories(),
        icons=ICONS, max_photos=services.MAX_PHOTOS, max_description=services.MAX_DESCRIPTION,
        streets=services.communities_by_street() if district else None, short=short, query=query or "",
        show_all=show_all or (district and not short),
        community_optional=community_for(account, resident) is not None, **extra), status


@bp.route("/report", methods=["GET", "POST"])
def report():
    """GET: the report form. POST: open a ticket with the photos, then show it with its number."""
    if request.method == "GET":
        community = g.resident.community
        values = {"phone": g.resident.phone or "", "address": services.last_address(g.resident) or "",
                  "community": community.code if community else "",
                  "description": pending_note(g.resident, now()) or ""}
        # The search by road or 小区 name sends the form itself by GET: what was typed comes back with it.
        values.update({key: request.args[key].strip()[:services.MAX_DESCRIPTION]
                       for key in (*values, "category") if key in request.args})
        return _report_form(values, query=(request.args.get("find") or "").strip()[:30],
                            show_all=bool(request.args.get("all")))
    try:
        found = services.read_report(g.account, g.resident, request.form, request.files.getlist("photos"),
                                     active_categories())
        ticket, created = services.submit_report(g.account, g.resident, found, now())
    except services.ReportRefused as exc:
        return _report_form(exc.values, exc.errors, 400)
    except AppError as exc:
        return _report_form(services.form_values(request.form), {"community": exc.message}, 400)
    message = ('提交成功！工单号 <span class="nowrap">{}</span>。' if created else
               '这个问题您刚才已经提交过了，工单号 <span class="nowrap">{}</span>，不用再提交。')
    flash(Markup(message).format(ticket.number), "success")  # the page below says when we will call
    return redirect(url_for(".ticket", number=ticket.number))


@bp.get("/tickets")
def tickets():
    """The resident's own tickets, newest first."""
    found = services.my_tickets(g.resident)
    return render_template("h5/tickets.html", tickets=found, icons=ICONS, withdrawn=actions.withdrawn(found),
                           limited=len(found) >= services.MY_TICKETS_LIMIT)


def _ticket_page(ticket, rating_error=None, values=None, status=200, changing=False, action_error=None,
                 answer_errors=None):
    """A ticket with its photos, the steps so far, staff's question with the answer form while it waits, the
    rating form once it is resolved, and what the resident may do now; a merged report shows the progress of
    the ticket it was merged into (p)."""
    kept = actions.kept_ticket(ticket)
    p, at = kept or ticket, now()
    steps = _steps(ticket, kept)
    change_until = actions.change_until(p, family.acting_as(g.resident, p))
    return render_template(
        "h5/ticket.html", t=ticket, p=p, kept=kept, lines=words.timeline(ticket, steps),
        promise=words.promise(p, at), coming=words.coming(p),
        icons=ICONS, ratings=services.RATINGS, can_rate=services.can_rate(p), rating_error=rating_error,
        values=values or {}, hotline=hotline(g.account) or ticket.community.phone,
        max_comment=services.MAX_COMMENT, **_resident_actions(ticket, p, at, changing, change_until),
        action_error=action_error, question=services.question_of(ticket), answer_errors=answer_errors or {},
        max_answer=services.MAX_ANSWER, max_photos=services.MAX_PHOTOS), status


# A neighbour's own entries on the kept ticket (their report, photos, voice) are not the follower's steps.
NEIGHBOUR_STEPS = {"created", "photo_added", "photo_received", "voice_received", "voice_saved", "described",
                   "located", "media_refused"}


def _steps(ticket, kept):
    """The steps shown: the ticket's own, and for a merged report those of the kept ticket after its own."""
    own = [e for e in ticket.events if e.kind in STEPS]
    if kept is None:
        return own
    return sorted(own + [e for e in kept.events if e.kind in STEPS and e.kind not in NEIGHBOUR_STEPS],
                  key=lambda e: e.id)  # one table's ids: the order things happened in


def _resident_actions(ticket, p, at, changing, change_until):
    """What the page offers: 催一催 (or when it will), 撤回, 修改评价 (and until when)."""
    can_change = change_until is not None and at <= change_until
    return {"nudge_offered": p.status in actions.ACTIONS["nudge"].sources,
            "nudge_refusal": actions.nudge_refusal(p, at),
            "can_withdraw": actions.withdraw_refusal(g.resident, ticket) is None,
            "max_reason": actions.MAX_REASON, "change_until": change_until if can_change else None,
            "changing": changing and can_change, "rated_by_me": change_until is not None,
            "withdrawn": ticket.status is Status.INVALID and any(e.kind == "withdraw_by_resident"
                                                                 for e in ticket.events)}


@bp.get("/tickets/<number>")
def ticket(number):
    """One of the resident's tickets; the kept ticket of a merged report opens that report's page."""
    found = actions.reachable_ticket(g.resident, number)
    if found.resident_id != g.resident.id and family.family_label(g.resident.id, found) is None:
        own = actions.own_merged_into(g.resident, found)
        if own is None:
            raise NotFound("找不到这张工单")
        return redirect(url_for(".ticket", number=own.number))
    return _ticket_page(found, changing=request.args.get("change") == "1")


@bp.post("/tickets/<number>/answer")
def answer(number):
    """Answer staff's question (words and photos): the ticket goes on; bad input keeps the words typed."""
    found = family.my_or_parents_ticket(g.resident, number)
    try:
        text, photos = services.read_answer(request.form, request.files.getlist("photos"))
        services.answer(found, text, photos, now())
    except services.ReportRefused as exc:
        return _ticket_page(found, values=exc.values, answer_errors=exc.errors, status=400)
    except AppError as exc:
        db.session.rollback()
        found = family.my_or_parents_ticket(g.resident, number)
        answer_text = (request.form.get("answer") or "").strip()
        return _ticket_page(found, values={"answer": answer_text}, answer_errors={"answer": exc.message},
                            status=409 if exc.status == 409 else 400)
    flash(Markup('已补充到工单 <span class="nowrap">{}</span>，我们继续为您办理。').format(found.number), "success")
    return redirect(url_for(".ticket", number=number))


RATED = {"redo": "已收到您的评价。很抱歉没有让您满意，我们会重新办理，并尽快联系您。",
         "no_redo": "已收到您的意见，我们会认真改进。按您的意思，这张工单不再重新办理，已完成。",
         "done": "谢谢您的评价！这张工单已完成。"}


@bp.post("/tickets/<number>/rating")
def rate(number):
    """Rate a resolved ticket: satisfied closes it; unsatisfied has it redone unless the resident declines."""
    found = actions.reachable_ticket(g.resident, number)
    choice, comment = request.form.get("rating", ""), request.form.get("comment", "")
    redo = request.form.get("redo", "1") != "0"  # a form without the choice (an older page) means redo
    try:
        services.rate(found, choice, comment, now(), redo=redo, by=family.acting_as(g.resident, found))
    except AppError as exc:
        return _refused(number, exc, rating_error=exc.message,
                        values={"rating": choice, "comment": comment.strip(), "redo": redo})
    flash(RATED["done" if choice != "unsatisfied" else "redo" if redo else "no_redo"], "success")
    return redirect(url_for(".ticket", number=number))


def _refused(number, exc, **page):
    """The ticket's page again after a refused form (what was typed kept), 409 or 400."""
    db.session.rollback()
    found = actions.reachable_ticket(g.resident, number)
    shown = actions.own_merged_into(g.resident, found) if found.resident_id != g.resident.id else found
    return _ticket_page(shown or found, status=409 if exc.status == 409 else 400, **page)


CHANGED = {"redo": "已改为不满意。很抱歉，我们会重新办理，并尽快联系您。", "no_redo": "评价已修改，我们会认真改进。",
           "done": "评价已修改，谢谢您！"}


@bp.post("/tickets/<number>/rating/change")
def change_rating(number):
    """Change the rating of the latest result, within 7 days of giving it."""
    found = actions.reachable_ticket(g.resident, number)
    choice, comment = request.form.get("rating", ""), request.form.get("comment", "")
    redo = request.form.get("redo", "1") != "0"
    try:
        actions.change_rating(found, family.acting_as(g.resident, found), choice, comment, now(), redo=redo)
    except AppError as exc:
        return _refused(number, exc, rating_error=exc.message, changing=exc.status != 409,
                        values={"rating": choice, "comment": comment.strip(), "redo": redo})
    flash(CHANGED["done" if choice != "unsatisfied" else "redo" if redo else "no_redo"], "success")
    return redirect(url_for(".ticket", number=number))


@bp.post("/tickets/<number>/nudge")
def nudge(number):
    """催一催: the holder and the director hear that the resident is still waiting."""
    found = actions.reachable_ticket(g.resident, number)
    try:
        actions.nudge(found, now())
    except AppError as exc:
        return _refused(number, exc, action_error=exc.message)
    flash("已帮您催了一下，工作人员和社区主任都收到了，请再耐心等一等。", "success")
    return redirect(url_for(".ticket", number=number))


@bp.post("/tickets/<number>/withdraw")
def withdraw(number):
    """撤回 a ticket nobody has been sent to yet, with an optional reason; the director hears of it."""
    found = actions.reachable_ticket(g.resident, number)
    reason = request.form.get("reason", "")
    try:
        actions.withdraw(g.resident, found, reason, now())
    except AppError as exc:
        return _refused(number, exc, action_error=exc.message, values={"reason": reason.strip()})
    flash("已撤回。如果问题又出现了，随时可以再反映。", "success")
    return redirect(url_for(".ticket", number=number))


@bp.get("/media/<path:key>")
def media(key):
    """A photo or thumbnail of one of the resident's own tickets; anything else is 404."""
    content_type = services.my_photo_type(g.resident, key) or family.photo_type(g.resident, key)
    path = storage(current_app).path(key) if content_type else None
    if path is None:
        raise NotFound("找不到这张照片")
    response = send_file(path, mimetype=content_type, max_age=3600)
    response.cache_control.public = False
    response.cache_control.private = True
    return response


@bp.get("/<path:rest>")
def unknown(rest):
    """Any other address under the account: the H5 404 page, not the console's."""
    raise NotFound("找不到这个页面")


@bp.context_processor
def _page_globals():
    """The account and its hotline on every H5 page (every mention of calling is a tel: link)."""
    account = getattr(g, "account", None)
    return {"account": account, "hotline": hotline(account) if account else None}


FRIENDLY = {400: "页面已过期，请返回上一页刷新后再提交。", 404: "找不到这个页面。", 405: "请从公众号菜单重新进入。"}


def _too_large():
    """What to say when an upload is over the limit (the typed text cannot be read back from it)."""
    megabytes = current_app.config["MAX_PHOTO_BYTES"] // (1 << 20)
    return (f"照片太大了：每张请不要超过 {megabytes} MB，一次最多 {services.MAX_PHOTOS} 张。"
            "请点左上角返回，少选几张照片再提交。")


@bp.errorhandler(Exception)
def _error(exc):
    """Errors of H5 pages as plain-language H5 pages; nothing internal is shown."""
    if isinstance(exc, HTTPException) and exc.code and exc.code < 400:
        return exc
    db.session.rollback()
    if isinstance(exc, AppError):
        status, message = exc.status, exc.message
    elif isinstance(exc, CSRFError):
        status, message = 400, "页面已过期。请返回上一页，刷新后再提交。"
    elif isinstance(exc, HTTPException):
        status = exc.code or 500
        message = _too_large() if status == 413 else FRIENDLY.get(status, HTTP_MESSAGES.get(status, "出了点问题。"))
    else:
        log.exception("unhandled error on %s %s", request.method, request.path)
        status, message = 500, "出了点问题，请稍后再试。急事请直接打电话。"
    retry = url_for(".home") if getattr(g, "account", None) else None
    return render_template("h5/error.html", title="出错了", message=message, retry=retry), status
