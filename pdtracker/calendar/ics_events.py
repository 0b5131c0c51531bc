"""One VEVENT of an untrusted file → a validated :class:`ImportedEvent` (pure module).

Every property is checked before it is used: a broken or hostile event raises
:class:`EventSkipped` with a reason code (``REASON_CODES``) and the rest of the file
is imported (docs/calendar-feeds.md I2). Recurrence rules are counted against the
import's :class:`Deadline` and its instance cap before they are accepted.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrule, rrulestr
from icalendar import Component, vRecur
from icalendar.error import BrokenCalendarProperty
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from .ics_records import (
    FINGERPRINT_VERSION,
    Deadline,
    ImportedEvent,
    ImportLimits,
)

# Dates outside this range are typos or attacks, not professional-development events.
_MIN_YEAR, _MAX_YEAR = 1900, 2200
_STATUSES = ("CONFIRMED", "TENTATIVE", "CANCELLED")
_UNSUPPORTED_FREQ = ("SECONDLY", "MINUTELY", "HOURLY")
# Properties whose breakage makes the event unusable, with the reason reported.
_CRITICAL = {
    "DTSTART": "bad_dtstart",
    "DTEND": "bad_dtend",
    "DURATION": "bad_dtend",
    "RECURRENCE-ID": "bad_recurrence_id",
    "RRULE": "bad_rrule",
    "RDATE": "bad_rrule",
    "EXDATE": "bad_rrule",
    "UID": "bad_uid",
}
_SINGLE = ("UID", "DTSTART", "DTEND", "DURATION", "RECURRENCE-ID", "RRULE")
_READ = ("SUMMARY", "DESCRIPTION", "LOCATION", "URL", "STATUS", "CATEGORIES")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class EventSkipped(Exception):
    """This event is left out; ``code`` is one of ``REASON_CODES``."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code, detail)
        self.code = code
        self.detail = detail


def label(comp: Component) -> tuple[str | None, str | None]:
    """The UID and summary to report a skipped component by."""
    uid = clean_text(comp.get("UID"), 255)
    summary = clean_text(comp.get("SUMMARY"), 200)
    return uid, summary


def convert(
    comp: Component, zone: ZoneInfo, limits: ImportLimits, deadline: Deadline
) -> ImportedEvent:
    """The VEVENT as a checked record; raises :class:`EventSkipped` to leave it out."""
    for name in _SINGLE:
        if isinstance(comp.get(name), list):
            raise EventSkipped(_CRITICAL[name], f"more than one {name}")
    uid = _clean(str(comp.get("UID", ""))).strip()
    if not uid:
        raise EventSkipped("missing_uid", "VEVENT without UID")
    if len(uid) > limits.max_uid_chars:
        raise EventSkipped(
            "bad_uid", f"UID longer than {limits.max_uid_chars} characters"
        )
    for broken, message in comp.errors:  # (property name or None, what failed)
        if broken in _CRITICAL:
            raise EventSkipped(_CRITICAL[broken], f"{broken}: {message}"[:300])
        if broken in _READ:
            raise EventSkipped("broken_property", f"{broken}: {message}"[:300])
    if "DTSTART" not in comp:
        raise EventSkipped("missing_dtstart", "VEVENT without DTSTART")
    try:
        return _build(comp, uid, zone, limits, deadline)
    except BrokenCalendarProperty as exc:
        raise EventSkipped("broken_property", str(exc)[:300]) from exc
    except (AttributeError, TypeError, ValueError, KeyError, IndexError) as exc:
        # Last resort for shapes icalendar accepts but we did not foresee: one odd
        # event must not fail the whole import.
        raise EventSkipped(
            "broken_property", f"{type(exc).__name__}: {exc}"[:300]
        ) from exc


def _build(
    comp: Component,
    uid: str,
    zone: ZoneInfo,
    limits: ImportLimits,
    deadline: Deadline,
) -> ImportedEvent:
    dtstart = comp["DTSTART"]
    start_raw = _decoded(comp, "DTSTART")
    all_day = not isinstance(start_raw, datetime)
    if not isinstance(start_raw, date):
        raise EventSkipped("bad_dtstart", f"DTSTART is a {type(start_raw).__name__}")
    start = _instant(start_raw, zone)
    _check_year(start, "bad_dtstart")
    end = _end(comp, start_raw, start, zone)
    tzid = (
        _zone_name(dtstart, start_raw, zone)
        if isinstance(start_raw, datetime)
        else zone.key
    )
    recurrence_id = None
    if "RECURRENCE-ID" in comp:
        rid = _decoded(comp, "RECURRENCE-ID")
        if not isinstance(rid, date) or (
            isinstance(rid, datetime) != isinstance(start_raw, datetime)
        ):
            raise EventSkipped(
                "bad_recurrence_id", "RECURRENCE-ID type differs from DTSTART"
            )
        recurrence_id = _instant(rid, zone)
    rrule = _rrule(comp, start_raw, zone, limits, deadline)
    rdates = _date_list(comp, "RDATE", all_day, zone, limits, deadline)
    exdates = _date_list(comp, "EXDATE", all_day, zone, limits, deadline)
    if len(rdates) > limits.max_rrule_instances:
        raise EventSkipped("too_many_instances", f"{len(rdates)} RDATE values")
    status = str(comp.get("STATUS", "CONFIRMED")).strip().upper()
    event = ImportedEvent(
        uid=uid,
        recurrence_id=recurrence_id,
        summary=clean_text(comp.get("SUMMARY"), limits.max_text_chars) or "",
        description=clean_text(comp.get("DESCRIPTION"), limits.max_description_chars),
        location=clean_text(comp.get("LOCATION"), limits.max_text_chars),
        url=_url(comp.get("URL"), limits.max_url_chars),
        start=start,
        end=end,
        all_day=all_day,
        tzid=tzid,
        status=status if status in _STATUSES else "CONFIRMED",
        rrule=rrule,
        rdates=rdates,
        exdates=exdates,
        categories=_categories(comp, limits),
    )
    return _with_fingerprint(event)


