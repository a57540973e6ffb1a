"""Console pages for the 365 service teams, the departments and each category's routing settings."""
from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import login_required
from sqlalchemy import select

from dispatch.errors import Forbidden, Invalid, NotFound
from dispatch.extensions import db
from dispatch.intake import gazetteer
from dispatch.intake.models import PlaceName
from dispatch.org.auth import console_principal
from dispatch.org.links import qr_data_uri
from dispatch.org.models import Community, Department
from dispatch.org.roles import Role
from dispatch.org.services import communities_in_scope
from dispatch.teams import admin_services as team, binding
from dispatch.teams.skills import SKILLS, WEEKDAYS, skill_labels
from dispatch.tickets.models import Category
from dispatch.timeutil import local, now
from dispatch.urls import base_url

bp = Blueprint("team_admin", __name__, url_prefix="/teams")

VIEWERS = {Role.DISTRICT_ADMIN, Role.STREET_SUPERVISOR, Role.COMMUNITY_DIRECTOR, Role.COMMUNITY_STAFF}
MANAGERS = {Role.DISTRICT_ADMIN, Role.COMMUNITY_DIRECTOR}


@bp.before_request
@login_required
def _staff_only():
    """Volunteers and department users have no business here."""
    if console_principal().role not in VIEWERS:
        raise Forbidden("只有社区、街道和区的工作人员可以查看服务队")


def _admin_only():
    """Departments and category routing are the district admin's."""
    if console_principal().role is not Role.DISTRICT_ADMIN:
        raise Forbidden("只有区管理员可以管理职能部门和分类派单设置")


def _managed_ids():
    """Community ids the caller may change (None: all); 403 for those who may only look."""
    principal = console_principal()
    if principal.role not in MANAGERS:
        raise Forbidden("只有社区主任和区管理员可以管理服务队")
    return None if principal.role is Role.DISTRICT_ADMIN else [principal.community_id]


# ---- volunteers ----

def _chosen_community(communities):
    """The community named by ?community= among those in scope, or None for all of them."""
    code = request.args.get("community") or ""
    if not code:
        return None
    found = next((c for c in communities if c.code == code), None)
    if found is None:
        raise NotFound("找不到该社区")
    return found


def _team_page(new=None, errors=None, status=200):
    """The team table, and the add form for those who manage; new and errors after a refusal."""
    principal = console_principal()
    communities = communities_in_scope(principal)
    chosen = _chosen_community(communities) if len(communities) > 1 else None
    ids = [chosen.id] if chosen else (None if principal.role is Role.DISTRICT_ADMIN else [c.id for c in communities])
    at = local(now())
    today = at.date()
    return render_template(
        "teams/volunteers.html", rows=team.team(ids, at), communities=communities, chosen=chosen,
        can_manage=principal.role in MANAGERS, weekday=today.weekday(), WEEKDAYS=WEEKDAYS, SKILLS=SKILLS,
        skill_labels=skill_labels, new=new or _blank(chosen), errors=errors or {},
        places=gazetteer.place_names_near([c.id for c in communities])), status


def _blank(chosen):
    """The empty add form, in the community being viewed."""
    return team.blank_values() | {"community": chosen.code if chosen else ""}


@bp.get("/volunteers")
def volunteers():
    """The team table: skills, this week's hours, leave, open tasks against the cap, openid bound."""
    return _team_page()


def _target_community(ids):
    """Where a new volunteer goes: the director's community, or the one an admin picked."""
    if ids is not None:
        return db.session.get(Community, ids[0])
    code = (request.form.get("community") or "").strip()
    community = db.session.scalar(select(Community).where(Community.code == code)) if code else None
    if community is None:
        raise Invalid("请选择社区", fields={"community": ["请选择队员所在的社区"]})
    return community


@bp.post("/volunteers")
def add_volunteer():
    """Create a volunteer account and profile in the caller's community (admins: the one chosen)."""
    ids = _managed_ids()
    try:
        user = team.add_volunteer(_target_community(ids), request.form)
    except Invalid as exc:
        db.session.rollback()
        return _team_page(new=team.typed_values(request.form) | {"community": request.form.get("community", "")},
                          errors=exc.fields or {"form": [exc.message]}, status=422)
    flash(f"已添加队员「{user.display_name}」（用户名 {user.username}）", "success")
    return redirect(url_for(".volunteers", community=user.community.code if ids is None else None))


def _volunteer(user_id):
    """A volunteer the caller may manage, else 404 (out of scope looks like missing)."""
    user = team.volunteer_in(user_id, _managed_ids())
    if user is None:
        raise NotFound("找不到该队员")
    return user


