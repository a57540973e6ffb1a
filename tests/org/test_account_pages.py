"""账号管理 in the console: create, reset and disable staff accounts within the caller's reach."""
import re

import pytest
from flask import g
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.org.models import User
from dispatch.org.roles import Role
from dispatch.org.services import authenticate
from tests.conftest import PASSWORD, csrf_from, login

PAGE = "/accounts"


def _user(username):
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == username))


def _role_options(page):
    """The labels the role list offers."""
    select_ = page[page.index('name="role"'):]
    return re.findall(r'<option value="[a-z_]+"[^>]*>([^<]+)</option>', select_[:select_.index("</select>")])


def _create(client, **fields):
    token = csrf_from(client, f"{PAGE}/new")
    return client.post(f"{PAGE}/new", data={"csrf_token": token, **fields})


def test_admin_lists_every_account_with_role_and_scope_and_finds_by_name(client, org):
    login(client, "admin")
    page = client.get(PAGE).get_data(as_text=True)
    assert "盐城路主任" in page and "社区主任" in page and "盐城路社区" in page and "湛山街道" in page
    assert 'data-account="admin"' not in page  # one's own account is not managed here
    found = client.get(PAGE, query_string={"q": "香港花园"}).get_data(as_text=True)
    assert 'data-account="staff3"' in found and 'data-account="director"' not in found
    by_role = client.get(PAGE, query_string={"role": "department_user"}).get_data(as_text=True)
    assert 'data-account="dept"' in by_role and 'data-account="street"' not in by_role


def test_admin_creates_a_director_with_a_temporary_password_shown_once(client, org):
    login(client, "admin")
    response = _create(client, display_name="周主任", username="zhou", role="community_director",
                       community=str(org.c2.id), street=str(org.streets[1].id))
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    password = re.search(r'class="secret">([^<]+)<', page).group(1)
    user = _user("zhou")
    assert (user.role, user.community_id, user.street_id) == (Role.COMMUNITY_DIRECTOR, org.c2.id, None)
    assert authenticate("zhou", password) is not None
    assert password not in client.get(response.location).get_data(as_text=True)  # only once


def test_the_form_offers_roles_in_chinese_and_refuses_a_missing_scope_or_a_weak_password(client, org):
    login(client, "admin")
    form = client.get(f"{PAGE}/new").get_data(as_text=True)
    assert _role_options(form) == ["区管理员", "街道督办员", "社区主任", "社区工作人员", "职能部门"]
    missing = _create(client, display_name="钱督办", username="qian", role="street_supervisor")
    assert missing.status_code == 422 and "请选择街道</p>" in missing.get_data(as_text=True)
    weak = _create(client, display_name="钱督办", username="qian", role="street_supervisor",
                   street=str(org.streets[0].id), password="1234567", password2="1234567")
    assert weak.status_code == 422 and "初始密码至少 8 位，现在只有 7 位" in weak.get_data(as_text=True)
    same = _create(client, display_name="钱督办", username="qian-1", role="street_supervisor",
                   street=str(org.streets[0].id), password="qian-1", password2="qian-1")
    assert "至少 8 位" in same.get_data(as_text=True)
    named = _create(client, display_name="钱督办", username="qianqian", role="street_supervisor",
                    street=str(org.streets[0].id), password="qianqian", password2="qianqian")
    assert named.status_code == 422 and "不能和用户名相同" in named.get_data(as_text=True)
    taken = _create(client, display_name="钱督办", username="director", role="street_supervisor",
                    street=str(org.streets[0].id))
    assert taken.status_code == 422 and "用户名「director」已被使用" in taken.get_data(as_text=True)
    assert _user("qian") is None and _user("qianqian") is None


def test_a_director_creates_staff_of_their_own_community_only(client, org):
    login(client, "director")
    form = client.get(f"{PAGE}/new").get_data(as_text=True)
    assert _role_options(form) == ["社区工作人员"]
    made = _create(client, display_name="孙社工", username="sun", role="community_staff",
                   community=str(org.c2.id))  # another community's id is refused, not silently used
    assert made.status_code == 403 and _user("sun") is None
    made = _create(client, display_name="孙社工", username="sun", role="community_staff", community=str(org.c1.id))
    assert made.status_code == 302 and _user("sun").community_id == org.c1.id


@pytest.mark.parametrize("role", ["district_admin", "street_supervisor", "community_director"])
def test_a_director_cannot_create_an_account_above_them(client, org, role):
    login(client, "director")
    response = _create(client, display_name="某人", username="someone", role=role, community=str(org.c1.id),
                       street=str(org.streets[0].id), password="longenough-1", password2="longenough-1")
    assert response.status_code == 422 and "请从列表中选择角色" in response.get_data(as_text=True)
    assert _user("someone") is None


