"""A stand-in for WeChat's servers, for tests and the local demo: tokens, media, OAuth, template sends.

Mounted at /_stub/wechat when WECHAT_STUB is on (development), or served alone by tests on a real port.
It speaks the documented shapes and error codes; nothing here runs in production.
"""
import itertools
import re
import secrets
import threading
import time
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, abort, current_app, jsonify, redirect, request

from dispatch.extensions import csrf

bp = Blueprint("wechat_stub", __name__, url_prefix="/_stub/wechat")
csrf.exempt(bp)  # called by our own server-side code, like WeChat's API: no browser session involved


@bp.before_request
def only_when_enabled():
    """The stub exists only in the demo (WECHAT_STUB) and in the stub-only app tests serve."""
    if not current_app.config.get("WECHAT_STUB"):
        abort(404)


class StubState:
    """What the stub remembers: media files, OAuth codes, tokens issued and messages sent."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        """Forget everything (between tests)."""
        self.media = {}          # media_id -> (content type, bytes)
        self.codes = {}          # OAuth code -> openid
        self.tokens = {}         # appid -> current token
        self.token_fetches = 0
        self.sent = []           # template message bodies, one per delivery (a repeated client_msg_id is not one)
        self.deliveries = {}     # (touser, client_msg_id) -> msgid: WeChat's idempotency, kept for the whole run
        self.calls = 0           # every send call, repeats and refusals included
        self.errors = {}         # openid -> errcode answered for every send to them (43004, 43101, ...)
        self.fail_next = []      # errcodes (or "down" for an HTTP 503) answered by the next send calls, in order
        self.templates = None    # a set of known template ids (None: any); others answer 40037
        self.delay = 0.0         # seconds each send waits before answering (to make a client time out)
        self.default_openid = "o_demo_resident"
        self.counter = itertools.count(1)

    def add_media(self, data, content_type="image/jpeg", media_id=None):
        """Make bytes downloadable by a media id, as if a resident had sent them."""
        media_id = media_id or f"media-{next(self.counter)}-{secrets.token_hex(4)}"
        with self.lock:
            self.media[media_id] = (content_type, data)
        return media_id


STATE = StubState()
OPENID_COOKIE = "stub_openid"  # who the browser is at the stub's OAuth (the simulator sets it to its resident)


def _error(code, message):
    return jsonify({"errcode": code, "errmsg": message})


def _token_ok():
    token = request.args.get("access_token", "")
    return token and token in STATE.tokens.values()


def _issue_token(appid):
    with STATE.lock:
        STATE.token_fetches += 1
        STATE.tokens.setdefault(appid, f"stub-token-{appid}-{secrets.token_hex(6)}")
        return STATE.tokens[appid]


@bp.route("/cgi-bin/stable_token", methods=["POST"])
def stable_token():
    """The same token while it is valid (unless force_refresh), like WeChat's stable_token."""
    body = request.get_json(silent=True) or {}
    if not body.get("appid") or not body.get("secret"):
        return _error(40002, "invalid grant_type / appid / secret")
    if body.get("force_refresh"):
        STATE.tokens.pop(body["appid"], None)
    return jsonify({"access_token": _issue_token(body["appid"]), "expires_in": 7200})


@bp.get("/cgi-bin/token")
def token():
    """The classic token endpoint."""
    return jsonify({"access_token": _issue_token(request.args.get("appid", "")), "expires_in": 7200})


@bp.get("/cgi-bin/media/get")
def media_get():
    """A temporary media file, or errcode 40007 for an unknown id."""
    if not _token_ok():
        return _error(40001, "invalid credential, access_token is invalid or not latest")
    found = STATE.media.get(request.args.get("media_id", ""))
    if found is None:
        return _error(40007, "invalid media_id")
    content_type, data = found
    return Response(data, mimetype=content_type)


@bp.get("/connect/oauth2/authorize")
def authorize():
    """Silent snsapi_base: straight back to redirect_uri with a one-time code for the stub's resident."""
    openid = request.args.get("stub_openid") or request.cookies.get(OPENID_COOKIE) or STATE.default_openid
    code = secrets.token_urlsafe(12)
    with STATE.lock:
        STATE.codes[code] = openid
    target = request.args.get("redirect_uri", "")
    joiner = "&" if "?" in target else "?"
    return redirect(f"{target}{joiner}{urlencode({'code': code, 'state': request.args.get('state', '')})}")


