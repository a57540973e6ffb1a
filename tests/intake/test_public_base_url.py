"""`make run PORT=5001`: replies' links, the OAuth round trip and the photo fetch follow the port the server is on,
unless PUBLIC_BASE_URL says otherwise."""
from urllib.parse import parse_qs, urlsplit

import pytest

import config
from dispatch.urls import base_url
from tests.intake.conftest import WeChatPlayer


@pytest.mark.pure
def test_port_sets_the_default_addresses_and_public_base_url_overrides_them(monkeypatch):
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    for name in ("PORT", "WECHAT_API_BASE_URL", "WECHAT_OPEN_BASE_URL", "WECHAT_STUB"):
        monkeypatch.delenv(name, raising=False)
    assert config.DevelopmentConfig().PUBLIC_BASE_URL == "http://127.0.0.1:5000"
    monkeypatch.setenv("PORT", "5001")  # make run PORT=5001 exports it to flask run and the scheduler
    dev = config.DevelopmentConfig()
    assert dev.PUBLIC_BASE_URL == "http://127.0.0.1:5001" and dev.BASE_URLS_FROM_REQUEST
    assert dev.WECHAT_API_BASE_URL == dev.WECHAT_OPEN_BASE_URL == "http://127.0.0.1:5001/_stub/wechat"
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://sq.example.cn")
    dev = config.DevelopmentConfig()
    assert dev.PUBLIC_BASE_URL == "https://sq.example.cn" and not dev.BASE_URLS_FROM_REQUEST
    assert dev.WECHAT_API_BASE_URL == "https://sq.example.cn/_stub/wechat"
    monkeypatch.delenv("PUBLIC_BASE_URL")
    assert not config.Config().BASE_URLS_FROM_REQUEST  # production and tests: only what is configured


def _note_at(client, host):
    """A resident's note posted by WeChat to the server at this address; the reply's text."""
    player = WeChatPlayer(client, "yanchenglu")
    response = client.post("/wechat/yanchenglu", query_string=player.signed(), content_type="text/xml",
                           data=player.message("text", openid="o_port", Content="南京路8号楼下井盖丢了").encode(),
                           base_url=host)
    return player.open_reply(response)["Content"]


@pytest.fixture
def development(app, monkeypatch):
    """The development app without PUBLIC_BASE_URL or PORT: the stub on this server, defaults on port 5000."""
    monkeypatch.setitem(app.config, "BASE_URLS_FROM_REQUEST", True)
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    for key in ("WECHAT_API_BASE_URL", "WECHAT_OPEN_BASE_URL"):
        monkeypatch.setitem(app.config, key, "http://127.0.0.1:5000/_stub/wechat")
    return app


def test_without_public_base_url_links_follow_the_address_the_server_was_reached_at(development, client,
                                                                                     account):
    # `flask run --port 5001` with neither PORT nor PUBLIC_BASE_URL set: the note came to port 5001.
    assert 'href="http://127.0.0.1:5001/h5/yanchenglu/tickets/' in _note_at(client, "http://127.0.0.1:5001")
    # The H5 sign-in goes to the stub on that port and comes back to it.
    start = client.get("/h5/yanchenglu/tickets", base_url="http://127.0.0.1:5001")
    authorize = urlsplit(start.headers["Location"])
    assert (authorize.scheme, authorize.netloc, authorize.path) == ("http", "127.0.0.1:5001",
                                                                    "/_stub/wechat/connect/oauth2/authorize")
    assert parse_qs(authorize.query)["redirect_uri"] == ["http://127.0.0.1:5001/h5/yanchenglu/oauth"]
    # Outside a request (the scheduler's photo fetch and notifications), the configured address stands.
    assert base_url("WECHAT_API_BASE_URL") == "http://127.0.0.1:5000/_stub/wechat"
    assert base_url() == "http://127.0.0.1:5000"


def test_public_base_url_wins_over_the_request(development, client, account, monkeypatch):
    monkeypatch.setitem(development.config, "BASE_URLS_FROM_REQUEST", False)  # PUBLIC_BASE_URL was set
    monkeypatch.setitem(development.config, "PUBLIC_BASE_URL", "https://sq.example.cn")
    assert 'href="https://sq.example.cn/h5/yanchenglu/tickets/' in _note_at(client, "http://127.0.0.1:5001")
    start = client.get("/h5/yanchenglu/tickets", base_url="http://127.0.0.1:5001")
    assert parse_qs(urlsplit(start.headers["Location"]).query)["redirect_uri"] == [
        "https://sq.example.cn/h5/yanchenglu/oauth"]


def test_a_wechat_base_url_set_apart_from_the_public_one_is_kept(development, client, monkeypatch):
    monkeypatch.setitem(development.config, "WECHAT_API_BASE_URL", "https://api.weixin.qq.com")
    with development.test_request_context("/", base_url="http://127.0.0.1:5001"):
        assert base_url("WECHAT_API_BASE_URL") == "https://api.weixin.qq.com"
        assert base_url("WECHAT_OPEN_BASE_URL") == "http://127.0.0.1:5001/_stub/wechat"
