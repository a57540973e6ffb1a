"""Managing the 365 teams, departments and category routing: forms checked into clean values, then saved."""
import itertools
import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from dispatch.errors import Invalid
from dispatch.extensions import db
from dispatch.intake import gazetteer
from dispatch.org.accounts import account_problems
from dispatch.org.models import Community, Department, User
from dispatch.org.roles import Role
from dispatch.teams.models import Volunteer
from dispatch.teams.routing import Standing, parse_hours, standing
from dispatch.teams.services import as_candidate
from dispatch.teams.skills import SKILLS, WEEKDAYS
from dispatch.tickets.models import Assignment, Category

CODE = re.compile(r"^[a-z][a-z0-9_-]{1,31}$")
PHONE = re.compile(r"^[0-9+\- ]{5,32}$")
LEAVE_SEPARATORS = re.compile(r"\s*(?:至|到|~|～|—|--)\s*")
MAX_TASKS = (1, 20)
DEFAULT_HOURS = ["08:30-11:30,14:00-17:00"] * 5 + ["", ""]


def _text(form, name):
    """A form field, trimmed."""
    return (form.get(name) or "").strip()


def _check(errors, summary):
    """Raise one Invalid naming every field that is wrong."""
    if errors:
        raise Invalid(summary, fields=errors)


# ---- volunteers ----

def _skills(form, errors):
    codes = form.getlist("skills")
    unknown = [code for code in codes if code not in SKILLS]
    if unknown:
        errors["skills"] = [f"未知的技能「{'、'.join(unknown)}」"]
    return [code for code in SKILLS if code in codes]


def _week(form, errors):
    """Seven hour fields hours_0 … hours_6, each checked by routing's parser and stored tidied."""
    week = []
    for day in range(7):
        text = _text(form, f"hours_{day}")
        try:
            spans = parse_hours(text)
        except ValueError as exc:
            errors[f"hours_{day}"] = [f"{WEEKDAYS[day]}：{exc}"]
            spans = ()
        week.append(",".join(f"{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}" for a, b in spans))
    return week


def _day(text):
    """A date from 'YYYY-MM-DD', or ValueError in Chinese."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"日期「{text.strip()}」应写成 2026-11-23 这样") from None


def parse_leave(text):
    """Lines of '2026-11-23 至 2026-11-25' or one date → [[first, last], …] sorted; bad lines raise ValueError."""
    periods = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        parts = LEAVE_SEPARATORS.split(line)
        if len(parts) > 2:
            raise ValueError(f"「{line}」应写成「2026-11-23 至 2026-11-25」或一个日期")
        first, last = _day(parts[0]), _day(parts[-1])
        if last < first:
            raise ValueError(f"「{line}」的结束日期早于开始日期")
        periods.append([first.isoformat(), last.isoformat()])
    return sorted(periods)


def format_leave(periods):
    """Stored leave periods as the form's text lines."""
    return "\n".join(a if a == b else f"{a} 至 {b}" for a, b in periods or ())


def _leave(form, errors):
    """The leave text lines, checked."""
    try:
        return parse_leave(form.get("leave"))
    except ValueError as exc:
        errors["leave"] = [str(exc)]
        return []


def _cap(form, errors):
    """The task cap, an integer in MAX_TASKS."""
    text = _text(form, "max_tasks")
    low, high = MAX_TASKS
    if not text.isdigit() or not low <= int(text) <= high:
        errors["max_tasks"] = [f"同时承接任务数应为 {low} 到 {high} 的整数"]
        return low
    return int(text)


def _location(form, errors):
    """The volunteer's position from an address the gazetteer knows ({} when none typed: the old one stays, unless
    asked to clear it)."""
    address = " ".join(_text(form, "address").split())[:200]
    if not address:
        cleared = form.get("clear_location") == "1"
        return {"latitude": None, "longitude": None, "location_label": None} if cleared else {}
    found = gazetteer.locate(address)
    if found is None:
        errors["address"] = [
            f"地名库里有「{address}」所在的路或小区，但还没有标注位置。请区管理员在「地名库」里补上位置，或者先留空"
            if gazetteer.find(address).community is not None else
            f"地名库里找不到「{address}」的位置。请写路名和门牌号（如 古田路16号）或小区名，"
            "也可以从列表里选一个地点；不需要按距离推荐时请留空"]
        return {}
    return {"latitude": found.latitude, "longitude": found.longitude, "location_label": found.label}


