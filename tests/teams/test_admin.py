"""The team console: directors manage their 365 team, admins departments and category routing; others are refused."""
import pytest
from sqlalchemy import func, select

from dispatch.extensions import db
from dispatch.intake.models import PlaceName
from dispatch.org.models import Department, User
from dispatch.org.roles import Role
from dispatch.org.services import authenticate
from dispatch.teams.admin_services import parse_leave
from dispatch.teams.models import Volunteer
from dispatch.tickets.models import Assignment, Category
from tests.conftest import csrf_from, login

PAGE = "/teams/volunteers"


def _form(token, **overrides):
    """A complete, valid volunteer form."""
    form = {"csrf_token": token, "username": "v-new", "password": "longenough-1", "display_name": "赵师傅",
            "phone": "13800001111", "skills": ["electrical", "plumbing"],
            "leave": "2026-11-23 至 2026-11-25\n2026-12-01",
            "max_tasks": "4", "serves_street": "1", "address": "盐城路5号3单元",
            **{f"hours_{d}": "08:30-11:30,14:00-17:00" for d in range(5)}, "hours_5": "09:00-12:00", "hours_6": ""}
    return form | overrides


def _volunteers():
    return db.session.scalar(select(func.count()).select_from(Volunteer))


@pytest.fixture(autouse=True)
def places(org):
    """The gazetteer knows where 盐城路 is."""
    db.session.add(PlaceName(community_id=org.c1.id, name="盐城路", latitude=36.06, longitude=120.38))
    db.session.commit()


@pytest.fixture
def director(client, org):
    login(client, "director")
    return client


@pytest.fixture
def admin(client, org):
    login(client, "admin")
    return client


def test_director_sees_own_team_with_tasks_hours_leave_and_openid(director, org, make_ticket, clock):
    db.session.add(Volunteer(user=org.volunteer, skills=["electrical"], max_tasks=3, openid="oVol000001",
                             weekly_hours=["08:00-12:00"] * 5 + ["", ""], leave=[["2026-11-19", "2026-11-21"]]))
    ticket = make_ticket()
    db.session.add(Assignment(ticket=ticket, user_id=org.volunteer.id, dispatched_at=clock()))
    db.session.commit()
    page = director.get(PAGE).get_data(as_text=True)
    assert "李师傅" in page and "王师傅" not in page  # volunteer2 is in another community
    row = _row(page, "volunteer")
    assert "电工维修" in row and "<strong>周五 08:00-12:00</strong>" in row
    assert 'data-standing="leave">请假（到11月21日）' in row  # the same standing as the dispatch lists
    assert "在办 1/3" in row and "已绑定" in row


def _row(page, username):
    """The table row of one volunteer."""
    start = page.index(f'data-volunteer="{username}"')
    return page[start:page.index("</tr>", start)]


def test_a_volunteer_without_a_profile_is_listed_as_such(director, org):
    assert "尚未建立队员档案" in _row(director.get(PAGE).get_data(as_text=True), "volunteer")


def test_director_adds_a_volunteer_who_can_log_in(director, org):
    response = director.post(PAGE, data=_form(csrf_from(director, PAGE)))
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.username == "v-new"))
    assert (user.role, user.community_id, user.active) == (Role.VOLUNTEER, org.c1.id, True)
    profile = db.session.scalar(select(Volunteer).where(Volunteer.user_id == user.id))
    assert profile.skills == ["electrical", "plumbing"] and profile.max_tasks == 4 and profile.serves_street
    assert profile.weekly_hours[5] == "09:00-12:00" and profile.weekly_hours[6] == ""
    assert profile.leave == [["2026-11-23", "2026-11-25"], ["2026-12-01", "2026-12-01"]]
    assert (profile.latitude, profile.longitude, profile.location_label) == (36.06, 120.38, "盐城路5号")
    assert profile.openid is None  # WeChat is bound by the volunteer scanning a QR code, never typed
    assert authenticate("v-new", "longenough-1") is not None
    assert "已添加队员「赵师傅」" in director.get(PAGE).get_data(as_text=True)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("hours_2", "8点到12点", "周三：时间「8点到12点」应写成 08:30 这样"),
    ("hours_0", "12:00-08:00", "结束时间应晚于开始时间"),
    ("leave", "2026-11-25 至 2026-11-23", "结束日期早于开始日期"),
    ("leave", "下周一", "应写成 2026-11-23 这样"),
    ("max_tasks", "0", "同时承接任务数应为 1 到 20 的整数"),
    ("max_tasks", "21", "同时承接任务数应为 1 到 20 的整数"),
    ("address", "火星路1号", "地名库里找不到「火星路1号」的位置"),
    ("username", "volunteer", "用户名「volunteer」已被使用"),
    ("password", "short", "初始密码至少 8 位"),
])
def test_a_bad_add_form_is_refused_with_a_message_and_nothing_saved(director, field, value, message):
    users, profiles = db.session.scalar(select(func.count()).select_from(User)), _volunteers()
    response = director.post(PAGE, data=_form(csrf_from(director, PAGE), **{field: value}))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == users and _volunteers() == profiles


