"""One set of username and password rules, applied by the console's team form and by `flask users create`."""
import pytest
from sqlalchemy import func, select

from dispatch.extensions import db
from dispatch.org.accounts import USERNAME_RULE, account_problems
from dispatch.org.models import User
from tests.conftest import PASSWORD, csrf_from, login
from tests.teams.test_admin import PAGE, _form


def run(app, *args, input=None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


def users():
    return db.session.scalar(select(func.count()).select_from(User))


@pytest.mark.parametrize("username, password, fields", [
    ("wang", "longenough", set()), ("a.b-c_9", "12345678", set()),
    ("wang", "short-7", {"password"}), ("wang", "", {"password"}),
    ("w", "longenough", {"username"}), ("Wang", "longenough", {"username"}), ("-wang", "longenough", {"username"}),
    ("wang\n", "longenough", {"username"}), ("王主任", "longenough", {"username"}), ("w" * 65, "x", {"username", "password"}),
])
def test_the_rules(username, password, fields):
    assert set(account_problems(username, password)) == fields


@pytest.mark.parametrize("username, password, message", [
    ("wang", "short-7", "初始密码至少 8 位"), ("wang!", "longenough-1", USERNAME_RULE), ("王主任", "longenough-1", USERNAME_RULE)])
def test_the_cli_refuses_what_the_console_refuses_with_the_same_words(app, client, org, username, password, message):
    before = users()
    result = run(app, "users", "create", username, "--role", "community_director", "--community", "fuzhoulu",
                 "--password", password)
    assert result.exit_code != 0 and message in result.output
    assert users() == before
    login(client, "director")
    response = client.post(PAGE, data=_form(csrf_from(client, PAGE), username=username, password=password))
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert users() == before


def test_a_prompted_weak_password_is_refused(app, org):
    result = run(app, "users", "create", "zhao", "--role", "district_admin", input="1234\n1234\n")
    assert result.exit_code != 0 and "初始密码至少 8 位" in result.output
    assert db.session.scalar(select(User).where(User.username == "zhao")) is None


def test_resetting_to_a_weak_password_keeps_the_old_one(app, org):
    result = run(app, "users", "create", "director", "--role", "community_director", "--community", "yanchenglu",
                 "--password", "1234567")
    assert result.exit_code != 0 and "初始密码至少 8 位" in result.output
    db.session.expire_all()
    assert db.session.scalar(select(User).where(User.username == "director")).check_password(PASSWORD)
