"""A notification in words (Content) and its dates in the reader's language (Formatter)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from flask_babel import gettext as _


@dataclass(frozen=True)
class Content:
    """A notification in words: what the e-mail and the in-app page both show."""

    subject: str
    paragraphs: list[str]
    link: tuple[str, dict[str, Any]] | None  # (endpoint, values)
    link_label: str


class Formatter:
    """Dates and times in one person's language and time zone."""

    def __init__(self, locale: str, timezone: str) -> None:
        self.locale = locale
        self.zone = ZoneInfo(timezone)

    def when(self, value: str | datetime | None) -> str:
        """A full local date and time, e.g. 2026年3月10日星期二 14:30."""
        if not value:
            return ""
        instant = datetime.fromisoformat(value) if isinstance(value, str) else value
        local = instant.astimezone(self.zone)
        day = format_date(local.date(), "full", locale=self.locale)
        return f"{day} {format_time(local, 'HH:mm', locale=self.locale)}"

    def day(self, value: str | date | None) -> str:
        """A date, e.g. 2026年3月10日."""
        if not value:
            return ""
        day = date.fromisoformat(value) if isinstance(value, str) else value
        return format_date(day, "long", locale=self.locale)


def event_when(p: Mapping[str, Any], fmt: Formatter) -> str:
    """When an event (or one session of it) takes place, as a sentence."""
    if p.get("all_day"):
        if p.get("first_day") == p.get("last_day"):
            return _("It takes place on %(day)s.", day=fmt.day(p.get("first_day")))
        return _("It runs from %(start)s to %(end)s.", start=fmt.day(p.get("first_day")),
                 end=fmt.day(p.get("last_day")))  # fmt: skip
    return _("It starts %(start)s and ends %(end)s.", start=fmt.when(p.get("starts_at")),
             end=fmt.when(p.get("ends_at")))  # fmt: skip
