"""Staff accounts: the rules of usernames and passwords, who may manage whose account, and the changes (create,
reset a password, disable, enable) that the console's 账号管理 page and `flask users` both make through here.

Who manages whom: the district admin every account; a street supervisor the directors, staff and volunteers
of their street's communities; a community director their own community's staff and volunteers. Nobody
manages their own account here (an admin cannot lock themselves out by a slip)."""
import re
import secrets

from sqlalchemy import case, false, or_, select

from dispatch.errors import Forbidden, Invalid, NotFound
from dispatch.extensions import db
from dispatch.org.models import Community, Department, Street, User
from dispatch.org.roles import ROLE_SCOPE, Role

USERNAME = re.compile(r"[a-z0-9][a-z0-9_.-]{2,63}")
USERNAME_RULE = "用户名为 3–64 位小写字母、数字、点、下划线或短横线，以字母或数字开头"
MIN_PASSWORD = 8
PHONE = re.compile(r"[0-9+\- ]{5,32}")
MAX_PASSWORD = 128
# A temporary password is read aloud or copied by hand: no 0/O, 1/l/I.
TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
TEMPORARY_LENGTH = 10
UNIT_WORDS = {"street": "街道", "community": "社区", "department": "部门"}
MANAGED_BY = {
    Role.DISTRICT_ADMIN: tuple(Role),
    Role.STREET_SUPERVISOR: (Role.COMMUNITY_DIRECTOR, Role.COMMUNITY_STAFF, Role.VOLUNTEER),
    Role.COMMUNITY_DIRECTOR: (Role.COMMUNITY_STAFF, Role.VOLUNTEER),
}


def password_problem(password, username=None, what="初始密码"):
    """Why a password is refused, in words a person can act on; None when it is acceptable."""
    password = password or ""
    if len(password) < MIN_PASSWORD:
        return f"{what}至少 {MIN_PASSWORD} 位" + (f"，现在只有 {len(password)} 位" if password else "")
    if len(password) > MAX_PASSWORD:
        return f"{what}最多 {MAX_PASSWORD} 位"
    if username and password.lower() == username.lower():
        return f"{what}不能和用户名相同"
    if len(set(password)) == 1:
        return f"{what}不能全是同一个字符"
    return None


def account_problems(username, password):
    """{field: [message]} for a username or password that breaks the rules; empty when both pass."""
    problems = {}
    if not USERNAME.fullmatch(username or ""):
        problems["username"] = [USERNAME_RULE]
    problem = password_problem(password, username)
    if problem:
        problems["password"] = [problem]
    return problems


def _refuse(problems, summary=None):
    if problems:
        raise Invalid(summary or "；".join(text for texts in problems.values() for text in texts), fields=problems)


def check_account(username, password):
    """Refuse (422) a username or password that breaks the rules, with the console's messages."""
    _refuse(account_problems(username, password))


def temporary_password():
    """A random password to hand over once; the person changes it or the admin resets it again."""
    return "".join(secrets.choice(TEMPORARY_ALPHABET) for _ in range(TEMPORARY_LENGTH))


# ---- who may manage whom ----

def roles_managed_by(actor):
    """The roles whose accounts this caller may create and manage (empty: none)."""
    return MANAGED_BY.get(actor.role, ())


def _in_reach(actor):
    """The SQL condition on users (joined to their community) for the accounts this caller may manage."""
    roles = roles_managed_by(actor)
    if not roles:
        return false()
    condition = User.role.in_(roles) & (User.id != (actor.user_id or -1))
    if actor.role is Role.STREET_SUPERVISOR:
        condition &= User.community_id.in_(select(Community.id).where(Community.street_id == actor.street_id))
    elif actor.role is Role.COMMUNITY_DIRECTOR:
        condition &= User.community_id == actor.community_id
    return condition


def may_manage(actor, user):
    """Whether the caller may reset, disable or enable this account."""
    return db.session.scalar(select(User.id).where(User.id == user.id, _in_reach(actor))) is not None


def managed_account(actor, user_id):
    """An account the caller may manage, else NotFound (out of reach looks like missing)."""
    user = db.session.get(User, user_id)
    if user is None or not may_manage(actor, user):
        raise NotFound("找不到该账号，或者它不归您管理")
    return user


def accounts(actor, query="", role=None, limit=200):
    """The accounts the caller manages, found by name, username or unit; disabled ones after the active."""
    if not roles_managed_by(actor):
        raise Forbidden("您没有管理账号的权限")
    statement = (select(User).outerjoin(Community, Community.id == User.community_id)
                 .outerjoin(Street, Street.id == User.street_id)
                 .outerjoin(Department, Department.id == User.department_id).where(_in_reach(actor)))
    if role is not None:
        statement = statement.where(User.role == role)
    words = (query or "").strip()[:40]
    if words:
        like = f"%{words}%"
        statement = statement.where(or_(User.username.ilike(like), User.display_name.like(like),
                                        Community.name.like(like), Street.name.like(like),
                                        Department.name.like(like), User.phone.like(like)))
    rank = case({role.value: index for index, role in enumerate(Role)}, value=User.role, else_=len(Role))
    statement = statement.order_by(User.active.desc(), rank, Street.code, Community.code, Department.code,
                                   User.username).limit(limit + 1)
    found = db.session.scalars(statement).all()
    return found[:limit], len(found) > limit