@bp.get("/sns/oauth2/access_token")
def oauth_access_token():
    """Exchange a code (single use) for the openid."""
    with STATE.lock:
        openid = STATE.codes.pop(request.args.get("code", ""), None)
    if openid is None:
        return _error(40029, "invalid code")
    return jsonify({"access_token": "stub-oauth", "expires_in": 7200, "openid": openid, "scope": "snsapi_base"})


TYPE_RULES = {"thing": (20, None), "character_string": (32, re.compile(r"^[\x21-\x7e]*$")),
              "phrase": (5, re.compile(r"^[\u4e00-\u9fff]*$"))}


def _field_error(data):
    """47003 for what WeChat refuses since 2023-05-04: first/remark, a value too long or of the wrong kind."""
    for key, field in (data or {}).items():
        value = str((field or {}).get("value", ""))
        kind = key.rstrip("0123456789")
        if kind in ("first", "remark") or kind == key:
            return f"argument invalid! data.{key} not allowed"
        limit, pattern = TYPE_RULES.get(kind, (None, None))
        if (limit and len(value) > limit) or (pattern and not pattern.match(value)):
            return f"argument invalid! data.{key}.value invalid"
    return None


def _refusal(body):
    """The error a send earns, if any: injected faults first, then the recipient, the template, the fields."""
    with STATE.lock:
        fault = STATE.fail_next.pop(0) if STATE.fail_next else None
    if fault == "down":
        return Response("busy", status=503)
    if fault is not None:
        return _error(fault, "injected")
    if body.get("touser") in STATE.errors:
        return _error(STATE.errors[body["touser"]], "recipient refused")
    if STATE.templates is not None and body.get("template_id") not in STATE.templates:
        return _error(40037, "invalid template_id")
    problem = _field_error(body.get("data"))
    return _error(47003, problem) if problem else None


def _deliver(body):
    """Deliver once per (touser, client_msg_id): a repeat answers the first msgid and delivers nothing."""
    key = (body.get("touser"), body.get("client_msg_id")) if body.get("client_msg_id") else None
    with STATE.lock:
        if key in STATE.deliveries:
            return STATE.deliveries[key]
        STATE.sent.append(body)
        msgid = 1000 + len(STATE.sent)
        if key:
            STATE.deliveries[key] = msgid
    return msgid


@bp.post("/cgi-bin/message/template/send")
def template_send():
    """A template message: checked like WeChat checks it, delivered once per client_msg_id."""
    with STATE.lock:
        STATE.calls += 1
    if STATE.delay:
        time.sleep(STATE.delay)
    if not _token_ok():
        return _error(40001, "invalid credential")
    body = request.get_json(silent=True) or {}
    refused = _refusal(body)
    if refused is not None:
        return refused
    return jsonify({"errcode": 0, "errmsg": "ok", "msgid": _deliver(body)})


@bp.post("/cgi-bin/message/template/subscribe")
def subscribe_send():
    """A one-time subscription message (no follow needed); only the recipient's refusals apply."""
    if not _token_ok():
        return _error(40001, "invalid credential")
    body = request.get_json(silent=True) or {}
    if body.get("touser") in STATE.errors:
        return _error(STATE.errors[body["touser"]], "recipient refused")
    return jsonify({"errcode": 0, "errmsg": "ok", "msgid": _deliver(body)})


@bp.get("/_state")
def state():
    """What was delivered, for a benchmark or test in another process: deliveries per client_msg_id."""
    with STATE.lock:
        return jsonify({"calls": STATE.calls, "sent": len(STATE.sent), "deliveries": len(STATE.deliveries),
                        "token_fetches": STATE.token_fetches})


@bp.post("/_state")
def set_state():
    """Reset the stub, or set faults, from another process (JSON: reset, fail_next, errors, delay)."""
    body = request.get_json(silent=True) or {}
    if body.get("reset"):
        STATE.reset()
    with STATE.lock:
        STATE.fail_next.extend(body.get("fail_next", []))
        STATE.errors.update(body.get("errors", {}))
        STATE.delay = float(body.get("delay", STATE.delay))
    return jsonify({"ok": True})


def create_stub_app():
    """The stub alone, for a test server on its own port (base URL: http://host:port/_stub/wechat)."""
    app = Flask(__name__)
    app.config["WECHAT_STUB"] = True
    app.register_blueprint(bp)
    return app
