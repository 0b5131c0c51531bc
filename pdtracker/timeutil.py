"""Time helpers: store UTC, show local time."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


def to_local(value: datetime, tz: str | ZoneInfo = SHANGHAI) -> datetime:
    """Convert an aware datetime to the given zone (Asia/Shanghai by default)."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    return value.astimezone(zone)


def app_zone() -> ZoneInfo:
    """The deployment's zone (``TIMEZONE``): its calendar decides what "today" is."""
    return ZoneInfo(current_app.config.get("TIMEZONE", "Asia/Shanghai"))


def local_today(now: datetime | None = None) -> date:
    """The date in the deployment's zone at ``now`` (default: this moment)."""
    return to_local(now or utcnow(), app_zone()).date()


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC that always comes back aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
