"""The occurrences of an event's schedule and their keys (pure: dateutil, no I/O).

A recurring event's rule is a wall-clock rule in its zone (RFC 5545 3.3.10): the
sessions keep their local time across daylight-saving changes. Each occurrence is
named by its key, the original start as iCalendar writes a RECURRENCE-ID in UTC
(``20260304T060000Z``) or, for all-day events, its date (``20260304``). Keys are
stable (a moved session keeps its key) and URL-safe.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

MAX_SESSIONS = 1000
# An endless series is expanded this far ahead of its first session.
ENDLESS_WINDOW = timedelta(days=366 * 3)


@dataclass(frozen=True)
class Occurrence:
    """One occurrence as the rule gives it: key and UTC instants (midnights if all-day)."""

    key: str
    starts_at: datetime
    ends_at: datetime


def occurrence_key(start: datetime | date, *, all_day: bool) -> str:
    """The key of an occurrence starting at ``start`` (aware datetime, or a date)."""
    if all_day or not isinstance(start, datetime):
        return f"{start.year:04}{start.month:02}{start.day:02}"
    utc = start.astimezone(UTC)
    return (
        f"{utc.year:04}{utc.month:02}{utc.day:02}"
        f"T{utc.hour:02}{utc.minute:02}{utc.second:02}Z"
    )


def parse_key(key: str) -> datetime | date | None:
    """The start a key names (aware UTC datetime, or a date); None if malformed."""
    try:
        if len(key) == 8 and key.isdigit():
            return datetime.strptime(key, "%Y%m%d").date()
        if len(key) == 16 and key.endswith("Z"):
            return datetime.strptime(key, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None
    return None


def expand(
    *,
    starts_at: datetime,
    ends_at: datetime,
    tzid: str,
    all_day: bool,
    rrule: str | None,
    exdates: Iterable[str] = (),
    limit: int = MAX_SESSIONS,
) -> tuple[Occurrence, ...]:
    """Every occurrence of the schedule, in order (at most ``limit``).

    ``starts_at``/``ends_at`` are the first occurrence's UTC instants; ``exdates``
    are stored values (ISO instants in UTC, or ISO dates when all-day).
    """
    return _expand(
        starts_at, ends_at, tzid, all_day, rrule or "", tuple(sorted(exdates)), limit
    )


@lru_cache(maxsize=1024)
def _expand(
    starts_at: datetime,
    ends_at: datetime,
    tzid: str,
    all_day: bool,
    rrule: str,
    exdates: tuple[str, ...],
    limit: int,
) -> tuple[Occurrence, ...]:
    zone = ZoneInfo(tzid)
    length = ends_at - starts_at
    first_local = starts_at.astimezone(zone)
    if not rrule:
        return (_occurrence(first_local, length, zone, all_day),)
    # dateutil works on naive wall-clock times; the zone is applied per occurrence.
    naive = first_local.replace(tzinfo=None)
    if all_day:
        naive = datetime.combine(naive.date(), time())
    rule = rrulestr(rrule, dtstart=naive)
    skip = _excluded(exdates, zone, all_day)
    horizon = naive + ENDLESS_WINDOW
    found: list[Occurrence] = []
    for start in rule:
        if start > horizon or len(found) >= limit:
            break
        local = start.replace(tzinfo=zone)
        if (start.date() if all_day else local.astimezone(UTC)) in skip:
            continue
        found.append(_occurrence(local, length, zone, all_day))
    return tuple(found)


def _excluded(values: tuple[str, ...], zone: ZoneInfo, all_day: bool) -> set:
    skipped: set[date | datetime] = set()
    for value in values:
        try:
            if all_day:
                skipped.add(date.fromisoformat(value[:10]))
            else:
                moment = datetime.fromisoformat(value)
                if moment.tzinfo is None:
                    moment = moment.replace(tzinfo=zone)
                skipped.add(moment.astimezone(UTC))
        except ValueError:
            continue
    return skipped


def _occurrence(
    local: datetime, length: timedelta, zone: ZoneInfo, all_day: bool
) -> Occurrence:
    if all_day:
        day = local.date()
        start = datetime.combine(day, time(), zone)
        days = max(1, round(length / timedelta(days=1)))
        end = datetime.combine(day + timedelta(days=days), time(), zone)
        return Occurrence(
            occurrence_key(day, all_day=True),
            start.astimezone(UTC),
            end.astimezone(UTC),
        )
    start = local.astimezone(UTC)
    return Occurrence(occurrence_key(start, all_day=False), start, start + length)
