"""Event fields from a parsed VEVENT: times, recurrence, and the starting choices.

The source owns the title, times, place, description and recurrence. The kind
(guessed from the event's words) and the credited hours (its length, at most six
hours a day) are only where an imported event starts; staff change them after.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from pdtracker.calendar.ics_import import Deadline, ImportedEvent
from pdtracker.events.recurrence import normalise_rrule
from pdtracker.events.services import EventData

HOURS_PER_DAY = Decimal(6)  # credited per day at most, for imported events
_CONFERENCE_WORDS = (
    "会议",
    "论坛",
    "峰会",
    "大会",
    "博览",
    "conference",
    "forum",
    "summit",
)
_SEMINAR_WORDS = ("研讨", "座谈", "沙龙", "seminar", "workshop", "colloquium")


def guess_kind(summary: str, categories: tuple[str, ...] = ()) -> str:
    """Pick the event kind from its words: conference, seminar, else expert lecture."""
    text = " ".join((summary, *categories)).lower()
    if any(word in text for word in _CONFERENCE_WORDS):
        return "industry_conference"
    if any(word in text for word in _SEMINAR_WORDS):
        return "seminar"
    return "expert_lecture"


def default_hours(item: ImportedEvent, tzid: str) -> Decimal:
    """Credited hours for an imported event: its length, at most 6 hours per day."""
    if item.all_day:
        first_day: date = item.start
        end_day: date = item.end
        return HOURS_PER_DAY * (end_day - first_day).days
    zone = ZoneInfo(tzid)
    start, end = _instants(item)
    last = max(start, end - timedelta(microseconds=1))
    days = (last.astimezone(zone).date() - start.astimezone(zone).date()).days + 1
    hours = Decimal((end - start).total_seconds()) / 3600
    hours = min(hours, HOURS_PER_DAY * days)
    # Round to half hours.
    return (hours * 2).quantize(Decimal(1), rounding=ROUND_HALF_UP) / 2


def _instants(item: ImportedEvent) -> tuple[datetime, datetime]:
    """A timed event's start and end (the parser gives dates only when all-day)."""
    if not isinstance(item.start, datetime) or not isinstance(item.end, datetime):
        raise ValueError("a timed event needs a start and an end time")
    return item.start, item.end


def event_data(item: ImportedEvent, deadline: Deadline, **kept: Any) -> EventData:
    """Map a parsed event to event fields; ``kept`` holds staff-owned values."""
    tzid = item.tzid
    times: dict[str, Any]
    if item.all_day:
        times = {"start_on": item.start, "end_on": item.end}
        first: datetime | date = item.start
    else:
        times = {"starts_at": item.start, "ends_at": item.end}
        first = _instants(item)[0].astimezone(ZoneInfo(tzid))
    rule = None
    if item.rrule:
        rule = normalise_rrule(
            item.rrule, first, tzid, all_day=item.all_day, deadline=deadline
        )
    kept.setdefault("kind_code", guess_kind(item.summary, item.categories))
    kept.setdefault("credited_hours", default_hours(item, tzid))
    return EventData(
        title=(item.summary or item.uid)[:200],
        description=item.description,
        location=item.location[:500] if item.location else None,
        source_url=item.url,
        tzid=tzid,
        is_all_day=item.all_day,
        rrule=rule,
        exdates=[v.isoformat() for v in item.exdates],
        **times,
        **kept,
    )
