"""Time without an app: UTC instants, Asia/Shanghai on screen, the system clock (no Flask, no database)."""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def system_now():
    """The real current time, aware, in UTC."""
    return datetime.now(timezone.utc)


def as_utc(value):
    """Treat a naive datetime as UTC and convert an aware one to UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def local(value):
    """Show a stored instant in Asia/Shanghai."""
    return as_utc(value).astimezone(SHANGHAI) if value else None
