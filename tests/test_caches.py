"""The per-process caches of the API's hot path: they serve, expire and forget as documented."""
import pytest
from sqlalchemy import select

from dispatch import cache
from dispatch.extensions import db
from dispatch.org.models import ApiToken, Community
from dispatch.org.services import community_by_code, revoke_token
from dispatch.tickets.models import Ticket, TicketSequence


@pytest.fixture
def caching(app):
    """Turn the caches on for one test, and leave them empty and off afterwards."""
    app.config.update(TOKEN_CACHE_SECONDS=60, REFERENCE_CACHE_SECONDS=60)
    cache.clear_all()
    yield
    cache.clear_all()
    app.config.update(TOKEN_CACHE_SECONDS=0, REFERENCE_CACHE_SECONDS=0)


def test_a_cached_community_is_this_sessions_own_object_and_sends_no_sql(caching, org):
    first = community_by_code("yanchenglu")
    db.session.remove()
    statements = []
    from sqlalchemy import event
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        again = community_by_code("yanchenglu")
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert statements == []
    assert again is not first and again.name == first.name and again in db.session
    assert community_by_code("no-such-community") is None


def test_tickets_created_through_the_caches_refer_to_the_right_rows(caching, api, org):
    for _ in range(2):
        reply = api.post("/api/v1/tickets", json={"description": "3号楼楼道灯不亮了", "community": "yanchenglu"})
        assert reply.status_code == 201, reply.get_json()
        assert reply.get_json()["community"] == "yanchenglu"
        assert reply.get_json()["category"] is not None
        db.session.remove()
    stored = db.session.scalars(select(Ticket)).all()
    assert {t.community.code for t in stored} == {"yanchenglu"} and len(stored) == 2


def test_revoking_a_token_in_this_process_takes_effect_at_once(caching, app, client, org):
    from dispatch.org.services import create_token
    _, raw = create_token("phone-system", "district")
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get("/api/v1/tickets", headers=headers).status_code == 200
    revoke_token("phone-system")
    assert client.get("/api/v1/tickets", headers=headers).status_code == 401


def test_another_workers_revocation_applies_when_the_entry_expires(caching, app, client, org):
    from dispatch.org.services import create_token
    _, raw = create_token("hotline-b", "district")
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get("/api/v1/tickets", headers=headers).status_code == 200
    # Another process revokes it: this process's cache is not told.
    db.session.execute(ApiToken.__table__.update().values(revoked_at=db.func.now()))
    db.session.commit()
    db.session.expire_all()
    assert client.get("/api/v1/tickets", headers=headers).status_code == 200  # still within the TTL
    app.config["TOKEN_CACHE_SECONDS"] = 1e-9
    assert client.get("/api/v1/tickets", headers=headers).status_code == 401


def test_numbers_keep_counting_past_9999(api, org, clock):
    from dispatch.timeutil import local
    db.session.add(TicketSequence(day=local(clock()).date(), last=9999))
    db.session.commit()
    reply = api.post("/api/v1/tickets", json={"description": "路灯坏了", "community": "yanchenglu"})
    assert reply.get_json()["number"] == f"{local(clock()):%Y%m%d}-10000"


def test_communities_are_found_by_code_uncached_too(org):
    assert community_by_code("yanchenglu").id == db.session.scalar(
        select(Community.id).where(Community.code == "yanchenglu"))