def test_several_bad_fields_are_all_named(director):
    form = _form(csrf_from(director, PAGE), hours_1="25:00-26:00", max_tasks="abc", username="")
    page = director.post(PAGE, data=form).get_data(as_text=True)
    assert "周二：" in page and "同时承接任务数" in page and "用户名为" in page
    assert 'value="赵师傅"' in page  # what was typed is shown again


def test_director_edits_a_profile(director, org):
    url = f"/teams/volunteers/{org.volunteer.id}"
    form = _form(csrf_from(director, url), display_name="李师傅", skills=["haircut"], max_tasks="2",
                 serves_street="", address="", clear_location="1", leave="2026-11-30")
    assert director.post(url, data=form).status_code == 302
    profile = db.session.scalar(select(Volunteer).where(Volunteer.user_id == org.volunteer.id))
    assert profile.skills == ["haircut"] and profile.max_tasks == 2 and not profile.serves_street
    assert profile.openid is None and profile.latitude is None and profile.leave == [["2026-11-30", "2026-11-30"]]
    page = director.get(url).get_data(as_text=True)
    assert "2026-11-30" in page and 'value="2"' in page


def test_a_bad_edit_saves_nothing(director, org):
    db.session.add(Volunteer(user=org.volunteer, skills=["electrical"], max_tasks=3))
    db.session.commit()
    url = f"/teams/volunteers/{org.volunteer.id}"
    response = director.post(url, data=_form(csrf_from(director, url), skills=["haircut"], max_tasks="99"))
    assert response.status_code == 422 and "同时承接任务数应为 1 到 20 的整数" in response.get_data(as_text=True)
    db.session.expire_all()
    profile = db.session.scalar(select(Volunteer).where(Volunteer.user_id == org.volunteer.id))
    assert profile.skills == ["electrical"] and profile.max_tasks == 3


def test_director_cannot_touch_another_communitys_volunteer(director, org):
    url = f"/teams/volunteers/{org.volunteer2.id}"
    assert director.get(url).status_code == 404
    token = csrf_from(director, PAGE)
    assert director.post(url, data=_form(token)).status_code == 404
    assert director.post(url + "/active", data={"csrf_token": token, "active": "0"}).status_code == 404
    assert director.get(f"/teams/volunteers/{org.staff.id}").status_code == 404  # not a volunteer at all


def test_deactivate_and_reactivate(director, org):
    url = f"/teams/volunteers/{org.volunteer.id}/active"
    token = csrf_from(director, PAGE)
    assert director.post(url, data={"csrf_token": token, "active": "0"}).status_code == 302
    assert authenticate("volunteer", "correct-horse-9") is None
    assert "已停用" in director.get(PAGE).get_data(as_text=True)
    director.post(url, data={"csrf_token": token, "active": "1"})
    assert authenticate("volunteer", "correct-horse-9") is not None


def test_admin_sees_all_teams_filters_and_adds_in_a_chosen_community(admin, org):
    page = admin.get(PAGE).get_data(as_text=True)
    assert "李师傅" in page and "王师傅" in page
    assert "王师傅" not in admin.get(PAGE + "?community=yanchenglu").get_data(as_text=True)
    assert admin.get(PAGE + "?community=nowhere").status_code == 404
    token = csrf_from(admin, PAGE)
    assert admin.post(PAGE, data=_form(token)).status_code == 422  # no community chosen
    assert admin.post(PAGE, data=_form(token, community="fuzhoulu")).status_code == 302
    assert db.session.scalar(select(User).where(User.username == "v-new")).community_id == org.c2.id


