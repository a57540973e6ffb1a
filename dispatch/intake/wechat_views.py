"""The WeChat callback /wechat/<code>: a thin handler over the protocol and intake.wechat_service."""
import logging

from flask import Blueprint, Response, current_app, request

from dispatch.extensions import csrf
from dispatch.intake import wechat_service
from dispatch.timeutil import now
from dispatch.wechat import protocol
from dispatch.wechat.accounts import account_by_code, keys

bp = Blueprint("wechat_callback", __name__)
csrf.exempt(bp)  # WeChat signs its requests; there is no browser session to forge
log = logging.getLogger(__name__)


def _plain(text, status):
    return Response(text, status=status, mimetype="text/plain")


@bp.route("/wechat/<code>", methods=["GET", "POST"])
def callback(code):
    """GET: the handshake. POST: a resident's message or an event, answered within WeChat's 5 seconds."""
    account = account_by_code(code)
    if account is None:
        return _plain("unknown account", 404)
    request.max_content_length = current_app.config["WECHAT_MAX_BODY_BYTES"]
    try:
        if request.method == "GET":
            return _plain(protocol.verify_handshake(keys(account), request.args), 200)
        inbound = protocol.read_message(keys(account), request.args, request.get_data())
    except protocol.BadSignature as exc:
        log.warning("wechat %s: rejected request from %s: %s", code, request.remote_addr, exc)
        return _plain("invalid signature", 403)
    except protocol.BadMessage as exc:
        return _plain(f"bad request: {exc}", 400)
    at = now()
    reply = wechat_service.receive(account, inbound, at)
    if reply is None:
        return _plain("success", 200)
    xml = protocol.text_reply(inbound, reply, at)
    sealed = protocol.seal(keys(account), inbound, xml, request.args.get("nonce", ""),
                           request.args.get("timestamp", ""))
    return Response(sealed, mimetype="application/xml")
