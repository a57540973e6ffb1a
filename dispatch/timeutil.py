"""Time in one place: UTC in the database, Asia/Shanghai on screen, an injectable clock."""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

SHANGHAI = ZoneInfo("Asia/Shanghai")


def system_now():
    """The real current time, aware, in UTC."""
    return datetime.now(timezone.utc)


def now():
    """The app's clock: tests freeze it by setting config['CLOCK'] to a callable."""
    clock = current_app.config.get("CLOCK") if current_app else None
    return clock() if clock else system_now()


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


class UTCDateTime(TypeDecorator):
    """Stores naive UTC (SQLite has no time zones) and always hands back aware UTC datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return as_utc(value).replace(tzinfo=None) if value is not None else None

    def process_result_value(self, value, dialect):
        return value.replace(tzinfo=timezone.utc) if value is not None else None
