"""Console sessions: password login, log out, the failure limit, the principal (WeChat sign-in: teams/desk_login)."""
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from flask_login import current_user, login_required, login_user, logout_user

from dispatch.extensions import db, login_manager
from dispatch.org.models import User
from dispatch.org.principal import Principal
from dispatch.org.roles import Role
from dispatch.org.services import authenticate, login_locked, record_login

bp = Blueprint("auth", __name__)


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


def safe_next(target):
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
    return logged_in(user, request.args.get("next"))


def logged_in(user, next_page):
    """Start the session and go where the user was headed, or home."""
    login_user(user)
    return redirect(safe_next(next_page) or home_of(user.role))


# Where each role's day starts: volunteers and departments at the desk (their tasks), the street and the
# district at what awaits them (extension requests, escalations, overdue), communities at the queue.
HOMES = {Role.VOLUNTEER: "desk.index", Role.DEPARTMENT_USER: "desk.index",
         Role.STREET_SUPERVISOR: "monitor.today", Role.DISTRICT_ADMIN: "monitor.today"}


def home_of(role):
    """The page a role lands on after login."""
    return url_for(HOMES.get(role, "tickets.queue"))


@bp.post("/logout")
@login_required
def logout():
    """End the session (a POST, so a link elsewhere cannot log a user out)."""
    logout_user()
    flash("已退出登录", "info")
    return redirect(url_for("auth.login"))