def _instant(value: datetime | date, zone: ZoneInfo) -> datetime | date:
    if not isinstance(value, datetime):
        return value
    if value.tzinfo is None:
        # Floating time (or a TZID nobody defined): read it as the default zone.
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def _check_year(value: datetime | date, code: str) -> None:
    if not _MIN_YEAR <= value.year <= _MAX_YEAR:
        raise EventSkipped(code, f"year {value.year} outside {_MIN_YEAR}–{_MAX_YEAR}")


def _end(
    comp: Component, start_raw: datetime | date, start: datetime | date, zone: ZoneInfo
) -> datetime | date:
    all_day = not isinstance(start_raw, datetime)
    if "DTEND" in comp and "DURATION" in comp:
        raise EventSkipped("bad_dtend", "both DTEND and DURATION")
    if "DTEND" in comp:
        end_raw = _decoded(comp, "DTEND")
        if isinstance(end_raw, datetime) == all_day or not isinstance(end_raw, date):
            raise EventSkipped("bad_dtend", "DTEND type differs from DTSTART")
        end = _instant(end_raw, zone)
    elif "DURATION" in comp:
        duration = _decoded(comp, "DURATION")
        if not isinstance(duration, timedelta):
            raise EventSkipped("bad_dtend", "DURATION is not a duration")
        if all_day and duration % timedelta(days=1):
            raise EventSkipped("bad_dtend", "all-day DURATION is not whole days")
        end = start + duration
    else:
        # RFC 5545 3.6.1: a date lasts one day, a date-time has no duration.
        end = start + timedelta(days=1) if all_day else start
    if end < start:
        raise EventSkipped("end_before_start", f"ends {end.isoformat()}")
    if all_day and end == start:
        # Some producers write DTEND = DTSTART for one-day events; clients show one day.
        end = start + timedelta(days=1)
    _check_year(end, "bad_dtend")
    return end


def _decoded(comp: Component, name: str) -> object:
    """A date, time or duration property's value (raises if the property is broken).

    icalendar types a property as the union of every value class; only these
    properties' classes have ``.dt``, and callers check what they got.
    """
    prop: Any = comp[name]
    return prop.dt


def _zone_name(prop: Any, start_raw: datetime, zone: ZoneInfo) -> str:
    if start_raw.tzinfo is None:
        return zone.key
    tzid = prop.params.get("TZID")
    if tzid is None:
        key = getattr(start_raw.tzinfo, "key", None)
        return key if key and _is_iana(key) else "UTC"
    name = str(tzid).strip().strip('"')
    if name in WINDOWS_TO_OLSON:
        return WINDOWS_TO_OLSON[name]
    return name if _is_iana(name) else zone.key


