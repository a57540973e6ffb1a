"""WeChat goes away mid-drain (errors, refused connections, timeouts) and comes back: each message arrives once."""
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from dispatch.extensions import db
from dispatch.notify.delivery import drain
from dispatch.notify.models import Notification, Status
from dispatch.org.models import Resident
from dispatch.org.principal import Principal
from dispatch.tickets import pipeline
from dispatch.wechat import stub

PEOPLE = 12


class StubServer:
    """The stub on one fixed port that a test can stop (connections refused) and start again."""

    def __init__(self):
        self.server = make_server("127.0.0.1", 0, stub.create_stub_app(), threaded=True)
        self.port = self.server.server_port
        self.thread = None
        self._serve()

    def _serve(self):
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def start(self):
        self.server = make_server("127.0.0.1", self.port, stub.create_stub_app(), threaded=True)
        self._serve()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/_stub/wechat"


@pytest.fixture
def flaky(app, wechat_api):
    server = StubServer()
    app.config.update(WECHAT_API_BASE_URL=server.url, WECHAT_HTTP_TIMEOUT=0.2)
    yield server
    server.stop()
    app.config["WECHAT_HTTP_TIMEOUT"] = 10


def statuses():
    db.session.expire_all()
    return dict(db.session.execute(select(Notification.status, func.count()).group_by(Notification.status)).all())


def test_every_notification_is_delivered_exactly_once_through_an_outage(org, account, make_ticket, flaky, wechat_api,
                                                                         clock):
    director, dept = Principal.from_user(org.director), Principal.from_user(org.dept)
    for index in range(PEOPLE):
        person = Resident(account_code=account.code, openid=f"o_resident_{index:02d}", community_id=org.c1.id)
        db.session.add(person)
        db.session.commit()
        ticket = make_ticket(f"{index}号楼走廊灯坏了", resident=person)
        pipeline.act(director, ticket, "accept")
        pipeline.act(director, ticket, "dispatch", department="water")
        pipeline.act(dept, ticket, "sign")  # no message: each resident hears "accepted", "dispatched"
    expected = db.session.scalar(select(func.count()).where(Notification.audience == "resident"))
    assert expected == PEOPLE * 2

    wechat_api.fail_next.extend([-1, 45009, -1, "down", "down", -1])  # WeChat busy, over quota, failing
    drain(clock())
    flaky.stop()  # then gone: connections refused
    clock.advance(minutes=5)
    drain(clock())
    assert statuses().get(Status.PENDING, 0) > 0 and statuses().get(Status.FAILED, 0) == 0
    flaky.start()
    wechat_api.delay = 0.4  # back, but slow: the client times out while the stub still delivers
    clock.advance(minutes=10)
    drain(clock())
    wechat_api.delay = 0.0
    for _ in range(10):  # retries are spread by backoff and jitter: move time on until the queue is empty
        clock.advance(minutes=30)
        drain(clock())
        if not statuses().get(Status.PENDING):
            break

    to_residents = [m for m in wechat_api.sent if m["touser"].startswith("o_resident_")]
    assert statuses().get(Status.PENDING, 0) == 0
    assert db.session.scalar(select(func.count()).where(Notification.audience == "resident",
                                                        Notification.status == Status.SENT)) == expected
    keys = [(m["touser"], m["client_msg_id"]) for m in to_residents]
    assert len(keys) == expected and len(set(keys)) == expected  # each delivered, none twice
    assert wechat_api.calls > expected  # ... although many were sent more than once
    for index in range(PEOPLE):  # and each resident heard "accepted" before "dispatched"
        mine = [m["template_id"] for m in to_residents if m["touser"] == f"o_resident_{index:02d}"]
        assert mine == ["TPL_ACCEPTED", "TPL_DISPATCHED"]


def test_a_claim_lapses_only_after_its_time(org, account, make_ticket, wechat_api, clock):
    ticket = make_ticket("走廊灯坏了", resident=Resident(account_code=account.code, openid="o_x"))
    pipeline.act(Principal.from_user(org.director), ticket, "accept")
    db.session.execute(Notification.__table__.update().values(status=Status.SENDING,
                                                              claimed_until=clock() + timedelta(minutes=5)))
    db.session.commit()
    drain(clock())
    assert set(statuses()) == {Status.SENDING} and wechat_api.calls == 0  # another process holds them
