"""WeChat template messages and one-time subscription messages, with WeChat's errors sorted by what to do."""
from dispatch.notify.channels.base import Result, register
from dispatch.wechat.client import TOKEN_ERRORS, WeChatError, access_token, send_subscribe, send_template

RETRY_CODES = {-1, 45009, 43117}   # busy, rate or quota limit, too frequent to this user: later
STOP_CODES = {43004: "居民已取消关注公众号", 43101: "居民拒收公众号消息"}


def _outcome(send, account, body, now):
    """Send, and turn the answer or the failure into a Result."""
    try:
        return Result("sent", msgid=str(send(account, body, now) or ""))
    except WeChatError as exc:
        code = exc.errcode
        if code in STOP_CODES:
            return Result("stop", code=str(code), message=STOP_CODES[code])
        # A token still refused after the client's one refresh is retried later, like a busy WeChat.
        if code is None or code in RETRY_CODES or code in TOKEN_ERRORS:
            return Result("retry", code=str(code) if code is not None else "network", message=str(exc))
        return Result("failed", code=str(code), message=str(exc))  # 40037, 47003, 43116 ...: fix the setup


class WeChatChannel:
    """What both WeChat channels share: an openid to send to, and the account's token fetched up front."""

    needs = "openid"

    def warm(self, outs, now):
        """Fetch each account's token once, before the sends fan out (a failure here is the sends' to report)."""
        for account in {out.account.code: out.account for out in outs}.values():
            try:
                access_token(account, now)
            except WeChatError:
                pass


@register("wechat_template")
class TemplateChannel(WeChatChannel):
    """A template message to a follower of the account; client_msg_id makes a retried send deliver once."""

    def send(self, out, now):
        body = {"touser": out.openid, "template_id": out.template_id, "url": out.url, "data": out.data,
                "client_msg_id": out.client_msg_id}
        return _outcome(send_template, out.account, body, now)


@register("wechat_subscribe")
class SubscribeChannel(WeChatChannel):
    """A one-time subscription message (one per opt-in; no follow needed)."""

    def send(self, out, now):
        body = {"touser": out.openid, "template_id": out.template_id, "url": out.url, "scene": "1000",
                "title": out.text[:15] or "办理进展", "data": {"content": {"value": out.text[:200]}}}
        return _outcome(send_subscribe, out.account, body, now)