def profile_input(form):
    """The profile part of a volunteer form, cleaned; raises Invalid with a message per field."""
    errors = {}
    values = {"skills": _skills(form, errors), "weekly_hours": _week(form, errors), "leave": _leave(form, errors),
              "max_tasks": _cap(form, errors), "serves_street": form.get("serves_street") == "1",
              **_location(form, errors)}
    _check(errors, "队员资料填写有误")
    return values


def _person(form, errors):
    """Display name and phone, shared by the add and edit forms."""
    name, phone = _text(form, "display_name"), _text(form, "phone")
    if not name or len(name) > 64:
        errors["display_name"] = ["请填写姓名（不超过 64 字）"]
    if phone and not PHONE.match(phone):
        errors["phone"] = ["电话只能包含数字、空格、+ 和 -（5–32 位）"]
    return name, phone or None


def account_input(form):
    """The account part of the add form: username, name, phone, initial password."""
    username, password = _text(form, "username").lower(), form.get("password") or ""
    errors = account_problems(username, password)
    if "username" not in errors and db.session.scalar(select(User.id).where(User.username == username)) is not None:
        errors["username"] = [f"用户名「{username}」已被使用"]
    name, phone = _person(form, errors)
    _check(errors, "队员账号填写有误")
    return {"username": username, "display_name": name, "phone": phone, "password": password}


def _both(first, second):
    """Run two checks and raise one Invalid with the fields of both."""
    results, errors = [], {}
    for check in (first, second):
        try:
            results.append(check())
        except Invalid as exc:
            errors |= exc.fields
            results.append(None)
    _check(errors, "队员信息填写有误")
    return results


def add_volunteer(community, form):
    """Create a volunteer user in a community with their profile, or save nothing."""
    account, profile = _both(lambda: account_input(form), lambda: profile_input(form))
    user = User(username=account["username"], display_name=account["display_name"], phone=account["phone"],
                role=Role.VOLUNTEER, community=community, active=True)
    user.set_password(account["password"])
    db.session.add(user)
    db.session.add(Volunteer(user=user, **profile))
    db.session.commit()
    return user


def update_volunteer(user, form):
    """Save an edited profile (and name, phone); creates the profile if the user had none."""
    def person():
        errors = {}
        found = _person(form, errors)
        _check(errors, "队员信息填写有误")
        return found
    (name, phone), profile = _both(person, lambda: profile_input(form))
    user.display_name, user.phone = name, phone
    volunteer = profile_of(user) or Volunteer(user=user)
    for key, value in profile.items():
        setattr(volunteer, key, value)
    db.session.add(volunteer)
    db.session.commit()
    return volunteer


def set_active(user, active):
    """Deactivate (no login, no new tasks) or reactivate a volunteer."""
    user.active = active
    db.session.commit()


def new_profile(user):
    """An empty profile for a volunteer who has none yet (weekday office hours, a cap of 3)."""
    volunteer = Volunteer(user=user, skills=[], weekly_hours=list(DEFAULT_HOURS), leave=[], max_tasks=3)
    db.session.add(volunteer)
    db.session.flush()
    return volunteer


def profile_of(user):
    """A volunteer user's profile, or None."""
    return db.session.scalar(select(Volunteer).where(Volunteer.user_id == user.id))


def volunteer_in(user_id, community_ids):
    """A volunteer user inside the given communities (None: all), or None."""
    query = select(User).where(User.id == user_id, User.role == Role.VOLUNTEER)
    if community_ids is not None:
        query = query.where(User.community_id.in_(community_ids))
    return db.session.scalar(query)


@dataclass
class TeamRow:
    """One line of the team table."""

    user: User
    volunteer: Volunteer | None
    open_tasks: int
    standing: Standing | None  # 在岗 / 请假 / 不在班 now (teams.routing.standing); None: no profile


def team(community_ids, at):
    """Volunteers of these communities (None: all), with open task counts and where they stand at a local time."""
    query = (select(User, Volunteer).outerjoin(Volunteer, Volunteer.user_id == User.id).join(User.community)
             .where(User.role == Role.VOLUNTEER).order_by(Community.code, User.active.desc(), User.username))
    if community_ids is not None:
        query = query.where(User.community_id.in_(community_ids))
    rows = db.session.execute(query).all()
    counts = dict(db.session.execute(select(Assignment.user_id, func.count()).where(
        Assignment.user_id.in_([u.id for u, _ in rows]), Assignment.ended_at.is_(None))
        .group_by(Assignment.user_id)).all())
    return [TeamRow(user, v, counts.get(user.id, 0), _standing(user, v, counts.get(user.id, 0), at))
            for user, v in rows]