def test_out_of_reach_accounts_are_missing_and_those_without_the_right_are_refused(client, org):
    login(client, "director")
    page = client.get(PAGE).get_data(as_text=True)
    assert 'data-account="staff"' in page and 'data-account="volunteer"' in page
    assert 'data-account="staff3"' not in page and 'data-account="admin"' not in page
    for user in (org.staff3, org.admin, org.street, org.volunteer2):
        assert client.get(f"{PAGE}/{user.id}").status_code == 404
    token = csrf_from(client, PAGE)
    assert client.post(f"{PAGE}/{org.staff3.id}/active", data={"csrf_token": token, "active": "0"}).status_code == 404
    assert _user("staff3").active
    client.post("/logout", data={"csrf_token": token})
    login(client, "staff")
    assert client.get(PAGE).status_code == 403
    assert client.get(f"{PAGE}/{org.volunteer.id}").status_code == 403


def test_a_street_supervisor_manages_their_streets_communities(client, org):
    login(client, "street")
    page = client.get(PAGE).get_data(as_text=True)
    assert 'data-account="director"' in page and 'data-account="volunteer2"' in page
    assert 'data-account="staff3"' not in page and 'data-account="dept"' not in page
    assert client.get(f"{PAGE}/{org.staff3.id}").status_code == 404
    made = _create(client, display_name="吴主任", username="wuzhuren", role="community_director", community=str(org.c2.id))
    assert made.status_code == 302
    other = _create(client, display_name="郑主任", username="zheng", role="community_director",
                    community=str(org.c3.id))
    assert other.status_code == 403 and _user("zheng") is None


def test_reset_password_to_a_temporary_one_or_a_chosen_one(client, org):
    login(client, "director")
    url = f"{PAGE}/{org.staff.id}"
    response = client.post(f"{url}/password", data={"csrf_token": csrf_from(client, url), "mode": "temporary"})
    password = re.search(r'class="secret">([^<]+)<', client.get(response.location).get_data(as_text=True)).group(1)
    assert authenticate("staff", PASSWORD) is None and authenticate("staff", password) is not None
    short = client.post(f"{url}/password", data={"csrf_token": csrf_from(client, url), "mode": "set",
                                                 "password": "abc", "password2": "abc"})
    assert short.status_code == 422 and "新密码至少 8 位，现在只有 3 位" in short.get_data(as_text=True)
    typo = client.post(f"{url}/password", data={"csrf_token": csrf_from(client, url), "mode": "set",
                                                "password": "new-pass-1", "password2": "new-pass-2"})
    assert typo.status_code == 422 and "两次输入的密码不一样" in typo.get_data(as_text=True)
    assert authenticate("staff", password) is not None
    client.post(f"{url}/password", data={"csrf_token": csrf_from(client, url), "mode": "set",
                                         "password": "new-pass-1", "password2": "new-pass-1"})
    assert authenticate("staff", "new-pass-1") is not None


def _fresh(response=None):
    """Forget the user and CSRF token kept on `g`: the tests share one app context, so two clients would share them."""
    g.pop("_login_user", None)
    g.pop("csrf_token", None)
    return response


def test_a_disabled_user_cannot_log_in_and_their_open_session_ends(app, client, org):
    other = app.test_client()
    login(other, "staff")
    assert other.get("/").status_code == 200
    _fresh()
    login(client, "director")
    url = f"{PAGE}/{org.staff.id}"
    response = client.post(f"{url}/active", data={"csrf_token": csrf_from(client, url), "active": "0"})
    assert response.status_code == 302 and not _user("staff").active
    assert "已停用" in client.get(url).get_data(as_text=True)
    _fresh()
    assert other.get("/").status_code == 302  # the open session is logged out at its next page
    again = app.test_client()
    assert login(again, "staff").status_code == 401
    _fresh()
    client.post(f"{url}/active", data={"csrf_token": csrf_from(client, url), "active": "1"})
    _fresh()
    assert login(again, "staff").status_code == 302


def test_the_cli_uses_the_same_service(app, org):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "reset-password", "staff", "--password", "short"])
    assert result.exit_code != 0 and "新密码至少 8 位" in result.output
    result = runner.invoke(args=["users", "reset-password", "staff"])
    temporary = result.output.rsplit(" ", 1)[-1].strip()
    assert result.exit_code == 0 and authenticate("staff", temporary) is not None
    assert runner.invoke(args=["users", "disable", "staff"]).exit_code == 0 and not _user("staff").active
    assert runner.invoke(args=["users", "enable", "staff"]).exit_code == 0 and _user("staff").active
