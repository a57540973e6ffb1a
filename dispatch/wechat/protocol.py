"""The callback protocol: signatures, plaintext / compatible / safe (AES) modes, safe XML, passive replies.

Pure functions over the request's parts; the only module besides client.py that touches wechatpy.
"""
import hashlib
import time
from dataclasses import dataclass, field
from xml.etree.ElementTree import ParseError
from xml.sax.saxutils import escape

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.utils import check_signature


class BadSignature(Exception):
    """The request was not signed with the account's token: not from WeChat."""


class BadMessage(Exception):
    """The body is not a well-formed, harmless WeChat XML message; the text says what is wrong."""


@dataclass(frozen=True)
class Keys:
    """What an account needs to check and open messages."""

    token: str
    appid: str
    aes_key: str | None = None


@dataclass(frozen=True)
class Inbound:
    """One message or event as WeChat sent it: its fields, and the plaintext XML to store."""

    fields: dict
    xml: str
    encrypted: bool

    def get(self, name, default=None):
        """A field's text, or default when absent."""
        return self.fields.get(name, default)

    @property
    def msg_type(self):
        return (self.get("MsgType") or "").lower()

    @property
    def event(self):
        return (self.get("Event") or "").lower() or None

    @property
    def openid(self):
        return self.get("FromUserName") or ""

    @property
    def create_time(self):
        try:
            return int(self.get("CreateTime") or 0)
        except ValueError:
            return 0

    @property
    def dedup_key(self):
        """WeChat's retries carry the same MsgId; events have none, so sender + CreateTime (+ event) name them."""
        msg_id = self.get("MsgId") or self.get("MsgID")
        if msg_id:
            return f"msg:{msg_id}"
        return f"event:{self.openid}:{self.create_time}:{self.event or self.msg_type}"


def verify_handshake(keys, args):
    """GET: the echostr to answer when the signature matches, else BadSignature."""
    _check(keys, args)
    return args.get("echostr", "")


def _check(keys, args):
    try:
        check_signature(keys.token, args.get("signature", ""), args.get("timestamp", ""), args.get("nonce", ""))
    except InvalidSignatureException:
        raise BadSignature("signature mismatch") from None


def parse_xml(body):
    """The <xml> document's child elements as a dict of text; DTDs, entities and junk are refused."""
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise BadMessage("XML 中不允许 DTD 或实体声明") from None
    except (ParseError, ValueError, TypeError):
        raise BadMessage("请求体不是有效的 XML") from None
    if root.tag != "xml":
        raise BadMessage("根元素应为 <xml>")
    return {child.tag: (child.text or "").strip() for child in root}


def read_message(keys, args, body):
    """POST: check the signature, decrypt when asked, and parse; raises BadSignature or BadMessage."""
    _check(keys, args)
    outer = parse_xml(body)
    if args.get("encrypt_type", "raw").lower() != "aes":
        return Inbound(fields=outer, xml=_as_text(body), encrypted=False)
    if not keys.aes_key:
        raise BadMessage("该公众号未配置 EncodingAESKey，无法解密")
    if "Encrypt" not in outer:
        raise BadMessage("加密消息缺少 <Encrypt>")
    try:
        plain = _crypto(keys).decrypt_message({"Encrypt": outer["Encrypt"]}, args.get("msg_signature", ""),
                                              args.get("timestamp", ""), args.get("nonce", ""))
    except InvalidSignatureException:
        raise BadSignature("msg_signature mismatch") from None
    except InvalidAppIdException:
        raise BadMessage("加密消息的 AppID 与公众号不符") from None
    except Exception:  # wechatpy raises bare errors for bad base64 or padding
        raise BadMessage("无法解密 <Encrypt> 内容") from None
    return Inbound(fields=parse_xml(plain), xml=_as_text(plain), encrypted=True)


def _as_text(body):
    return body.decode("utf-8", "replace") if isinstance(body, bytes) else body


def _crypto(keys):
    return WeChatCrypto(keys.token, keys.aes_key, keys.appid)


def text_reply(inbound, content, now=None):
    """The passive text reply to an inbound message, as XML (plain)."""
    created = int(now.timestamp()) if now else int(time.time())
    return ("<xml><ToUserName><![CDATA[{to}]]></ToUserName><FromUserName><![CDATA[{frm}]]></FromUserName>"
            "<CreateTime>{t}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            "<Content><![CDATA[{content}]]></Content></xml>").format(
        to=_cdata(inbound.openid), frm=_cdata(inbound.get("ToUserName", "")), t=created, content=_cdata(content))


def _cdata(text):
    """Text safe inside CDATA (a literal ']]>' would end it early)."""
    return text.replace("]]>", "]]]]><![CDATA[>")


def seal(keys, inbound, reply_xml, nonce, timestamp):
    """Encrypt the reply when the request came encrypted; plaintext otherwise."""
    if not inbound.encrypted:
        return reply_xml
    return _crypto(keys).encrypt_message(reply_xml, nonce, timestamp)


def sign(token, timestamp, nonce, *extra):
    """WeChat's signature: sha1 of the sorted parts (for clients that play WeChat: simulator, tests, bench)."""

    return hashlib.sha1("".join(sorted([token, str(timestamp), nonce, *extra])).encode()).hexdigest()


def encrypt_for(keys, xml, nonce, timestamp):
    """The <Encrypt> body and msg_signature WeChat would send for xml (simulator and tests)."""
    sealed = parse_xml(_crypto(keys).encrypt_message(xml, nonce, timestamp))
    return sealed["Encrypt"], sealed["MsgSignature"]


@dataclass
class Outgoing:
    """A message a client playing WeChat builds: the XML of a resident's message."""

    to_account: str
    openid: str
    msg_type: str
    create_time: int
    values: dict = field(default_factory=dict)

    def xml(self):
        """The XML WeChat would push."""
        parts = [f"<ToUserName><![CDATA[{self.to_account}]]></ToUserName>",
                 f"<FromUserName><![CDATA[{self.openid}]]></FromUserName>",
                 f"<CreateTime>{self.create_time}</CreateTime>", f"<MsgType><![CDATA[{self.msg_type}]]></MsgType>"]
        parts += [f"<{k}><![CDATA[{_cdata(str(v))}]]></{k}>" if isinstance(v, str) else f"<{k}>{escape(str(v))}</{k}>"
                  for k, v in self.values.items()]
        return "<xml>" + "".join(parts) + "</xml>"