def _edit_page(user, values, errors=None, status=200):
    """One volunteer's form; errors after a refusal."""
    return render_template("teams/volunteer.html", user=user, v=values, errors=errors or {}, SKILLS=SKILLS,
                           WEEKDAYS=WEEKDAYS, wechat=_wechat_panel(user),
                           places=gazetteer.place_names_near([user.community_id])), status


def _bind_key(user):
    return f"volunteer_bind:{user.id}"


def _wechat_panel(user):
    """Bound or not, and the QR code of the link made a moment ago while it can still be used."""
    volunteer = team.profile_of(user)
    token = session.get(_bind_key(user))
    if volunteer is None or not binding.waiting(volunteer, token, now()):
        return {"bound": bool(volunteer and volunteer.openid), "qr": None}
    url = base_url() + url_for("volunteer_bind.confirm", token=token)
    return {"bound": bool(volunteer.openid), "qr": qr_data_uri(url), "url": url,
            "until": local(volunteer.bind_expires_at)}


@bp.post("/volunteers/<int:user_id>/bind")
def make_bind_link(user_id):
    """A new single-use bind QR code for the volunteer to scan in WeChat (shown on their page)."""
    user = _volunteer(user_id)
    volunteer = team.profile_of(user) or team.new_profile(user)
    session[_bind_key(user)] = binding.make_link(volunteer, now())
    return redirect(url_for(".edit_volunteer", user_id=user.id) + "#wechat")


@bp.post("/volunteers/<int:user_id>/unbind")
def unbind(user_id):
    """Forget the volunteer's WeChat (a new phone, a mistake): they bind again with a new QR code."""
    user = _volunteer(user_id)
    volunteer = team.profile_of(user)
    if volunteer is not None:
        binding.unbind(volunteer)
    session.pop(_bind_key(user), None)
    flash(f"已解除「{user.display_name}」的微信绑定", "success")
    return redirect(url_for(".edit_volunteer", user_id=user.id) + "#wechat")


@bp.get("/volunteers/<int:user_id>")
def edit_volunteer(user_id):
    """The profile form of one volunteer."""
    user = _volunteer(user_id)
    return _edit_page(user, team.profile_values(user, team.profile_of(user)))


@bp.post("/volunteers/<int:user_id>")
def save_volunteer(user_id):
    """Save a profile; any bad field re-shows the form with its message and saves nothing."""
    user = _volunteer(user_id)
    try:
        team.update_volunteer(user, request.form)
    except Invalid as exc:
        db.session.rollback()
        values = team.typed_values(request.form) | team.location_values(team.profile_of(user))
        return _edit_page(user, values, exc.fields or {"form": [exc.message]}, 422)
    flash(f"已保存「{user.display_name}」的资料", "success")
    return redirect(url_for(".volunteers", community=user.community.code if _managed_ids() is None else None))


@bp.post("/volunteers/<int:user_id>/active")
def set_active(user_id):
    """Deactivate (no login, not offered tasks) or reactivate a volunteer."""
    user = _volunteer(user_id)
    active = request.form.get("active") == "1"
    team.set_active(user, active)
    flash(f"已{'启用' if active else '停用'}队员「{user.display_name}」", "success")
    return redirect(url_for(".volunteers", community=user.community.code if _managed_ids() is None else None))


# ---- departments ----

def _departments_page(new=None, edits=None, errors=None, status=200):
    """Departments with their forms; new or edits hold typed values after a refusal."""
    rows = db.session.scalars(select(Department).order_by(Department.active.desc(), Department.code)).all()
    categories = db.session.scalars(select(Category).where(Category.active).order_by(Category.sort_order)).all()
    edits = edits or {}
    values = {d.id: edits.get(d.id) or _department_values(d) for d in rows}
    return render_template(
        "teams/departments.html", departments=rows, values=values, categories=categories,
        names={c.code: c.name for c in categories}, open_edit=next(iter(edits), None), errors=errors or {},
        new=new or {"code": "", "name": "", "categories": [], "contact_name": "", "phone": "", "active": True}), status


def _department_values(department):
    """A department as its edit form shows it."""
    return {"name": department.name, "categories": list(department.categories or []),
            "contact_name": department.contact_name or "", "phone": department.phone or "",
            "active": department.active}


def _typed_department(form):
    """What was typed in a department form, to show again."""
    return {key: form.get(key, "") for key in ("code", "name", "contact_name", "phone")} | {
        "categories": form.getlist("categories"), "active": form.get("active") == "1"}


