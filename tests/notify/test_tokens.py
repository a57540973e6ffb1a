"""One access token per account, shared by every process: in the database, or in Redis when configured."""
import pytest

from dispatch.wechat.client import access_token, forget_tokens


def another_process():
    """What a second process sees: none of this process's copies."""
    forget_tokens()


def test_processes_share_the_token_through_the_database(account, wechat_api, clock):
    first = access_token(account, clock())
    another_process()
    assert access_token(account, clock()) == first and wechat_api.token_fetches == 1


def test_a_token_near_its_expiry_is_refreshed_once_and_then_shared(account, wechat_api, clock):
    first = access_token(account, clock())
    clock.advance(seconds=7200 - 60)  # inside the 5-minute margin
    wechat_api.tokens.clear()  # WeChat hands out a new one
    second = access_token(account, clock())
    another_process()
    assert access_token(account, clock()) == second != first and wechat_api.token_fetches == 2


def test_a_refused_token_is_replaced_unless_another_process_already_did(account, wechat_api, clock):
    stale = access_token(account, clock())
    wechat_api.tokens.clear()
    fresh = access_token(account, clock(), force=True, stale=stale)
    fetched = wechat_api.token_fetches
    assert access_token(account, clock(), force=True, stale=stale) == fresh  # already replaced: no fetch
    assert wechat_api.token_fetches == fetched


@pytest.fixture
def redis_tokens(app):
    """Tokens in the machine's Redis (database 15), emptied before and after."""
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url).flushdb()
    except redis.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    app.config["WECHAT_TOKEN_REDIS_URL"] = url
    yield redis.Redis.from_url(url)
    app.config["WECHAT_TOKEN_REDIS_URL"] = None
    redis.Redis.from_url(url).flushdb()


def test_with_redis_configured_the_token_lives_there_and_is_shared(account, wechat_api, clock, redis_tokens):
    first = access_token(account, clock())
    assert redis_tokens.get(f"dispatch:wechat:token:{account.appid}") is not None
    another_process()
    assert access_token(account, clock()) == first and wechat_api.token_fetches == 1
    assert redis_tokens.get(f"dispatch:wechat:token:{account.appid}:lock") is None  # released
