"""Fixtures for intake: the district's account and a client that plays WeChat's servers (the stub: tests/conftest)."""
import itertools

import pytest

from dispatch.wechat import protocol
from dispatch.wechat.accounts import add_account
from tests.conftest import AES_KEY, APPID, TOKEN


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
