"""How an event's time and seats read on the event pages (template globals).

A list repeats the same few texts row after row: when an event takes place
depends only on its dates, the language and the user's time zone, and its seats
line only on the numbers and the language, so each is worked out once per
combination (as the activity list does for credits, in ``activities/display.py``).
"""

from __future__ import annotations

import functools
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import get_locale, get_timezone, to_user_timezone
from flask_babel import gettext as _

from pdtracker.events.models import Event
from pdtracker.events.occurrences import expand
from pdtracker.events.rulespec import parse_rrule
from pdtracker.events.series_words import describe_series
from pdtracker.i18n import date_format, time_format


def event_when(event: Event) -> str:
    """ "12 Mar 2026 14:00 – 16:00", or the local dates of an all-day event."""
    return _when(
        event.is_all_day,
        event.start_on,
        event.last_day,
        event.starts_at,
        event.ends_at,
        str(get_locale()),
        str(get_timezone()),
    )


@functools.lru_cache(maxsize=4096)
def _when(
    all_day: bool,
    start_on: date | None,
    last_day: date | None,
    starts_at: datetime,
    ends_at: datetime,
    _locale: str,
    _zone: str,
) -> str:
    # The language and zone are part of the key; the formatters read them from
    # the request.
    if all_day:
        text = date_format(start_on)
        if last_day != start_on:
            text += " – " + date_format(last_day)
        return text
    if to_user_timezone(starts_at).date() == to_user_timezone(ends_at).date():
        end = time_format(ends_at, "short")
    else:
        end = instant(ends_at)
    return instant(starts_at) + " – " + end


def instant(moment: datetime) -> str:
    """A moment as date and hours:minutes in the user's time zone (no seconds)."""
    return date_format(moment) + " " + time_format(moment, "short")


def seats_text(capacity: int | None, taken: int, waiting: int) -> str:
    """ "3 of 20 seats left", "Full · 2 on the waiting list", "5 registered"."""
    return _seats(capacity, taken, waiting, str(get_locale()))


@functools.lru_cache(maxsize=4096)
def _seats(capacity: int | None, taken: int, waiting: int, _locale: str) -> str:
    if capacity is None:
        return _("%(count)d registered", count=taken)
    if taken < capacity:
        return _(
            "%(left)d of %(capacity)d seats left",
            left=capacity - taken,
            capacity=capacity,
        )
    if waiting:
        return _("Full") + " · " + _("%(count)d on the waiting list", count=waiting)
    return _("Full")


def series_text(event: Event) -> str:
    """A series in words in the user's language and zone; "" for a single event."""
    if not event.is_series or event.rrule is None:
        return ""
    return _series(
        event.rrule,
        event.starts_at,
        event.ends_at,
        event.tzid,
        event.is_all_day,
        tuple(event.exdates or ()),
        str(get_locale()),
        str(get_timezone()),
    )


@functools.lru_cache(maxsize=1024)
def _series(
    rrule: str,
    starts_at: datetime,
    ends_at: datetime,
    tzid: str,
    all_day: bool,
    exdates: tuple[str, ...],
    locale: str,
    zone_name: str,
) -> str:
    event_zone = ZoneInfo(tzid)
    first_day = starts_at.astimezone(event_zone).date()
    spec = parse_rrule(rrule, first_day, event_zone)
    occs = expand(
        starts_at=starts_at, ends_at=ends_at, tzid=tzid, all_day=all_day,
        rrule=rrule, exdates=exdates,
    )  # fmt: skip
    endless = "COUNT=" not in rrule.upper() and "UNTIL=" not in rrule.upper()
    zone = ZoneInfo(zone_name)
    start: datetime | date = starts_at.astimezone(zone)
    end: datetime | date | None = ends_at.astimezone(zone)
    if all_day:
        start, end = first_day, None
    return describe_series(
        spec,
        start,
        end,
        count=None if endless else len(occs),
        locale=locale,
        this_year=datetime.now(zone).year,
    )


def session_when(event: Event, starts_at: datetime, ends_at: datetime) -> str:
    """One session's date and times, in the user's zone (dates if all-day)."""
    if event.is_all_day:
        zone = ZoneInfo(event.tzid)
        first = starts_at.astimezone(zone).date()
        last = (ends_at.astimezone(zone) - timedelta(days=1)).date()
        text = date_format(first)
        return text if last <= first else text + " – " + date_format(last)
    return _when(False, None, None, starts_at, ends_at, str(get_locale()),
                 str(get_timezone()))  # fmt: skip
