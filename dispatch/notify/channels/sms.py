"""SMS: the interface only. An operator plugs a provider in with `set_provider`; without one, sends fail visibly.

A provider is any object with `send(phone, text) -> message id` that raises `SmsError(message, retry=bool)`.
"""
from dispatch.notify.channels.base import Result, register


class SmsError(Exception):
    """A provider's refusal; `retry` says whether trying later may help."""

    def __init__(self, message, retry=False):
        super().__init__(message)
        self.retry = retry


@register("sms")
class SmsChannel:
    """Text messages to the phone number the resident left, through the configured provider."""

    needs = "phone"
    provider = None

    def set_provider(self, provider):
        """Install the operator's SMS provider (see the README)."""
        self.provider = provider

    def send(self, out, now):
        if self.provider is None:
            return Result("failed", code="sms_unconfigured", message="未配置短信服务商，短信未发送")
        try:
            return Result("sent", msgid=str(self.provider.send(out.phone, out.text)))
        except SmsError as exc:
            return Result("retry" if exc.retry else "failed", code="sms", message=str(exc))
