"""The volunteer's side of binding WeChat: the page a scanned bind QR code opens (in WeChat, 360 px), the silent
OAuth round trip that tells their openid, and the desk they land on once bound."""
from flask import Blueprint, flash, render_template, url_for

from dispatch.errors import AppError
from dispatch.org.auth import logged_in
from dispatch.teams.desk_login import WeChatReturnRefused, openid_from_wechat, start_wechat
from dispatch.teams import binding
from dispatch.timeutil import now
from dispatch.urls import base_url

bp = Blueprint("volunteer_bind", __name__)
BIND_STATE = "bind_oauth"  # the session key holding [state, account code, token] during the WeChat round trip


def _refused(message, status):
    return render_template("teams/bind.html", refusal=message, volunteer=None), status


def _volunteer(token):
    """(the link's volunteer, None) while the link can be used, else (None, the kind refusal page)."""
    try:
        return binding.volunteer_for_link(token, now()), None
    except AppError as exc:
        return None, _refused(exc.message, exc.status)


@bp.get("/bind/<token>")
def confirm(token):
    """Who is about to be bound, with one big button; a used, replaced or expired link says what to do."""
    volunteer, refusal = _volunteer(token)
    if refusal:
        return refusal
    return render_template("teams/bind.html", refusal=None, volunteer=volunteer, token=token,
                           account=binding.account_for(volunteer))


@bp.get("/bind/<token>/wechat")
def start(token):
    """Off to WeChat's silent sign-in, which comes back with this phone's openid."""
    volunteer, refusal = _volunteer(token)
    if refusal:
        return refusal
    account = binding.account_for(volunteer)
    if account is None:
        return _refused("平台还没有接入公众号，暂时不能绑定微信。请队员先用用户名和密码登录。", 503)
    return start_wechat(BIND_STATE, account, base_url() + url_for(".finish"), token)


@bp.get("/bind/return")
def finish():
    """WeChat's return: check the state, get the openid, record it on the volunteer, open their task list."""
    try:
        kept, openid = openid_from_wechat(BIND_STATE)
        user = binding.bind(kept[0], openid, now())
    except WeChatReturnRefused as exc:
        return _refused({"state": "这次绑定没有完成，请重新扫一次社区主任给的二维码。",
                         "account": "平台的公众号设置刚刚有变动，请重新扫一次二维码。",
                         "network": "微信没有响应，可能是网络不好。请稍后重新扫一次二维码。"}[exc.why], exc.status)
    except AppError as exc:
        return _refused(exc.message, exc.status)
    flash("微信绑定好了！以后从公众号菜单「我的任务」进入，不用再输密码。", "success")
    return logged_in(user, url_for("desk.index"))
