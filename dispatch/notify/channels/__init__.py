"""Channels behind one interface (`send(outgoing, now) -> Result`), found by name in a registry.

One file per channel: wechat.py (template and one-time subscription messages), log.py (development),
sms.py (the interface an operator's SMS provider plugs into). Importing this package registers them.
"""
from dispatch.notify.channels.base import REGISTRY, Outgoing, Result, channel, register  # noqa: F401
from dispatch.notify.channels import log, sms, wechat  # noqa: F401,E402  (they register themselves)
