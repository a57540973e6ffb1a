"""Time with the app: the injectable clock (Flask config) and the UTC column type (SQLAlchemy).

The pure names live in dispatch.localtime; they are re-exported here for the callers that already import them
from timeutil. Pure modules import localtime, so they never pull Flask or SQLAlchemy in.
"""
from datetime import timezone

from flask import current_app
from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

from dispatch.localtime import SHANGHAI, as_utc, local, system_now

__all__ = ["SHANGHAI", "UTCDateTime", "as_utc", "local", "now", "system_now"]


def now():
    """The app's clock: tests freeze it by setting config['CLOCK'] to a callable."""
    clock = current_app.config.get("CLOCK") if current_app else None
    return clock() if clock else system_now()


class UTCDateTime(TypeDecorator):
    """Stores naive UTC (SQLite has no time zones) and always hands back aware UTC datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return as_utc(value).replace(tzinfo=None) if value is not None else None

    def process_result_value(self, value, dialect):
        return value.replace(tzinfo=timezone.utc) if value is not None else None
