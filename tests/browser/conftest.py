"""A live server on a free localhost port with its own SQLite file, and headless Chromium to drive it."""
import os
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask_migrate import upgrade
from sqlalchemy import select
from werkzeug.serving import make_server

from config import TestingConfig
from dispatch import create_app
from dispatch.extensions import db
from dispatch.org.models import Community, Department, District, Street
from dispatch.org.principal import Principal
from dispatch.org.services import create_user
from dispatch.tickets import categories, pipeline, store
from dispatch.teams.categories import load_categories
from dispatch.teams.models import Volunteer
from dispatch.tickets.models import Category, Channel, Ticket

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))  # Debian's package by default
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
PASSWORD = "correct-horse-9"


def missing_browser():
    """Why the browser tests cannot run here, or None when they can."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not found (install Debian's chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed"
    return None


@pytest.fixture(autouse=True)
def clean_db():
    """The live server keeps its own database; the suite's per-test cleanup does not apply here."""
    yield


def _build_org():
    """Two communities of one street, a department, categories, and the users the tests log in as."""
    district = District(code="370202", name="市南区")
    street = Street(code="zhanshan", name="湛山街道", district=district)
    c1 = Community(code="yanchenglu", name="盐城路社区", street=street, phone="0532-83880001")
    c2 = Community(code="fuzhoulu", name="福州路社区", street=street, phone="0532-83880002")
    water = Department(code="water", name="市南供水服务中心")
    db.session.add_all([district, street, c1, c2, water])
    db.session.commit()
    load_categories()
    admin = create_user("admin", "district_admin", PASSWORD, "区管理员")[0]
    create_user("director", "community_director", PASSWORD, "盐城路主任", community=c1)
    create_user("staff", "community_staff", PASSWORD, "盐城路社工", community=c1)
    volunteer = create_user("volunteer", "volunteer", PASSWORD, "李师傅", community=c1)[0]
    create_user("dept", "department_user", PASSWORD, "供水中心值班", department=water)
    water.categories = ["water_power"]
    db.session.add(Volunteer(user=volunteer, skills=["electrical", "plumbing"], weekly_hours=["00:00-24:00"] * 7,
                             max_tasks=5))
    db.session.commit()
    return SimpleNamespace(c1=c1, c2=c2, admin=Principal.from_user(admin))


class LiveApp:
    """The app behind the server, with helpers that build data through the services."""

    def __init__(self, app, url, org):
        self.app, self.url, self.org = app, url, org

    def make_ticket(self, description, accepted=False, category_code=None, **overrides):
        """Open a ticket in 盐城路社区 as a phone call; returns its number."""
        with self.app.app_context():
            community = db.session.merge(self.org.c1)
            if category_code:
                overrides["category"] = db.session.scalar(select(Category).where(Category.code == category_code))
            ticket = pipeline.open_ticket(self.org.admin, store.NewTicket(
                description=description, community=community, channel=Channel.PHONE, **overrides))
            if accepted:
                pipeline.act(self.org.admin, ticket, "accept")
            return ticket.number

    def resolve(self, number):
        """Accept (if new) and resolve a ticket, as staff would."""
        with self.app.app_context():
            ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
            if ticket.status.value == "new":
                pipeline.act(self.org.admin, ticket, "accept")
            pipeline.act(self.org.admin, ticket, "resolve", note="已更换楼道灯泡")


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The real app, migrated from empty, served by werkzeug in a background thread."""
    folder = tmp_path_factory.mktemp("live")
    config = TestingConfig()
    config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{folder / 'live.sqlite'}"
    config.MEDIA_DIR = str(folder / "media")
    config.WECHAT_STUB = True  # the live app serves its own WeChat stub; pointed at below, once the port is known
    app = create_app(config)
    with app.app_context():
        upgrade()
        org = _build_org()
        categories.suggest("预热分类器")  # load jieba now, not during the first typed character
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config.update(PUBLIC_BASE_URL=url, WECHAT_API_BASE_URL=url + "/_stub/wechat",
                      WECHAT_OPEN_BASE_URL=url + "/_stub/wechat")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveApp(app, url, org)
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium; a missing browser skips, or fails when REQUIRE_BROWSER=1."""
    reason = missing_browser()
    if reason:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but the browser tests cannot run: {reason}", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


LAPTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def open_browser(browser, live):
    """A factory of fresh browser windows (own cookies, failing fast), each a separate person; all closed after."""
    contexts = []

    def open_page(viewport=LAPTOP):
        context = browser.new_context(viewport=viewport, locale="zh-CN", base_url=live.url)
        context.set_default_timeout(5000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(open_browser):
    """One laptop-sized browser window."""
    return open_browser()
