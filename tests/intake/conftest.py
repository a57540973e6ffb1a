"""Fixtures for intake: WeChat accounts, a client that plays WeChat's servers, and the WeChat API stub on a port."""
import itertools
import threading

import pytest
from werkzeug.serving import make_server

from dispatch.wechat import protocol, stub
from dispatch.wechat.accounts import add_account
from dispatch.wechat.client import forget_tokens

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


@pytest.fixture
def district_account(org):
    """The district's own account: no community of its own."""
    acc, _ = add_account("shinan", "市南区", "wxabcdefabcdef1234", "districtToken", "secret-district")
    return acc


class WeChatPlayer:
    """Sends what WeChat's servers send: signed GETs and POSTs, in plaintext, compatible or safe mode."""

    def __init__(self, client, code, token=TOKEN, appid=APPID, aes_key=AES_KEY):
        self.client, self.code = client, code
        self.keys = protocol.Keys(token=token, appid=appid, aes_key=aes_key)
        self.ids = itertools.count(7_000_000_000_000_000_001)
        self.times = itertools.count(1_763_600_000)

    def signed(self, timestamp="1763600000", nonce="n0nce"):
        """The query string WeChat signs."""
        return {"signature": protocol.sign(self.keys.token, timestamp, nonce), "timestamp": timestamp,
                "nonce": nonce}

    def message(self, msg_type="text", openid="o_resident_1", **values):
        """A resident's message XML with a fresh MsgId (pass MsgId=… to repeat one)."""
        if msg_type != "event":
            values.setdefault("MsgId", next(self.ids))
        return protocol.Outgoing("gh_account", openid, msg_type, values.pop("CreateTime", next(self.times)),
                                 values).xml()

    def post(self, xml, mode="plain", args=None):
        """POST a message in a mode: plain, compatible (both) or safe (Encrypt only)."""
        query = self.signed()
        if mode == "plain":
            body = xml
        else:
            encrypt, msg_signature = protocol.encrypt_for(self.keys, xml, query["nonce"], query["timestamp"])
            query.update(encrypt_type="aes", msg_signature=msg_signature)
            inner = xml[len("<xml>"):-len("</xml>")] if mode == "compatible" else ""
            body = f"<xml>{inner}<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
        query.update(args or {})
        return self.client.post(f"/wechat/{self.code}", query_string=query, data=body.encode(),
                                content_type="text/xml")

    def open_reply(self, response):
        """The reply's fields, decrypted when it came encrypted."""
        fields = protocol.parse_xml(response.data)
        if "Encrypt" in fields:
            query = self.signed()
            inbound = protocol.read_message(self.keys, {**query, "encrypt_type": "aes",
                                                        "msg_signature": fields["MsgSignature"]},
                                            f"<xml><Encrypt><![CDATA[{fields['Encrypt']}]]></Encrypt></xml>")
            return inbound.fields
        return fields

    def say(self, text, openid="o_resident_1", **values):
        """Send a text and return (response, reply fields)."""
        response = self.post(self.message("text", openid=openid, Content=text, **values))
        return response, (self.open_reply(response) if response.data not in (b"success", b"") else {})


@pytest.fixture
def wechat(client, account):
    """WeChat's servers talking to 盐城路社区's callback."""
    return WeChatPlayer(client, account.code)
