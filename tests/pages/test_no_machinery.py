"""Every page a person opens on the demo speaks their language: no code, setting or library name shows."""
import re
from collections import Counter
from datetime import datetime, timezone
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from sqlalchemy import select

from dispatch.demo.seed import seed
from dispatch.extensions import db
from dispatch.org.models import Resident, User
from dispatch.sla.sweep import run_sla_sweep
from dispatch.tickets.lifecycle import ACTIONS, Status
from dispatch.tickets.models import Ticket, TicketEvent
from tests.conftest import login

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)
ROLES = ("admin", "zhanshan", "yanchenglu", "yanchenglu-staff", "water", "volunteer")  # one demo login per role
LOGIN_LINE = re.compile(r"^\s+(\S+)\s+/\s+(\S+)\s")
PAGES_PER_SHAPE = 2  # /tickets/12 and /tickets/13 are one page shape: two of each is enough
MAX_PAGES = 90
SKIP = re.compile(r"^/(static|media|logout|stub|openapi|api)/?|\.(csv|xlsx|json|mp3|amr|jpg|png)$|/export|/print")
ATTRIBUTES = {"title", "placeholder", "alt", "aria-label"}

SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
SETTING = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")
LIBRARIES = re.compile(r"chinese_?calendar|wechatpy|apscheduler|sqlalchemy|marshmallow|jieba|flask|werkzeug|"
                       r"traceback|None\b|True\b|False\b|Status\.|\{\{|\}\}", re.I)
ENGLISH_NAMES = {name for name in ACTIONS if name.isascii()} | {status.value for status in Status}
ENGLISH = re.compile(r"\b(" + "|".join(sorted(map(re.escape, ENGLISH_NAMES), key=len, reverse=True)) + r")\b")


class VisibleText(HTMLParser):
    """The text a person reads on a page (and in its tooltips), plus the links on it."""

    HIDDEN = {"script", "style", "template", "noscript"}

    def __init__(self):
        super().__init__()
        self.parts, self.links, self._hidden = [], [], 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in self.HIDDEN:
            self._hidden += 1
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        self.parts.extend(value for name, value in attrs.items() if name in ATTRIBUTES and value)
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.parts.append(attrs["value"])

    def handle_endtag(self, tag):
        if tag in self.HIDDEN and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.parts.append(data.strip())


def machinery_in(text):
    """The internal identifiers a person would read in this text."""
    found = SNAKE.findall(text) + SETTING.findall(text) + LIBRARIES.findall(text) + ENGLISH.findall(text)
    return sorted(set(found))


def shape(path):
    """A page's shape: its path with numbers and long tokens blanked."""
    return re.sub(r"/[0-9A-Za-z_-]{16,}|\d+", "#", path)


def crawl(client, start):
    """Follow every same-site link from `start` (GETs only); return {path: visible text}."""
    seen, shapes, queue, texts = set(), Counter(), list(start), {}
    while queue and len(texts) < MAX_PAGES:
        url = queue.pop(0)
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if parts.netloc not in ("", "localhost") or path in seen or SKIP.search(parts.path):
            continue
        seen.add(path)
        if shapes[shape(parts.path)] >= PAGES_PER_SHAPE:
            continue
        shapes[shape(parts.path)] += 1
        response = client.get(path, follow_redirects=True)
        if "text/html" not in response.content_type:
            continue
        parser = VisibleText()
        parser.feed(response.get_data(as_text=True))
        texts[path] = " ".join(parser.parts)
        queue.extend(urljoin(path, link) for link in parser.links if not link.startswith(("#", "tel:", "mailto:",
                                                                                           "javascript:")))
    return texts


@pytest.fixture
def demo(app):
    """The demo's tickets, with the SLA sweep run over them so that timelines hold its entries too."""
    lines = seed(ticket_count=60, now=NOW)
    run_sla_sweep(NOW)
    return lines


def swept_tickets():
    """The pages of a few tickets whose timelines the SLA sweep wrote to."""
    numbers = db.session.scalars(select(Ticket.number).join(TicketEvent, TicketEvent.ticket_id == Ticket.id)
                                 .where(TicketEvent.kind.like("sla%")).distinct().limit(4))
    return [f"/tickets/{number}" for number in numbers]


@pytest.mark.parametrize("username", ROLES)
def test_no_page_a_staff_member_opens_shows_machinery(app, demo, username, clock):
    passwords = dict(m.groups() for m in map(LOGIN_LINE.match, demo) if m)
    client = app.test_client()
    login(client, username, passwords[username])
    texts = crawl(client, ["/", *swept_tickets()])
    assert len(texts) >= 2, texts.keys()
    logins = set(db.session.scalars(select(User.username)))  # what people type to sign in is theirs, not ours
    leaks = {path: found for path, text in texts.items() if (found := sorted(set(machinery_in(text)) - logins))}
    assert not leaks, "\n".join(f"{path}: {found}" for path, found in leaks.items())


def test_no_resident_page_shows_machinery(app, demo, clock):
    resident = db.session.scalars(select(Resident).join(Ticket, Ticket.resident_id == Resident.id)).first()
    resident.account_code, resident.openid, code = "yanchenglu", "o_demo_resident", "yanchenglu"
    db.session.commit()
    client = app.test_client()
    with client.session_transaction() as session:
        session[f"h5_openid:{code}"] = resident.openid
    texts = crawl(client, [f"/h5/{code}/tickets", f"/h5/{code}/report"])
    leaks = {path: found for path, text in texts.items() if (found := machinery_in(text))}
    assert len(texts) >= 2 and not leaks, leaks


def test_the_detector_finds_what_it_should():
    assert machinery_in("事件：sla_warning 已派单(dispatch) SLA_OFFICE_HOURS chinese_calendar") == [
        "SLA_OFFICE_HOURS", "chinese_calendar", "dispatch", "sla_warning"]
    assert machinery_in("工单 2026-0001 已派给 王芳（365服务队）") == []