@lru_cache(maxsize=256)
def _is_iana(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _rrule(
    comp: Component,
    start_raw: datetime | date,
    zone: ZoneInfo,
    limits: ImportLimits,
    deadline: Deadline,
) -> str | None:
    value = comp.get("RRULE")
    if value is None:
        return None
    if isinstance(value, list):
        raise EventSkipped("bad_rrule", "more than one RRULE")
    freq = [str(f).upper() for f in value.get("FREQ", [])]
    if len(freq) != 1:
        raise EventSkipped("bad_rrule", "RRULE without FREQ")
    if freq[0] in _UNSUPPORTED_FREQ:
        raise EventSkipped("bad_rrule", f"FREQ={freq[0]} is not supported")
    if "COUNT" in value and "UNTIL" in value:
        raise EventSkipped("bad_rrule", "both COUNT and UNTIL")
    rule = _ical(value, "replace")
    count = _count_occurrences(value, start_raw, zone, limits, deadline)
    if count is None:
        # No occurrence besides DTSTART: equivalent to a single event (RFC 5545 3.8.5.3).
        return None
    if count > limits.max_rrule_instances:
        raise EventSkipped(
            "too_many_instances",
            f"more than {limits.max_rrule_instances} occurrences in "
            f"{limits.rrule_window_years} years",
        )
    return rule


def _count_occurrences(
    value: vRecur,
    start_raw: datetime | date,
    zone: ZoneInfo,
    limits: ImportLimits,
    deadline: Deadline,
) -> int | None:
    """Count rule occurrences in the window after DTSTART; None if there are none.

    dateutil scans period by period up to year 9999 when a rule stops matching (e.g.
    BYMONTH=2;BYMONTHDAY=30), which takes many seconds — for us and for any later
    expansion.  The Gregorian calendar repeats exactly every 400 years (146097 days,
    a whole number of weeks), so the rule is evaluated shifted into the 97th century,
    where such a scan ends after at most ~400 years. The deadline is checked at
    every occurrence, so a file of many such rules stops at the import's budget.
    """
    deadline.check()
    # Rules are wall-clock rules in DTSTART's zone (RFC 5545 3.3.10).
    tz = getattr(start_raw, "tzinfo", None) or zone
    local = _wall_clock(start_raw, tz)
    shift = 400 * -(-(9596 - local.year) // 400)
    parts = {k: v for k, v in value.items() if k != "UNTIL"}
    until = None
    if "UNTIL" in value:
        until = _wall_clock(value["UNTIL"][0], tz)
    try:
        text = _ical(vRecur(parts))
        # Without forceset, rrulestr gives one rrule for one RRULE line.
        rule = cast(
            rrule, rrulestr(text, dtstart=local.replace(year=local.year + shift))
        )
        window_end = local.replace(year=local.year + shift) + timedelta(
            days=366 * limits.rrule_window_years
        )
        if until is not None and until.year + shift <= 9999:
            rule = rule.replace(until=until.replace(year=until.year + shift))
        count = 0
        for occurrence in _checked(rule, deadline):
            if occurrence > window_end:
                return count
            count += 1
            if count > limits.max_rrule_instances:
                return count
    except (ValueError, TypeError, OverflowError) as exc:
        raise EventSkipped("bad_rrule", str(exc)[:300]) from exc
    return count or None


def _checked(occurrences: Iterable[datetime], deadline: Deadline) -> Iterator[datetime]:
    for occurrence in occurrences:
        deadline.check()
        yield occurrence


def _wall_clock(value: datetime | date, tz: tzinfo) -> datetime:
    if not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    if value.tzinfo is not None:
        value = value.astimezone(tz)
    return value.replace(tzinfo=None)


def _date_list(
    comp: Component,
    name: str,
    all_day: bool,
    zone: ZoneInfo,
    limits: ImportLimits,
    deadline: Deadline,
) -> tuple[datetime | date, ...]:
    values = comp.get(name)
    if values is None:
        return ()
    out: list[datetime | date] = []
    for prop in values if isinstance(values, list) else [values]:
        for item in prop.dts:
            deadline.check()
            dt = item.dt
            if not isinstance(dt, date) or isinstance(dt, datetime) == all_day:
                raise EventSkipped("bad_rrule", f"{name} type differs from DTSTART")
            out.append(_instant(dt, zone))
            if len(out) > 10 * limits.max_rrule_instances:
                raise EventSkipped("too_many_instances", f"too many {name} values")
    return tuple(sorted(set(out)))


def _clean(value: str) -> str:
    return _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


def _ical(value: vRecur, errors: str = "strict") -> str:
    """A recurrence rule's iCalendar text."""
    untyped: Any = value  # vRecur.to_ical has no annotations
    data: bytes = untyped.to_ical()
    return data.decode("ascii", errors)


def clean_text(value: object, limit: int) -> str | None:
    """A property's text: the first of a list, control characters out, trimmed."""
    if value is None:
        return None
    if isinstance(value, list):
        value = value[0] if value else ""
    text = _clean(str(value)).strip()
    return text[:limit] or None


def _url(value: object, limit: int) -> str | None:
    text = clean_text(value, limit + 1)
    # Only web links: a javascript: URL in an href would be an XSS vector.
    if text is None or len(text) > limit or not re.match(r"https?://", text, re.I):
        return None
    return text


def _categories(comp: Component, limits: ImportLimits) -> tuple[str, ...]:
    values = comp.get("CATEGORIES")
    if values is None:
        return ()
    names: list[str] = []
    for prop in values if isinstance(values, list) else [values]:
        for cat in getattr(prop, "cats", [prop]):
            text = clean_text(cat, 100)
            if text and text not in names:
                names.append(text)
    return tuple(names[: limits.max_categories])


def _with_fingerprint(event: ImportedEvent) -> ImportedEvent:
    data = asdict(event)
    del data["fingerprint"]
    payload = json.dumps(
        data, sort_keys=True, ensure_ascii=False, default=lambda v: v.isoformat()
    )
    digest = hashlib.sha256(f"{FINGERPRINT_VERSION}\n{payload}".encode()).hexdigest()
    return ImportedEvent(**{**data, "fingerprint": digest})
