"""The development channel: the message goes to the application log and counts as sent."""
import logging

from dispatch.notify.channels.base import Result, register

log = logging.getLogger("dispatch.notify.log_channel")


@register("log")
class LogChannel:
    """Writes one log line per message; nothing leaves the machine."""

    needs = None

    def send(self, out, now):
        log.info("notification %s to %s: %s %s", out.notification_id, out.openid or out.phone or "-", out.text,
                 out.url)
        return Result("sent", msgid=f"log-{out.notification_id}")
