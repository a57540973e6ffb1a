"""The console's 账号管理 page: the staff accounts a caller manages, found by name; create, reset, disable.

Thin handlers over org/accounts.py, the same service `flask users` uses."""
from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import login_required

from dispatch.errors import Forbidden, Invalid
from dispatch.extensions import db
from dispatch.org import accounts
from dispatch.org.auth import console_principal
from dispatch.org.models import Community, Department, Street
from dispatch.org.roles import ROLE_SCOPE, Role

bp = Blueprint("accounts", __name__, url_prefix="/accounts")
SHOWN_ONCE = "account_password_once"  # session: [user id, password] to show on the account's page, once
UNIT_MODELS = {"street": Street, "community": Community, "department": Department}
FIELDS = ("username", "display_name", "phone", "role", "street", "community", "department")


@bp.before_request
@login_required
def _managers_only():
    """Only those who manage someone's account see these pages."""
    if not accounts.roles_managed_by(console_principal()):
        raise Forbidden("只有区管理员、街道督办员和社区主任可以管理账号")


def _role_filter():
    try:
        return Role(request.args["role"]) if request.args.get("role") else None
    except ValueError:
        return None


@bp.get("")
def index():
    """Every account the caller manages, searchable by name, username, unit or phone, with role and scope."""
    actor, role = console_principal(), _role_filter()
    query = (request.args.get("q") or "").strip()
    rows, more = accounts.accounts(actor, query, role)
    return render_template("org/accounts.html", rows=rows, more=more, q=query, role=role,
                           roles=accounts.roles_managed_by(actor), unit_of=accounts.unit_of)


def _creatable(actor):
    """Roles offered on the create form: volunteers are added on the team page, with their skills and hours."""
    return [role for role in accounts.roles_managed_by(actor) if role is not Role.VOLUNTEER]


def _new_page(values=None, errors=None, status=200):
    actor = console_principal()
    return render_template("org/account_new.html", v=values or {}, errors=errors or {}, roles=_creatable(actor),
                           units=accounts.units_for(actor), scopes=ROLE_SCOPE), status


@bp.get("/new")
def new():
    """The create form: username, name, role from a list, then the street, community or department it needs."""
    return _new_page({"community": str(console_principal().community_id or "")})


def _unit(kind, role):
    """The unit picked for the role's scope (ignoring the other lists), or None."""
    if ROLE_SCOPE.get(role) != kind:
        return None
    raw = (request.form.get(kind) or "").strip()
    return db.session.get(UNIT_MODELS[kind], int(raw)) if raw.isdigit() else None


@bp.post("/new")
def create():
    """Create the account; the password is the one typed, or a temporary one shown once on the next page."""
    actor, form = console_principal(), request.form
    role = Role(form["role"]) if form.get("role") in {r.value for r in _creatable(actor)} else None
    password = form.get("password") or accounts.temporary_password()
    if form.get("password") and form.get("password") != form.get("password2"):
        return _new_page(dict(form), {"password2": ["两次输入的密码不一样"]}, 422)
    try:
        if role is None:
            raise Invalid("请选择角色", fields={"role": ["请从列表中选择角色"]})
        user, _ = accounts.save_account(
            actor, (form.get("username") or "").strip().lower(), role, password, form.get("display_name"),
            street=_unit("street", role), community=_unit("community", role),
            department=_unit("department", role), phone=(form.get("phone") or "").strip())
    except Invalid as exc:
        db.session.rollback()
        return _new_page({key: form.get(key, "") for key in FIELDS}, exc.fields or {"form": [exc.message]}, 422)
    if not form.get("password"):
        session[SHOWN_ONCE] = [user.id, password]
    flash(f"已创建账号「{user.display_name}」（{user.role.label}），用户名 {user.username}", "success")
    return redirect(url_for(".show", user_id=user.id))


def _account_page(user, errors=None, status=200):
    shown = session.pop(SHOWN_ONCE, None)
    password = shown[1] if isinstance(shown, list) and len(shown) == 2 and shown[0] == user.id else None
    return render_template("org/account.html", user=user, unit=accounts.unit_of(user), password=password,
                           errors=errors or {}, min_password=accounts.MIN_PASSWORD), status


@bp.get("/<int:user_id>")
def show(user_id):
    """One account: who, role and scope, WeChat bound or not; reset its password, disable or enable it."""
    return _account_page(accounts.managed_account(console_principal(), user_id))


@bp.post("/<int:user_id>/password")
def reset(user_id):
    """A new password: a temporary one (shown once) or the one the manager typed twice."""
    actor = console_principal()
    user = accounts.managed_account(actor, user_id)
    typed = request.form.get("password") or ""
    if request.form.get("mode") == "set":
        if typed != request.form.get("password2"):
            return _account_page(user, {"password2": ["两次输入的密码不一样"]}, 422)
        if not typed:
            return _account_page(user, {"password": ["请输入新密码"]}, 422)
    try:
        password = accounts.reset_password(actor, user, typed if request.form.get("mode") == "set" else None)
    except Invalid as exc:
        db.session.rollback()
        return _account_page(user, exc.fields, 422)
    if request.form.get("mode") != "set":
        session[SHOWN_ONCE] = [user.id, password]
    flash(f"已重置「{user.display_name}」的密码", "success")
    return redirect(url_for(".show", user_id=user.id))


@bp.post("/<int:user_id>/active")
def activate(user_id):
    """Disable (cannot log in; an open session ends at its next page) or enable an account."""
    actor = console_principal()
    user = accounts.set_active(actor, accounts.managed_account(actor, user_id), request.form.get("active") == "1")
    flash(f"已{'启用' if user.active else '停用'}账号「{user.display_name}」"
          + ("" if user.active else "，他（她）已不能登录，正在使用的页面也会退出"), "success")
    return redirect(url_for(".show", user_id=user.id))

