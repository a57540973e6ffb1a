"""A volunteer signs in to the desk from WeChat: a silent snsapi_base OAuth round trip, matched by openid.

The volunteers' own door, so org (password login, the principal) needs to know nothing of WeChat or teams.
"""
import hmac
import logging
import secrets

from flask import Blueprint, flash, redirect, render_template, request, session, url_for

from dispatch.org.auth import logged_in, safe_next
from dispatch.teams.desk_services import volunteer_for_openid
from dispatch.urls import base_url
from dispatch.wechat.accounts import account_by_code
from dispatch.wechat.client import WeChatError, authorize_url, openid_for_code

bp = Blueprint("desk_login", __name__)
log = logging.getLogger(__name__)
WECHAT_STATE = "desk_oauth"  # the session key holding [state, account code, next page] of a WeChat sign-in


@bp.get("/login/wechat/<account_code>")
def wechat_login(account_code):
    """A volunteer opens the desk from an official account's menu: a silent snsapi_base sign-in."""
    account = account_by_code(account_code)
    if account is None:
        return _wechat_refused("找不到这个公众号，请从公众号菜单重新进入", 404)
    return start_wechat(WECHAT_STATE, account, base_url() + url_for(".wechat_return"),
                        safe_next(request.args.get("next")))


@bp.get("/login/wechat/return")
def wechat_return():
    """WeChat's return: check the state, exchange the code, log in the volunteer bound to that openid."""
    try:
        kept, openid = openid_from_wechat(WECHAT_STATE)
    except WeChatReturnRefused as exc:
        return _wechat_refused({"state": "这个登录链接已经失效了，请从公众号菜单重新进入",
                                "account": "找不到这个公众号，请从公众号菜单重新进入",
                                "network": "微信登录没有成功，可能是网络不好，请稍后从公众号菜单重新进入"}[exc.why],
                               exc.status)
    user = volunteer_for_openid(openid)
    if user is None:
        return _wechat_refused("这个微信号还没有绑定志愿者账号。请社区主任在「服务队」您的资料页生成绑定二维码，"
                               "用这个微信扫一扫就绑定好了；也可以先用用户名和密码登录。", 403)
    return logged_in(user, kept[0])


def start_wechat(key, account, return_to, *kept):
    """Off to WeChat's silent snsapi_base sign-in; a fresh state and what to remember are kept under `key`."""
    state = secrets.token_hex(16)
    session[key] = [state, account.code, *kept]
    return redirect(authorize_url(account, return_to, state))


class WeChatReturnRefused(Exception):
    """WeChat's return cannot be used: `why` is state (forged, stale), account (removed meanwhile) or network."""

    def __init__(self, why, status):
        super().__init__(why)
        self.why, self.status = why, status


def openid_from_wechat(key):
    """(what start_wechat kept after the account, the openid) once WeChat came back with the state we sent and
    its code was exchanged; else WeChatReturnRefused. The state is used once."""
    kept = session.pop(key, None)
    state, code = request.args.get("state", ""), request.args.get("code", "")
    if not (isinstance(kept, list) and len(kept) >= 2 and code
            and hmac.compare_digest(str(kept[0]).encode(), state.encode("utf-8"))):
        raise WeChatReturnRefused("state", 400)
    account = account_by_code(kept[1])
    if account is None:  # removed while the person was at WeChat
        raise WeChatReturnRefused("account", 400)
    try:
        return kept[2:], openid_for_code(account, code)
    except WeChatError as exc:
        log.warning("WeChat sign-in via %s: OAuth code exchange failed: %s", kept[1], exc)
        raise WeChatReturnRefused("network", 503 if exc.transient else 400) from exc


def _wechat_refused(message, status):
    """The login page with why the WeChat sign-in did not work; the password form still works."""
    flash(message, "error")
    return render_template("login.html"), status