def test_street_supervisor_views_the_streets_teams_only(client, org):
    login(client, "street")
    page = client.get(PAGE).get_data(as_text=True)
    assert "李师傅" in page and "王师傅" in page and "添加队员" not in page
    assert client.get(PAGE + "?community=xiangganghuayuan").status_code == 404  # another street
    assert client.get(f"/teams/volunteers/{org.volunteer.id}").status_code == 403


@pytest.mark.parametrize("username", ["volunteer", "dept"])
@pytest.mark.parametrize("url", [PAGE, "/teams/departments", "/teams/categories"])
def test_volunteers_and_departments_are_refused(client, org, username, url):
    login(client, username)
    assert client.get(url).status_code == 403


def test_director_may_not_manage_departments_or_categories(director):
    assert director.get("/teams/departments").status_code == 403
    assert director.get("/teams/categories").status_code == 403


def test_admin_adds_and_edits_departments(admin, org):
    url = "/teams/departments"
    token = csrf_from(admin, url)
    form = {"csrf_token": token, "code": "gas", "name": "燃气营业所", "categories": ["gas_heating"],
            "contact_name": "孙经理", "phone": "0532-88880000", "active": "1"}
    assert admin.post(url, data=form).status_code == 302
    gas = db.session.scalar(select(Department).where(Department.code == "gas"))
    assert (gas.categories, gas.contact_name, gas.phone, gas.active) == (["gas_heating"], "孙经理", "0532-88880000", True)
    edit = {"csrf_token": token, "name": "市南供水", "categories": ["water_power", "lighting"], "contact_name": "",
            "phone": ""}
    assert admin.post(f"{url}/{org.water.id}", data=edit).status_code == 302
    db.session.expire_all()
    assert (org.water.name, org.water.categories, org.water.active) == ("市南供水", ["water_power", "lighting"], False)
    page = admin.get(url).get_data(as_text=True)
    assert "燃气营业所" in page and "已停用" in page


def test_a_bad_department_form_is_refused(admin, org):
    url = "/teams/departments"
    token = csrf_from(admin, url)
    response = admin.post(url, data={"csrf_token": token, "code": "water", "name": "", "categories": ["nope"],
                                     "phone": "abc"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "代码「water」已被使用" in page and "请填写部门名称" in page and "未知或已停用的分类" in page
    assert db.session.scalar(select(func.count()).select_from(Department)) == 1
    assert admin.post(f"{url}/999", data={"csrf_token": token, "name": "x"}).status_code == 404


def test_admin_sets_category_skills_and_auto_assign(admin):
    url = "/teams/categories"
    token = csrf_from(admin, url)
    form = {"csrf_token": token, "skills": ["electrical", "appliance"], "auto_assign": "1"}
    assert admin.post(f"{url}/lighting", data=form).status_code == 302
    lighting = db.session.scalar(select(Category).where(Category.code == "lighting"))
    assert lighting.required_skills == ["electrical", "appliance"] and lighting.auto_assign
    assert "自动派单" in admin.get(url).get_data(as_text=True)
    assert admin.post(f"{url}/lighting", data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert lighting.required_skills == [] and not lighting.auto_assign
    bad = admin.post(f"{url}/lighting", data={"csrf_token": token, "skills": ["juggling"]})
    assert bad.status_code == 422 and "未知的技能" in bad.get_data(as_text=True)
    assert admin.post(f"{url}/nope", data={"csrf_token": token}).status_code == 404


def test_parse_leave_accepts_single_days_and_ranges():
    assert parse_leave("2026-11-23 至 2026-11-25\n\n2026-11-20\n2026-12-01~2026-12-02") == [
        ["2026-11-20", "2026-11-20"], ["2026-11-23", "2026-11-25"], ["2026-12-01", "2026-12-02"]]
    with pytest.raises(ValueError):
        parse_leave("2026-11-23 至 2026-11-25 至 2026-11-26")


def test_a_department_needs_no_code_from_the_admin_and_the_list_shows_none(admin, org):
    url = "/teams/departments"
    token = csrf_from(admin, url)
    response = admin.post(url, data={"csrf_token": token, "name": "市南区园林绿化中心", "phone": "0532-1234567"})
    assert response.status_code == 302
    code = db.session.scalar(select(Department.code).where(Department.name == "市南区园林绿化中心"))
    assert code.startswith("dept-")
    assert code not in admin.get(url).get_data(as_text=True).replace(f'data-department="{code}"', "")
