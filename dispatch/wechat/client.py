"""Calls to WeChat's servers: the shared access token, media download, the OAuth code exchange.

Every URL starts from WECHAT_API_BASE_URL, so tests and the demo talk to a local stub, never the internet.
"""
import threading
import urllib.request
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

import requests
from flask import current_app

from dispatch.urls import base_url
from dispatch.wechat.tokens import TOKEN_MARGIN, token_store

TOKEN_ERRORS = {40001, 40014, 42001}


class WeChatError(Exception):
    """WeChat answered with an errcode, or could not be reached; `transient` says whether to retry."""

    def __init__(self, message, errcode=None, transient=False):
        super().__init__(message)
        self.errcode = errcode
        self.transient = transient


def _base():
    return base_url("WECHAT_API_BASE_URL")


_local = threading.local()


def _session(base):
    """This thread's kept-alive session for a base URL. The environment's proxies (and no_proxy) are read once,
    not on every call: requests' per-call .netrc and proxy lookups cost more than a send to a local peer."""
    sessions = _local.__dict__.setdefault("sessions", {})
    if base not in sessions:
        session = requests.Session()
        session.trust_env = False
        if not urllib.request.proxy_bypass(urlsplit(base).hostname or ""):
            session.proxies = {k: v for k, v in urllib.request.getproxies().items() if k in ("http", "https")}
        sessions[base] = session
    return sessions[base]


def _call(method, path, **kwargs):
    """One HTTP call to WeChat; network trouble becomes a transient WeChatError."""
    base = _base()
    try:
        return _session(base).request(method, base + path, timeout=current_app.config["WECHAT_HTTP_TIMEOUT"],
                                      **kwargs)
    except requests.RequestException as exc:
        raise WeChatError(f"无法连接微信服务器：{exc.__class__.__name__}", transient=True) from None


def _json(response):
    """The JSON of a reply, raising WeChatError for errcode ≠ 0."""
    if response.status_code >= 500:
        raise WeChatError(f"微信服务器错误 HTTP {response.status_code}", transient=True)
    try:
        body = response.json()
    except ValueError:
        raise WeChatError(f"微信返回了无法解析的内容（HTTP {response.status_code}）", transient=True) from None
    errcode = body.get("errcode", 0)
    if errcode:
        raise WeChatError(f"微信错误 {errcode}：{body.get('errmsg', '')}", errcode=errcode,
                          transient=errcode in TOKEN_ERRORS or errcode == -1)
    return body


_seen_tokens = {}  # appid -> (token, expires): this process's copy of the shared token


def _is_due(now):
    return lambda token, expires: not token or not expires or expires - TOKEN_MARGIN <= now


def access_token(account, now, force=False, stale=None):
    """The account's token, shared by every process through the token store; fetched with stable_token when due.

    force: WeChat refused `stale` (or the one this process holds); refresh unless another process already did.
    """
    due = _is_due(now)
    held = _seen_tokens.get(account.appid)
    if not force and held and not due(*held):
        return held[0]
    store = token_store()
    token, expires = store.read(account)
    stale = stale or (held[0] if held else None)
    if due(token, expires) or (force and token == stale):
        def fetch():
            body = _json(_call("POST", "/cgi-bin/stable_token", json={
                "grant_type": "client_credential", "appid": account.appid, "secret": account.secret,
                "force_refresh": bool(force)}))
            return body["access_token"], now + timedelta(seconds=int(body.get("expires_in", 7200)))
        token, expires = store.refresh(account, fetch, lambda t, e: due(t, e) or (force and t == stale))
    _seen_tokens[account.appid] = (token, expires)
    return token


def forget_tokens():
    """Drop this process's copies (tests, after the stub forgets its tokens)."""
    _seen_tokens.clear()


def download_media(account, media_id, now, max_bytes):
    """(content type, bytes) of a temporary media file; WeChatError when it is gone or too large."""
    for attempt in (1, 2):
        token = access_token(account, now, force=attempt == 2)
        response = _call("GET", "/cgi-bin/media/get", params={"access_token": token, "media_id": media_id},
                         stream=True)
        content_type = response.headers.get("Content-Type", "")
        if "json" in content_type or "text/plain" in content_type:
            try:
                _json(response)
            except WeChatError as exc:
                if exc.errcode in TOKEN_ERRORS and attempt == 1:
                    continue
                raise
        return content_type, _read_capped(response, max_bytes)
    raise WeChatError("access token 刷新后仍被拒绝", transient=True)


def _read_capped(response, max_bytes):
    """The body, refusing to read more than max_bytes (a resident cannot fill our disk)."""
    data = bytearray()
    for chunk in response.iter_content(64 * 1024):
        data += chunk
        if len(data) > max_bytes:
            response.close()
            raise WeChatError(f"文件超过 {max_bytes // (1024 * 1024)} MB", errcode="too_large")
    return bytes(data)


def authorize_url(account, redirect_uri, state):
    """Where to send a resident's browser for a silent snsapi_base login."""
    query = urlencode({"appid": account.appid, "redirect_uri": redirect_uri, "response_type": "code",
                       "scope": "snsapi_base", "state": state})
    return f"{base_url('WECHAT_OPEN_BASE_URL')}/connect/oauth2/authorize?{query}#wechat_redirect"


def openid_for_code(account, code):
    """Exchange an OAuth code for the resident's openid."""
    body = _json(_call("GET", "/sns/oauth2/access_token", params={
        "appid": account.appid, "secret": account.secret, "code": code, "grant_type": "authorization_code"}))
    return body["openid"]


def send_template(account, body, now):
    """POST one template message; its msgid. A refused token is refreshed and the send tried once more."""
    return _send_message(account, "/cgi-bin/message/template/send", body, now)


def send_subscribe(account, body, now):
    """POST one one-time subscription message (the resident opted in for one message); its msgid or None."""
    return _send_message(account, "/cgi-bin/message/template/subscribe", body, now)


def _send_message(account, path, body, now):
    token = access_token(account, now)
    try:
        return _json(_call("POST", path, params={"access_token": token}, json=body)).get("msgid")
    except WeChatError as exc:
        if exc.errcode not in TOKEN_ERRORS:
            raise
    token = access_token(account, now, force=True, stale=token)
    return _json(_call("POST", path, params={"access_token": token}, json=body)).get("msgid")
