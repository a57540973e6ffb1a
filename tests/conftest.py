"""Fixtures: the app on a real database (SQLite, or TEST_DATABASE_URL), a frozen clock, an organisation."""
import os
import re
import threading
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from flask_migrate import upgrade
from werkzeug.serving import make_server
from sqlalchemy import text

from config import TestingConfig
from dispatch import create_app
from dispatch.extensions import db as _db
from dispatch.org.models import Community, Department, District, Street
from dispatch.org.principal import Principal
from dispatch.org.services import create_token, create_user
from dispatch.teams.categories import load_categories
from dispatch.tickets import pipeline, store
from dispatch.tickets.models import Channel
from dispatch.wechat import stub
from dispatch.wechat.accounts import add_account
from dispatch.wechat.client import forget_tokens

PASSWORD = "correct-horse-9"
START = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)  # a Friday, 10:00 in Shanghai


class FrozenClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, at=START):
        self.at = at

    def __call__(self):
        return self.at

    def advance(self, **delta):
        """Move the clock forward."""
        self.at += timedelta(**delta)
        return self.at


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    """One app for the session; its schema is built by the migrations, as in production."""
    config = TestingConfig()
    if not os.environ.get("TEST_DATABASE_URL"):
        config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
    config.MEDIA_DIR = str(tmp_path_factory.mktemp("media"))
    app = create_app(config)
    with app.app_context():
        _db.drop_all()
        _db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
        _db.session.commit()
        upgrade()
    return app


def _empty_tables():
    """Remove every row so each test starts from an empty database."""
    tables = list(reversed(_db.metadata.sorted_tables))
    if _db.engine.dialect.name == "postgresql":
        names = ", ".join(t.name for t in tables)
        _db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            _db.session.execute(table.delete())
    _db.session.commit()


@pytest.fixture(autouse=True)
def clean_db(request):
    """Each test gets an app context, a frozen clock and, afterwards, empty tables; a `pure` test gets None."""
    if request.node.get_closest_marker("pure"):
        yield None  # pure code is tested without an app: none is built for a run of pure tests alone
        return
    app = request.getfixturevalue("app")
    clock = FrozenClock()
    app.config["CLOCK"] = clock
    with app.app_context():
        yield clock
        _db.session.rollback()
        _empty_tables()
        _db.session.remove()


@pytest.fixture
def clock(clean_db):
    """The frozen clock the app reads."""
    return clean_db


@pytest.fixture
def client(app):
    """A Flask test client."""
    return app.test_client()


@pytest.fixture
def org(app):
    """A small district: 2 streets, 3 communities, a department, categories and one user per role."""
    district = District(code="370202", name="市南区")
    s1, s2 = Street(code="zhanshan", name="湛山街道", district=district), Street(
        code="zhuhailu", name="珠海路街道", district=district)
    c1 = Community(code="yanchenglu", name="盐城路社区", street=s1, phone="0532-83880001")
    c2 = Community(code="fuzhoulu", name="福州路社区", street=s1, phone="0532-83880002")
    c3 = Community(code="xiangganghuayuan", name="香港花园社区", street=s2, phone="0532-83880003")
    water = Department(code="water", name="市南供水服务中心")
    _db.session.add_all([district, s1, s2, c1, c2, c3, water])
    _db.session.commit()
    load_categories()
    users = {
        "admin": create_user("admin", "district_admin", PASSWORD, "区管理员")[0],
        "street": create_user("street", "street_supervisor", PASSWORD, "湛山督办", street=s1)[0],
        "director": create_user("director", "community_director", PASSWORD, "盐城路主任", community=c1)[0],
        "staff": create_user("staff", "community_staff", PASSWORD, "盐城路社工", community=c1)[0],
        "staff3": create_user("staff3", "community_staff", PASSWORD, "香港花园社工", community=c3)[0],
        "dept": create_user("dept", "department_user", PASSWORD, "供水", department=water)[0],
        "volunteer": create_user("volunteer", "volunteer", PASSWORD, "李师傅", community=c1)[0],
        "volunteer2": create_user("volunteer2", "volunteer", PASSWORD, "王师傅", community=c2)[0],
    }
    return SimpleNamespace(district=district, streets=(s1, s2), c1=c1, c2=c2, c3=c3, water=water, **users)


class ApiClient:
    """A test client that sends a bearer token with every request."""

    def __init__(self, client, raw):
        self.client, self.headers = client, {"Authorization": f"Bearer {raw}"}

    def get(self, url, **kw):
        return self.client.get(url, headers=self.headers, **kw)

    def post(self, url, json=None, **kw):
        return self.client.post(url, headers=self.headers, json=json, **kw)


@pytest.fixture
def api_as(client, org):
    """api_as('community:yanchenglu') → an ApiClient whose token has that scope."""
    made = {}

    def make(scope="district"):
        if scope not in made:
            name = "t-" + re.sub(r"[^a-z0-9]", "-", scope)
            made[scope] = ApiClient(client, create_token(name, scope)[1])
        return made[scope]
    return make


@pytest.fixture
def api(api_as):
    """A district-wide API client."""
    return api_as("district")


def at_once(target, times):
    """Run target in `times` threads started together; return when every one has finished."""
    threads = [threading.Thread(target=target) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def login(client, username, password=PASSWORD):
    """Log a console user in through the real form, CSRF token included."""
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def csrf_from(client, url):
    """The CSRF token of the form on a console page."""
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


@pytest.fixture
def make_ticket(org):
    """make_ticket(**overrides) → a ticket opened through the service, as a phone call in 盐城路社区."""
    def make(description="3号楼2单元走廊灯坏了", community=None, principal=None, **overrides):
        data = store.NewTicket(description=description, community=community or org.c1,
                                  channel=overrides.pop("channel", Channel.PHONE), **overrides)
        return pipeline.open_ticket(principal or Principal.from_user(org.admin), data)
    return make


# ---- WeChat: the API stub on a real port, and 盐城路社区's account ----

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APPID = "wx1234567890abcdef"
TOKEN = "yanchengluToken"


@pytest.fixture(scope="session")
def stub_server():
    """The WeChat API stub served over real HTTP on a free port, for the whole session."""
    server = make_server("127.0.0.1", 0, stub.create_stub_app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/_stub/wechat"
    server.shutdown()


@pytest.fixture
def wechat_api(app, stub_server):
    """Point the app's WeChat calls at the stub, with a clean stub state."""
    stub.STATE.reset()
    forget_tokens()
    app.config.update(WECHAT_API_BASE_URL=stub_server, WECHAT_OPEN_BASE_URL=stub_server)
    yield stub.STATE
    stub.STATE.reset()
    forget_tokens()


@pytest.fixture
def account(org):
    """盐城路社区's account, with an AES key so all three modes work."""
    acc, _ = add_account("yanchenglu", "盐城路社区", APPID, TOKEN, "secret-yanchenglu", aes_key=AES_KEY,
                         community_code="yanchenglu", hotline="0532-83880001")
    return acc