def _standing(user, volunteer, open_tasks, at):
    candidate = as_candidate(user, volunteer, open_tasks)
    return standing(candidate, None, at) if candidate else None


def profile_values(user, volunteer):
    """What the edit form shows for a volunteer."""
    v = volunteer
    hours = list(v.weekly_hours or []) if v else DEFAULT_HOURS
    return {"display_name": user.display_name, "phone": user.phone or "", "skills": list(v.skills or []) if v else [],
            **{f"hours_{d}": (hours[d] if d < len(hours) else "") for d in range(7)},
            "leave": format_leave(v.leave) if v else "", "max_tasks": v.max_tasks if v else 3,
            "serves_street": bool(v and v.serves_street), "address": "", **location_values(v)}


def location_values(volunteer):
    """What the form says of the stored position: the place it came from, and whether there is one at all."""
    v = volunteer
    return {"located": (v.location_label or "") if v else "", "positioned": bool(v and v.latitude is not None)}


def blank_values():
    """What the add form starts with: weekday office hours, a cap of 3."""
    return {"username": "", "display_name": "", "phone": "", "skills": [], "leave": "", "max_tasks": 3,
            "serves_street": False, "address": "", "located": "", "positioned": False,
            **{f"hours_{d}": DEFAULT_HOURS[d] for d in range(7)}}


def typed_values(form):
    """What was typed, to show again after a refusal."""
    keys = ["username", "display_name", "phone", "leave", "max_tasks", "address",
            *(f"hours_{d}" for d in range(7))]
    return {key: form.get(key, "") for key in keys} | {
        "skills": form.getlist("skills"), "serves_street": form.get("serves_street") == "1"}


# ---- departments and categories ----

def _categories(form, name, errors):
    """Checked category codes, each an active category."""
    active = set(db.session.scalars(select(Category.code).where(Category.active)))
    codes = form.getlist(name)
    unknown = [code for code in codes if code not in active]
    if unknown:
        errors[name] = [f"未知或已停用的分类「{'、'.join(unknown)}」"]
    return [code for code in dict.fromkeys(codes) if code in active]


def _free_department_code():
    """A code for a department whose admin left it blank: other systems need one, people need not see it."""
    taken = set(db.session.scalars(select(Department.code)))
    return next(code for n in itertools.count(len(taken) + 1) if (code := f"dept-{n}") not in taken)


def department_input(form, department=None):
    """The department form, cleaned: code (new only), name, categories, contact, phone, active."""
    errors = {}
    values = {"name": _text(form, "name"), "categories": _categories(form, "categories", errors),
              "contact_name": _text(form, "contact_name") or None, "phone": _text(form, "phone") or None,
              "active": form.get("active") == "1"}
    if department is None:
        code = _text(form, "code").lower() or _free_department_code()
        if not CODE.match(code):
            errors["code"] = ["代码为 2–32 位小写字母、数字、下划线或短横线，以字母开头"]
        elif db.session.scalar(select(Department.id).where(Department.code == code)) is not None:
            errors["code"] = [f"代码「{code}」已被使用"]
        values["code"] = code
    if not values["name"] or len(values["name"]) > 64:
        errors["name"] = ["请填写部门名称（不超过 64 字）"]
    if values["contact_name"] and len(values["contact_name"]) > 64:
        errors["contact_name"] = ["联系人不超过 64 字"]
    if values["phone"] and not PHONE.match(values["phone"]):
        errors["phone"] = ["电话只能包含数字、空格、+ 和 -（5–32 位）"]
    _check(errors, "部门信息填写有误")
    return values


def save_department(form, department=None):
    """Add a department, or save an edit; nothing is written when the form is refused."""
    values = department_input(form, department)
    department = department or Department()
    for key, value in values.items():
        setattr(department, key, value)
    db.session.add(department)
    db.session.commit()
    return department


def save_category_routing(category, form):
    """A category's required skills and whether its NEW tickets are auto-assigned."""
    errors = {}
    skills = _skills(form, errors)
    _check(errors, f"「{category.name}」的派单设置有误")
    category.required_skills, category.auto_assign = skills, form.get("auto_assign") == "1"
    db.session.commit()
    return category