@bp.get("/departments")
def departments():
    """Every department: code, name, categories handled, contact, phone, active."""
    _admin_only()
    return _departments_page()


@bp.post("/departments")
def add_department():
    """A new department."""
    _admin_only()
    try:
        department = team.save_department(request.form)
    except Invalid as exc:
        db.session.rollback()
        return _departments_page(new=_typed_department(request.form), errors=exc.fields, status=422)
    flash(f"已添加职能部门「{department.name}」", "success")
    return redirect(url_for(".departments"))


@bp.post("/departments/<int:department_id>")
def edit_department(department_id):
    """Save an edited department (its code stays)."""
    _admin_only()
    department = db.session.get(Department, department_id)
    if department is None:
        raise NotFound("找不到该部门")
    try:
        team.save_department(request.form, department)
    except Invalid as exc:
        db.session.rollback()
        return _departments_page(edits={department_id: _typed_department(request.form)}, errors=exc.fields,
                                 status=422)
    flash(f"已保存职能部门「{department.name}」", "success")
    return redirect(url_for(".departments"))


# ---- categories ----

def _categories_page(error=None, status=200):
    """Every category with its skills and auto-assign form."""
    rows = db.session.scalars(select(Category).order_by(Category.active.desc(), Category.sort_order)).all()
    return render_template("teams/categories.html", categories=rows, SKILLS=SKILLS, error=error), status


@bp.get("/categories")
def categories():
    """Each category's required skills and whether its new tickets are auto-assigned."""
    _admin_only()
    return _categories_page()


@bp.post("/categories/<code>")
def save_category(code):
    """Save one category's routing settings."""
    _admin_only()
    category = db.session.scalar(select(Category).where(Category.code == code))
    if category is None:
        raise NotFound("找不到该分类")
    try:
        team.save_category_routing(category, request.form)
    except Invalid as exc:
        db.session.rollback()
        return _categories_page(error="；".join(m for ms in exc.fields.values() for m in ms) or exc.message, status=422)
    state = "自动派单" if category.auto_assign else "人工派单"
    labels = "、".join(skill_labels(category.required_skills)) or "不限"
    flash(f"已保存「{category.name}」：所需技能 {labels}，{state}", "success")
    return redirect(url_for(".categories"))


# ---- the gazetteer (地名库): roads and 小区 names per community, for the district account ----

def _places_page(new=None, errors=None, status=200):
    """Every community's roads and 小区 names, or one community's (?community=), with the add form."""
    communities = db.session.scalars(select(Community).order_by(Community.street_id, Community.id)).all()
    chosen = _chosen_community(communities)
    shown = [chosen] if chosen else communities
    return render_template(
        "teams/places.html", communities=communities, shown=shown, chosen=chosen,
        places=gazetteer.places_by_community(shown), describe=gazetteer.describe, parities=gazetteer.PARITIES,
        new=new or {"community": chosen.code if chosen else "", "name": "", "first": "", "last": "",
                    "parity": "all", "position": ""}, errors=errors or {}), status


@bp.get("/places")
def places():
    """The gazetteer: which roads (and house numbers) and 小区 belong to which community."""
    _gazetteer_admin()
    return _places_page()


def _gazetteer_admin():
    if console_principal().role is not Role.DISTRICT_ADMIN:
        raise Forbidden("只有区管理员可以修改地名库")


@bp.post("/places")
def add_place():
    """A road with a house-number range, or a 小区 name, for a community."""
    _gazetteer_admin()
    typed = {key: (request.form.get(key) or "").strip()
             for key in ("community", "name", "first", "last", "parity", "position")}
    community = db.session.scalar(select(Community).where(Community.code == typed["community"]))
    try:
        if community is None:
            raise Invalid("地名填写有误", fields={"community": ["请选择这条路属于哪个社区"]})
        row = gazetteer.add_place(community, request.form)
    except Invalid as exc:
        db.session.rollback()
        return _places_page(new=typed, errors=exc.fields, status=422)
    flash(f"已把「{row.name} {gazetteer.describe(row)}」加入{community.name}", "success")
    return redirect(url_for(".places", community=community.code))


@bp.post("/places/<int:place_id>/delete")
def remove_place(place_id):
    """Take a row out of the gazetteer."""
    _gazetteer_admin()
    row = db.session.get(PlaceName, place_id)
    if row is None:
        raise NotFound("找不到这条地名，可能已经删除了")
    community = db.session.get(Community, row.community_id)
    db.session.delete(row)
    db.session.commit()
    flash(f"已从{community.name}删除「{row.name} {gazetteer.describe(row)}」", "success")
    return redirect(url_for(".places", community=community.code))
