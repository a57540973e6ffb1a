"""Console sessions: log in (password, or WeChat for volunteers), log out, the failure limit, the principal."""
import hmac
import logging
import secrets
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for

from flask_login import current_user, login_required, login_user, logout_user

from dispatch.extensions import db, login_manager
from dispatch.org.models import User
from dispatch.org.principal import Principal
from dispatch.org.roles import Role
from dispatch.org.services import authenticate, login_locked, record_login
from dispatch.teams.desk_services import volunteer_for_openid
from dispatch.wechat.accounts import account_by_code
from dispatch.wechat.client import WeChatError, authorize_url, openid_for_code

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)
WECHAT_STATE = "desk_oauth"  # the session key holding [state, account code, next page] of a WeChat sign-in


def init_app(app):
    """Bind Flask-Login: where to send anonymous users, how to load a user from the session."""
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"
    login_manager.session_protection = "strong"
    login_manager.user_loader(lambda user_id: db.session.get(User, int(user_id)))


def console_principal():
    """The logged-in staff user as a Principal."""
    return Principal.from_user(current_user)


def _safe_next(target):
    """Only redirect back into this site after login."""
    parts = urlsplit(target or "")
    local = target and target.startswith("/") and not target.startswith("//") and "\\" not in target
    return target if local and not parts.scheme and not parts.netloc else None


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the login form; check a submitted one, refusing while too many failures are recent."""
    if request.method == "GET":
        return render_template("login.html")
    username = (request.form.get("username") or "").strip()
    password = request.form.get("password") or ""
    ip = request.remote_addr or "unknown"
    if login_locked(username, ip):
        minutes = current_app.config["LOGIN_LOCKOUT_MINUTES"]
        flash(f"登录失败次数过多，请 {minutes} 分钟后再试，或联系管理员", "error")
        return render_template("login.html", username=username), 429
    user = authenticate(username, password)
    record_login(username, ip, ok=user is not None)
    if user is None:
        flash("用户名或密码不正确", "error")
        return render_template("login.html", username=username), 401
    return _logged_in(user, request.args.get("next"))


def _logged_in(user, next_page):
    """Start the session and go where the user was headed, or home."""
    login_user(user)
    # Volunteers and departments work from the desk (their tasks); everyone else starts at the queue.
    desk_roles = (Role.VOLUNTEER, Role.DEPARTMENT_USER)
    home = url_for("desk.index") if user.role in desk_roles else url_for("tickets.queue")
    return redirect(_safe_next(next_page) or home)


@bp.get("/login/wechat/<account_code>")
def wechat_login(account_code):
    """A volunteer opens the desk from an official account's menu: a silent snsapi_base sign-in."""
    account = account_by_code(account_code)
    if account is None:
        return _wechat_refused("找不到这个公众号，请从公众号菜单重新进入", 404)
    state = secrets.token_hex(16)
    session[WECHAT_STATE] = [state, account.code, _safe_next(request.args.get("next"))]
    return_to = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + url_for(".wechat_return")
    return redirect(authorize_url(account, return_to, state))


@bp.get("/login/wechat/return")
def wechat_return():
    """WeChat's return: check the state, exchange the code, log in the volunteer bound to that openid."""
    kept = session.pop(WECHAT_STATE, None)
    state, code = request.args.get("state", ""), request.args.get("code", "")
    if not (isinstance(kept, list) and len(kept) == 3 and code
            and hmac.compare_digest(kept[0].encode(), state.encode("utf-8"))):
        return _wechat_refused("这个登录链接已经失效了，请从公众号菜单重新进入", 400)
    account = account_by_code(kept[1])
    if account is None:  # removed while the volunteer was at WeChat
        return _wechat_refused("找不到这个公众号，请从公众号菜单重新进入", 400)
    try:
        openid = openid_for_code(account, code)
    except WeChatError as exc:
        log.warning("desk sign-in via %s: OAuth code exchange failed: %s", kept[1], exc)
        return _wechat_refused("微信登录没有成功，可能是网络不好，请稍后从公众号菜单重新进入",
                               503 if exc.transient else 400)
    user = volunteer_for_openid(openid)
    if user is None:
        return _wechat_refused("这个微信号还没有绑定志愿者账号。请把下面的编号告诉社区主任，"
                               f"由主任在「服务队」里填写：{openid}", 403)
    return _logged_in(user, kept[2])


def _wechat_refused(message, status):
    """The login page with why the WeChat sign-in did not work; the password form still works."""
    flash(message, "error")
    return render_template("login.html"), status


@bp.post("/logout")
@login_required
def logout():
    """End the session (a POST, so a link elsewhere cannot log a user out)."""
    logout_user()
    flash("已退出登录", "info")
    return redirect(url_for("auth.login"))
