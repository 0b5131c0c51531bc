"""What the event form shows before saving: the sessions a schedule makes, in words."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask_babel import get_locale

from pdtracker.events.models import Event
from pdtracker.events.occurrences import Occurrence
from pdtracker.events.rulespec import parse_rrule
from pdtracker.events.series_words import describe_series
from pdtracker.events.services import EventData
from pdtracker.events.sessions import SessionInfo, list_sessions

MAX_SHOWN = 200  # sessions listed in a preview


def preview_sessions(data: EventData) -> list[Occurrence]:
    """The occurrences the form's schedule makes (at most MAX_SHOWN)."""
    return list(data.occurrences(limit=MAX_SHOWN))


def preview_words(data: EventData) -> str:
    """The schedule in words, in the event's zone ("" for a single event)."""
    if not data.rrule:
        return ""
    starts_at, ends_at = data.span
    zone = ZoneInfo(data.tzid)
    first = starts_at.astimezone(zone)
    spec = parse_rrule(data.rrule, first.date(), zone)
    endless = "COUNT=" not in data.rrule and "UNTIL=" not in data.rrule
    return describe_series(
        spec,
        first.date() if data.is_all_day else first,
        None if data.is_all_day else ends_at.astimezone(zone),
        count=None if endless else len(preview_sessions(data)),
        locale=str(get_locale()),
    )


def sessions_of_kept_rule(event: Event) -> list[SessionInfo]:
    """The sessions of an event whose rule the form cannot show (read-only list)."""
    return list_sessions(event)[:MAX_SHOWN]
