"""The channel interface, the message handed to it, what it answers, and the registry."""
from dataclasses import dataclass

REGISTRY = {}


@dataclass(frozen=True)
class Outgoing:
    """One message ready to go: where to, which template, the fitted fields, the link, the idempotency key."""

    notification_id: int
    account: object | None   # the WeChat account it goes through (None for channels without one)
    openid: str | None
    phone: str | None
    template_id: str
    data: dict
    url: str
    client_msg_id: str
    text: str                # a plain-text rendering (log, SMS)


@dataclass(frozen=True)
class Result:
    """How a send ended. kind: sent, retry (try later), stop (the person refuses or left), failed
    (configuration: do not retry the same payload)."""

    kind: str
    msgid: str | None = None
    code: str | None = None
    message: str | None = None


def register(name):
    """Class decorator: make a channel available under a name."""
    def add(cls):
        REGISTRY[name] = cls()
        return cls
    return add


def channel(name):
    """The channel registered under this name, or None."""
    return REGISTRY.get(name)
