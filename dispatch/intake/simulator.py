"""The WeChat simulator for the local demo (/dev/wechat): be a resident of an account, see the reply and ticket.

It signs messages exactly as WeChat does and posts them through the real callback; photos go to the
WeChat API stub, from which the media-fetch job downloads them. Only served when WECHAT_STUB is on.
"""
import re
import secrets
import time

from flask import Blueprint, abort, current_app, make_response, redirect, render_template, request, session, url_for
from markupsafe import Markup, escape
from sqlalchemy import select

from dispatch.audio import sample_amr
from dispatch.extensions import db
from dispatch.intake.wechat_service import reply_given
from dispatch.timeutil import now
from dispatch.tickets.models import Ticket
from dispatch.wechat import protocol, stub
from dispatch.wechat.accounts import all_accounts, keys
from dispatch.wechat.models import InboundMessage, WeChatAccount

bp = Blueprint("simulator", __name__, url_prefix="/dev/wechat")
KINDS = {"text": "文字", "image": "照片", "voice": "语音（带识别文字）", "voice_raw": "语音（无法识别）",
         "location": "位置", "subscribe": "关注公众号（文字写社区代码：扫该社区的二维码）", "MY_TICKETS": "菜单：我的工单",
         "HOTLINE": "菜单：服务电话"}
H5_SIGN_IN = "h5_openid:"  # the resident pages' session key per account (dispatch.resident.views._openid_key)
LINK = re.compile(r"&lt;a href=&#34;((?:https?://|tel:)[^&]*)&#34;&gt;(.*?)&lt;/a&gt;")
# A tap-to-send link (weixin://bizmsgmenu): shown as its words, which the resident can send as a note.
MENU_LINK = re.compile(r"&lt;a href=&#34;weixin://bizmsgmenu[^&]*(?:&amp;[^&]*)*&#34;&gt;(.*?)&lt;/a&gt;")


@bp.before_request
def only_in_demo():
    """Nothing here exists unless the app serves the WeChat stub (development)."""
    if not current_app.config.get("WECHAT_STUB"):
        abort(404)


def linkify(reply):
    """A reply's text as HTML: everything escaped, then our own <a href> links (http or tel) made live."""
    html = MENU_LINK.sub(r"「\1」", str(escape(reply or "")))
    return Markup(LINK.sub(r'<a href="\1">\2</a>', html).replace("\n", "<br>"))


def _message(account, openid, kind, form, files):
    """The resident's message as WeChat would push it."""
    values, msg_type = {}, kind
    if kind == "text":
        values["Content"] = form.get("content", "")
    elif kind == "image":
        photo = files.get("photo")
        data = photo.read() if photo else b""
        values.update(PicUrl="http://mmbiz.example/pic", MediaId=stub.STATE.add_media(data, photo.mimetype
                                                                                         if photo else "image/jpeg"))
    elif kind in ("voice", "voice_raw"):
        msg_type = "voice"
        voice = sample_amr(3.0, seed=secrets.randbits(32))  # a real AMR file, which the ticket page plays
        values.update(MediaId=stub.STATE.add_media(voice, "audio/amr"), Format="amr")
        if kind == "voice":
            values["Recognition"] = form.get("content", "")
    elif kind == "location":
        values.update(Location_X=form.get("lat", "36.0671"), Location_Y=form.get("lng", "120.3826"), Scale="16",
                      Label=form.get("content") or "青岛市市南区")
    elif kind == "subscribe":
        msg_type, values = "event", {"Event": "subscribe"}
        scene = form.get("content", "").strip()  # a community's code: followed through its QR code
        if scene:
            values["EventKey"] = f"qrscene_{scene}"
    else:
        msg_type, values = "event", {"Event": "CLICK", "EventKey": kind}
    if msg_type != "event":
        values["MsgId"] = int(time.time() * 1000) * 100 + secrets.randbelow(100)
    return protocol.Outgoing(f"gh_{account.code}", openid, msg_type, int(time.time()), values).xml()


def _post_as_wechat(account, xml):
    """Sign and post through the real callback (safe mode when the account has an AES key)."""
    timestamp, nonce = str(int(time.time())), secrets.token_hex(4)
    query = {"signature": protocol.sign(account.token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}
    body = xml
    if account.aes_key:
        encrypt, msg_signature = protocol.encrypt_for(keys(account), xml, nonce, timestamp)
        query.update(encrypt_type="aes", msg_signature=msg_signature)
        body = f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    # At the address the simulator was opened at, so reply links point where the browser already is.
    response = current_app.test_client().post(f"/wechat/{account.code}", query_string=query, data=body.encode(),
                                              base_url=request.host_url)
    return response.status_code


def _conversation(account, openid):
    """The last messages of this resident to this account, with the replies they got."""
    rows = db.session.scalars(select(InboundMessage).where(
        InboundMessage.account_id == account.id, InboundMessage.from_openid == openid)
        .order_by(InboundMessage.id.desc()).limit(12)).all()
    out = []
    for row in reversed(rows):
        fields = protocol.parse_xml(row.raw)
        said = fields.get("Content") or fields.get("Recognition") or fields.get("Label") or \
            KINDS.get(fields.get("EventKey") or "", None) or {"image": "[照片]", "voice": "[语音]"}.get(
                row.msg_type, f"[{row.event or row.msg_type}]")
        ticket = db.session.get(Ticket, row.ticket_id) if row.ticket_id else None
        reply = reply_given(account, row, now())
        out.append({"said": said, "reply": linkify(reply) if reply else None, "ticket": ticket, "status": row.status})
    return out


@bp.route("", methods=["GET", "POST"])
def simulator():
    """Pick an account and a resident, send something, read the answer."""
    accounts = all_accounts()
    code = request.values.get("account") or (accounts[0].code if accounts else None)
    account = db.session.scalar(select(WeChatAccount).where(WeChatAccount.code == code)) if code else None
    openid = (request.values.get("openid") or "o_demo_resident").strip()[:64]
    if request.method == "POST" and account is not None:
        kind = request.form.get("kind", "text")
        _post_as_wechat(account, _message(account, openid, kind if kind in KINDS else "text", request.form,
                                          request.files))
        return redirect(url_for(".simulator", account=account.code, openid=openid))
    return _playing(openid, render_template("intake/simulator.html", accounts=accounts, account=account,
                                            openid=openid, kinds=KINDS,
                                            conversation=_conversation(account, openid) if account else []))


def _playing(openid, page):
    """This browser is now the resident `openid`: the links in replies sign in as them, not as whoever was before.

    The stub's OAuth answers with the openid of its stub_openid cookie, and the H5 pages' sign-ins of anyone else
    (session keys h5_openid:<account>, see dispatch.resident.views) are forgotten, so a link goes through it."""
    for key in [k for k in session if k.startswith(H5_SIGN_IN) and session[k] != openid]:
        session.pop(key)
    response = make_response(page)
    response.set_cookie(stub.OPENID_COOKIE, openid, path=stub.bp.url_prefix, httponly=True, samesite="Lax")
    return response
