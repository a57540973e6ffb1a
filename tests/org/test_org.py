"""Staff accounts, tokens, login and the console's protections."""
import re

import pytest
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.org.models import ApiToken, User
from dispatch.org.principal import mask_phone
from dispatch.tickets.models import TicketEvent
from tests.conftest import PASSWORD, login


def run(app, *args, input=None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


@pytest.mark.parametrize("phone, masked", [("13812345678", "138****5678"), ("0532-83880001", "053******0001"),
                                           ("12345", "1****"), (None, None)])
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked


def test_users_create_is_idempotent_and_checks_scope(app, org):
    result = run(app, "users", "create", "wang", "--role", "community_director", "--community", "fuzhoulu",
                 "--password", "pw-123456", "--name", "王主任")
    assert result.exit_code == 0 and "created user wang" in result.output
    again = run(app, "users", "create", "wang", "--role", "community_director", "--community", "fuzhoulu",
                "--password", "pw-654321")
    assert "updated user wang" in again.output
    assert db.session.scalars(select(User).where(User.username == "wang")).one().check_password("pw-654321")
    wrong = run(app, "users", "create", "li", "--role", "street_supervisor", "--password", "x")
    assert wrong.exit_code != 0 and "--street" in wrong.output
    unknown = run(app, "users", "create", "li", "--role", "street_supervisor", "--street", "nowhere",
                  "--password", "x")
    assert unknown.exit_code != 0 and "nowhere" in unknown.output


def test_password_is_prompted_and_hashed(app, org):
    result = run(app, "users", "create", "zhao", "--role", "district_admin", input="s3cret-pw\ns3cret-pw\n")
    assert result.exit_code == 0, result.output
    user = db.session.scalars(select(User).where(User.username == "zhao")).one()
    assert "s3cret-pw" not in user.password_hash and user.check_password("s3cret-pw")


def test_tokens_create_prints_once_stores_hash_and_revoke(app, client, org):
    result = run(app, "tokens", "create", "hotline", "--scope", "street:zhanshan")
    raw = result.output.strip().splitlines()[-1]
    assert result.exit_code == 0 and raw.startswith("dsp_")
    stored = db.session.scalars(select(ApiToken).where(ApiToken.name == "hotline")).one()
    assert raw not in (stored.token_hash, stored.prefix) and len(stored.token_hash) == 64
    assert client.get("/api/v1/tickets", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    assert "revoked" in run(app, "tokens", "revoke", "hotline").output
    assert "already revoked" in run(app, "tokens", "revoke", "hotline").output
    assert client.get("/api/v1/tickets", headers={"Authorization": f"Bearer {raw}"}).status_code == 401
    bad = run(app, "tokens", "create", "x", "--scope", "planet:mars")
    assert bad.exit_code != 0 and "scope" in bad.output


def test_login_and_logout(client, org):
    assert client.get("/").status_code == 302
    response = login(client, "director")
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    page = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_then_lockout(app, client, org, clock):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert login(client, "director", "wrong").status_code == 401
    locked = login(client, "director", PASSWORD)
    assert locked.status_code == 429 and "次数过多" in locked.get_data(as_text=True)
    clock.advance(minutes=app.config["LOGIN_LOCKOUT_MINUTES"] + 1)
    assert login(client, "director", PASSWORD).status_code == 302


def test_login_form_requires_csrf(client, org):
    response = client.post("/login", data={"username": "director", "password": PASSWORD})
    assert response.status_code == 400


def test_open_redirect_after_login_is_refused(client, org):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login?next=https://evil.example/", data={
        "username": "director", "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/"


def test_session_cookie_is_http_only_and_lax(client, org):
    response = login(client, "director")
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_config_is_secure_and_needs_a_secret(monkeypatch):
    from config import ProductionConfig
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError):
        ProductionConfig()
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    assert ProductionConfig().SESSION_COOKIE_SECURE is True


def test_timeline_is_append_only(make_ticket):
    event = make_ticket().events[0]
    event.note = "rewritten"
    with pytest.raises(RuntimeError):
        db.session.commit()
    db.session.rollback()
    with pytest.raises(RuntimeError):
        db.session.delete(db.session.get(TicketEvent, event.id))
        db.session.commit()


def test_healthz_reports_an_unreachable_database(tmp_path):
    from config import TestingConfig
    from dispatch import create_app
    config = TestingConfig()
    config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path}/missing/dir/db.sqlite"
    response = create_app(config).test_client().get("/healthz")
    assert response.status_code == 503 and response.get_json()["database"] == "unreachable"


def test_seed_demo_is_refused_where_demo_data_is_not_allowed(app):
    app.config["DEMO_DATA_ALLOWED"] = False
    try:
        result = run(app, "seed-demo")
    finally:
        app.config["DEMO_DATA_ALLOWED"] = True
    assert result.exit_code != 0 and "disabled" in result.output
    from dispatch.org.models import District
    assert db.session.query(District).count() == 0
