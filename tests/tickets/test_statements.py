"""What one ticket creation sends to the database: the hot paths keep their round trips (PostgreSQL)."""
from contextlib import contextmanager

import pytest

from bench.profile_create import is_statement, sql_log
from dispatch.extensions import db
from tests.intake.conftest import WeChatPlayer

BODY = {"description": "3号楼2单元走廊灯坏了", "community": "yanchenglu"}


@contextmanager
def traffic():
    """The first word of every statement that reaches the database meanwhile, and its commits."""
    seen = []
    with sql_log(db.engine) as log:
        yield seen
    seen.extend(line.split()[0] for line in log if is_statement(line) or line == "COMMIT")


@pytest.fixture
def postgresql_only(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("counts PostgreSQL's one-statement insert")


def test_an_api_creation_is_one_insert_statement_and_a_commit(api, postgresql_only, app):
    app.config.update(REFERENCE_CACHE_SECONDS=60, TOKEN_CACHE_SECONDS=60)
    try:
        for _ in range(2):  # warm the per-process caches (token, community, category rules)
            assert api.post("/api/v1/tickets", json=BODY).status_code == 201
        with traffic() as log:
            assert api.post("/api/v1/tickets", json=BODY).status_code == 201
    finally:
        app.config.update(REFERENCE_CACHE_SECONDS=0, TOKEN_CACHE_SECONDS=0)
    # The ticket, its number, its SLA schedule and first event in one statement; the outbox row in another.
    assert log == ["WITH", "INSERT", "COMMIT"], log


def test_a_wechat_note_is_one_statement_and_the_outbox_row(app, account, postgresql_only, client):
    app.config.update(REFERENCE_CACHE_SECONDS=60)
    player = WeChatPlayer(client, "yanchenglu")
    try:
        for openid in ("o_warm_1", "o_warm_2"):
            assert player.post(player.message("text", openid=openid, Content="3号楼楼道灯坏了")).status_code == 200
        with traffic() as log:
            assert player.post(player.message("text", openid="o_new", Content="3号楼楼道灯坏了")).status_code == 200
    finally:
        app.config.update(REFERENCE_CACHE_SECONDS=0)
    # The message, its sender, the ticket, its number, schedule and first event in one statement.
    assert log == ["WITH", "INSERT", "COMMIT"], log