def units_for(actor):
    """{scope kind: [units]} the caller may put an account in: streets, communities, departments."""
    if actor.role is Role.DISTRICT_ADMIN:
        communities = select(Community)
    elif actor.role is Role.STREET_SUPERVISOR:
        communities = select(Community).where(Community.street_id == actor.street_id)
    elif actor.role is Role.COMMUNITY_DIRECTOR:
        communities = select(Community).where(Community.id == actor.community_id)
    else:
        return {"street": [], "community": [], "department": []}
    admin = actor.role is Role.DISTRICT_ADMIN
    return {
        "street": db.session.scalars(select(Street).order_by(Street.code)).all() if admin else [],
        "community": db.session.scalars(communities.order_by(Community.street_id, Community.code)).all(),
        "department": db.session.scalars(select(Department).where(Department.active)
                                         .order_by(Department.code)).all() if admin else [],
    }


def unit_of(user):
    """The street, community or department an account belongs to, or None (the district)."""
    return user.street or user.community or user.department


def _units_given(role, units):
    """The one unit the role needs, checked; Invalid naming the field otherwise."""
    scope = ROLE_SCOPE[role]
    given = {kind for kind, unit in units.items() if unit is not None}
    if scope is None and given:
        raise Invalid(f"{role.label}属于全区，不选街道、社区或部门", fields={"unit": ["区管理员不属于某个街道、社区或部门"]})
    if scope is not None and given != {scope}:
        raise Invalid(f"{role.label}需要选择所属{UNIT_WORDS[scope]}", fields={scope: [f"请选择{UNIT_WORDS[scope]}"]})
    return units.get(scope) if scope else None


def _check_reach(actor, role, unit):
    """Refuse (403) an account the caller may not make: a role above them, or a unit outside their scope."""
    if role not in roles_managed_by(actor):
        raise Forbidden(f"您不能创建或修改{role.label}的账号")
    if actor.role is Role.DISTRICT_ADMIN:
        return
    if not isinstance(unit, Community) or unit.id not in {c.id for c in units_for(actor)["community"]}:
        raise Forbidden("只能管理您所辖社区的账号")


def save_account(actor, username, role, password, display_name=None, *, street=None, community=None,
                 department=None, phone=None, update=False):
    """Create a staff account (or, with update=True as the CLI does, update the one with that username).

    The same checks for every door: the username and password rules, the role's one unit, and the caller's
    reach. Returns (user, created); nothing is written when anything is refused."""
    try:
        role = Role(role)
    except ValueError:
        raise Invalid("请选择角色", fields={"role": ["请从列表中选择角色"]}) from None
    unit = _units_given(role, {"street": street, "community": community, "department": department})
    _check_reach(actor, role, unit)
    username = (username or "").strip()
    problems = account_problems(username, password)
    display_name = (display_name or "").strip()
    if len(display_name) > 64:
        problems["display_name"] = ["姓名不超过 64 字"]
    if phone and not PHONE.fullmatch(phone):
        problems["phone"] = ["电话只能包含数字、空格、+ 和 -（5–32 位）"]
    user = db.session.scalar(select(User).where(User.username == username)) if username else None
    if user is not None and not update:
        problems.setdefault("username", []).append(f"用户名「{username}」已被使用，请换一个")
    _refuse(problems)
    created = user is None
    if created:
        user = User(username=username, active=True)
        db.session.add(user)
    user.role, user.display_name = role, display_name or user.display_name or username
    user.street, user.community, user.department = street, community, department
    if phone is not None:
        user.phone = phone or None
    user.set_password(password)
    db.session.commit()
    return user, created


def reset_password(actor, user, password=None):
    """A new password for someone's account: the one given (checked), or a temporary one. Returns it, to show once."""
    if not may_manage(actor, user):
        raise NotFound("找不到该账号，或者它不归您管理")
    password = password or temporary_password()
    problem = password_problem(password, user.username, what="新密码")
    if problem:
        raise Invalid(problem, fields={"password": [problem]})
    user.set_password(password)
    db.session.commit()
    return password


def set_active(actor, user, active):
    """Disable (no login; sessions already open stop at their next page) or enable an account."""
    if not may_manage(actor, user):
        raise NotFound("找不到该账号，或者它不归您管理")
    user.active = bool(active)
    db.session.commit()
    return user
