"""Parse untrusted iCalendar data into plain, validated event records (pure module).

Upsert contract for the database layer (to be implemented by the events services):

* Identity is ``(source, uid, recurrence_key)`` where ``source`` is the import source row
  (uploaded file or subscribed URL) and ``recurrence_key`` is ``""`` for a master/single
  event and the ISO form of RECURRENCE-ID for an overridden instance.  Store the key as a
  NOT NULL string: PostgreSQL unique indexes treat NULLs as distinct, which would let
  masters duplicate.
* ``plan_import(existing, events)`` (below) decides per key: *create* when the key is new,
  *update in place* when the stored fingerprint differs, *unchanged* when it matches.
  The fingerprint ignores DTSTAMP/LAST-MODIFIED/SEQUENCE, so Indico-style exports that
  stamp "now" on every fetch (docs/calendar-feeds.md I5) do not cause churn.
* ``ParseResult.skipped`` is shown to the user as a list of (uid, summary, reason code);
  the web layer translates the codes in ``REASON_CODES`` / ``FILE_ERROR_CODES``.
* Events missing from a re-import are never deleted: a windowed export (Indico
  ``?from=-7d``) simply stops listing old events.  ``ImportPlan.missing`` lists those keys
  so the caller may mark them "no longer in source" if it wants to.
* A file-level ``ParseResult.error`` means nothing was parsed; keep the previous data.
* One wall-clock budget covers a whole import (issue 10, finding 3): fetching,
  parsing content lines, checking each recurrence rule, normalising and storing it
  all cost what an untrusted file makes them cost, so one :class:`Deadline`, made
  when the import starts, is passed through every step and checked in every loop
  that parses, expands or checks recurrences (``time.monotonic()`` costs far less
  than one iteration). Past it parsing gives the file-level error ``too_slow``.

Times: timed events are aware UTC datetimes; all-day events are dates with an exclusive
end.  ``tzid`` is the IANA zone to expand RRULEs in (wall-clock rules, RFC 5545 3.3.10).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import x_wr_timezone
from dateutil.rrule import rrulestr
from icalendar import Calendar, Component, vRecur
from icalendar.error import BrokenCalendarProperty
from icalendar.parser.ical.calendar import CalendarIcalParser
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

DEFAULT_TZ = "Asia/Shanghai"
FINGERPRINT_VERSION = "v1"

FILE_ERROR_CODES = (
    "too_large",
    "undecodable",
    "not_a_calendar",
    "too_many_components",
    "too_slow",
)
REASON_CODES = (
    "missing_uid",
    "bad_uid",
    "missing_dtstart",
    "bad_dtstart",
    "bad_dtend",
    "end_before_start",
    "bad_recurrence_id",
    "bad_rrule",
    "too_many_instances",
    "duplicate_uid",
    "broken_property",
    "unsupported_component",
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
_BEGIN = re.compile(r"^BEGIN:", re.IGNORECASE | re.MULTILINE)


class TooSlow(Exception):
    """The import's budget ran out; the caller stores nothing and reports ``too_slow``.

    Deliberately not a ValueError: per-event error handlers (which skip one bad
    event and go on) must let it through to the import as a whole.
    """


class Deadline:
    """A point in monotonic time after which the import gives up."""

    def __init__(
        self, seconds: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.seconds = float(seconds)
        self._clock = clock
        self._at = clock() + self.seconds

    def remaining(self) -> float:
        """Seconds left (0 when past the deadline)."""
        return max(0.0, self._at - self._clock())

    def expired(self) -> bool:
        """True once the deadline has passed."""
        return self._clock() > self._at

    def check(self) -> None:
        """Raise TooSlow when the deadline has passed."""
        if self._clock() > self._at:
            raise TooSlow(f"over the import budget of {self.seconds:g} s")


@dataclass(frozen=True)
class ImportLimits:
    """Caps that keep a hostile or broken file from exhausting the importer."""

    max_bytes: int = 5 * 1024 * 1024
    max_components: int = 5_000
    max_rrule_instances: int = 1_000
    rrule_window_years: int = 3
    # Wall-clock budget of one parse when the caller passes no Deadline of its own
    # (the importer passes one that covers the whole import).
    time_budget_seconds: float = 15.0
    max_uid_chars: int = 255
    max_description_chars: int = 10_000
    max_text_chars: int = 500
    max_url_chars: int = 2_000
    max_categories: int = 20


@dataclass(frozen=True)
class ImportedEvent:
    """One VEVENT (master or overridden instance), normalised."""

    uid: str
    recurrence_id: datetime | date | None
    summary: str
    description: str | None
    location: str | None
    url: str | None
    start: datetime | date
    end: datetime | date
    all_day: bool
    tzid: str
    status: str
    rrule: str | None
    rdates: tuple[datetime | date, ...]
    exdates: tuple[datetime | date, ...]
    categories: tuple[str, ...]
    fingerprint: str = field(default="", compare=False)

    @property
    def recurrence_key(self) -> str:
        """Return "" for a master event, else RECURRENCE-ID in ISO form."""
        return "" if self.recurrence_id is None else self.recurrence_id.isoformat()

    @property
    def key(self) -> tuple[str, str]:
        """Return the identity within one source: (uid, recurrence_key)."""
        return (self.uid, self.recurrence_key)


@dataclass(frozen=True)
class Skipped:
    """An event left out of the import, with a stable reason code."""

    uid: str | None
    summary: str | None
    reason_code: str
    detail: str


@dataclass(frozen=True)
class ParseResult:
    """Outcome of parsing one file; ``error`` set means the file was rejected whole."""

    events: list[ImportedEvent] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    error: str | None = None
    error_detail: str | None = None
    calendar_name: str | None = None


@dataclass(frozen=True)
class ImportPlan:
    """What the DB layer should do with a parsed file."""

    create: list[ImportedEvent]
    update: list[ImportedEvent]
    unchanged: list[ImportedEvent]
    missing: list[tuple[str, str]]


class _Skip(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code, detail)
        self.code = code
        self.detail = detail


def parse_calendar(
    data: bytes,
    *,
    default_tz: str = DEFAULT_TZ,
    limits: ImportLimits = ImportLimits(),  # noqa: B008 - frozen, safe as default
    deadline: Deadline | None = None,
) -> ParseResult:
    """Parse .ics bytes into events and skip reasons; never raises on bad input.

    Past ``deadline`` (default: ``limits.time_budget_seconds`` from now) the whole
    file fails with ``too_slow``.
    """
    if deadline is None:
        deadline = Deadline(limits.time_budget_seconds)
    try:
        return _parse(data, default_tz, limits, deadline)
    except TooSlow as exc:
        return _failed("too_slow", str(exc))


class _TimedParser(CalendarIcalParser):
    """icalendar's parser, checking the import's deadline at every content line.

    icalendar spends ~50 µs (up to ~700 µs with many parameters) per content line,
    so a 5 MB file of short lines costs tens of seconds inside one call; the check
    here is what lets the deadline interrupt it.
    """

    def handle_begin_component(self, vals: str) -> None:  # noqa: D102
        _PARSE_DEADLINE.get().check()
        super().handle_begin_component(vals)

    def handle_property(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003, D102
        _PARSE_DEADLINE.get().check()
        super().handle_property(*args, **kwargs)


class _TimedCalendar(Calendar):
    """A Calendar whose parsing is bounded by :data:`_PARSE_DEADLINE`."""

    @classmethod
    def _get_ical_parser(cls, st: str | bytes) -> CalendarIcalParser:
        return _TimedParser(st, cls._get_component_factory(), cls.types_factory)


_PARSE_DEADLINE: ContextVar[Deadline] = ContextVar("pdtracker_parse_deadline")


def _from_ical(text: str, deadline: Deadline) -> list[Calendar]:
    token = _PARSE_DEADLINE.set(deadline)
    try:
        return _TimedCalendar.from_ical(text, multiple=True)
    finally:
        _PARSE_DEADLINE.reset(token)


def _parse(
    data: bytes, default_tz: str, limits: ImportLimits, deadline: Deadline
) -> ParseResult:
    zone = ZoneInfo(default_tz)
    if len(data) > limits.max_bytes:
        return _failed("too_large", f"{len(data)} bytes > {limits.max_bytes}")
    text = _decode(data)
    if text is None:
        return _failed("undecodable", "neither UTF-8 nor GB18030")
    # NUL cannot be stored in PostgreSQL text and has no meaning in iCalendar.
    text = text.replace("\x00", "")
    begins = len(_BEGIN.findall(text))
    # Nested components (VALARM, VTIMEZONE parts) count too, with headroom.
    if begins > 4 * limits.max_components + 10:
        return _failed("too_many_components", f"{begins} components")
    deadline.check()
    try:
        parsed = _from_ical(text, deadline)
    except (ValueError, RecursionError, AttributeError, TypeError, KeyError) as exc:
        # icalendar raises AttributeError on e.g. a VTIMEZONE with two TZIDs.
        return _failed("not_a_calendar", str(exc)[:200])
    calendars = [_standardise(c) for c in parsed if c.name == "VCALENDAR"]
    if not calendars:
        return _failed("not_a_calendar", "no VCALENDAR component")
    components = [
        comp
        for cal in calendars
        for comp in cal.subcomponents
        if comp.name != "VTIMEZONE"
    ]
    if len(components) > limits.max_components:
        return _failed("too_many_components", f"{len(components)} components")

    events: list[ImportedEvent] = []
    skipped: list[Skipped] = []
    seen: set[tuple[str, str]] = set()
    for comp in components:
        deadline.check()
        uid, summary = _label(comp)
        if comp.name != "VEVENT":
            skipped.append(Skipped(uid, summary, "unsupported_component", comp.name))
            continue
        try:
            event = _convert(comp, zone, limits, deadline)
        except _Skip as skip:
            skipped.append(Skipped(uid, summary, skip.code, skip.detail))
            continue
        if event.key in seen:
            detail = f"UID {event.uid} {event.recurrence_key}".strip()
            skipped.append(Skipped(uid, summary, "duplicate_uid", detail))
            continue
        seen.add(event.key)
        events.append(event)
    name = _text(calendars[0].get("X-WR-CALNAME") or calendars[0].get("NAME"), 200)
    return ParseResult(events=events, skipped=skipped, calendar_name=name)


def plan_import(
    existing: Mapping[tuple[str, str], str], events: Iterable[ImportedEvent]
) -> ImportPlan:
    """Split events into create/update/unchanged given stored key → fingerprint."""
    create, update, unchanged = [], [], []
    keys = set()
    for event in events:
        keys.add(event.key)
        stored = existing.get(event.key)
        if stored is None:
            create.append(event)
        elif stored != event.fingerprint:
            update.append(event)
        else:
            unchanged.append(event)
    missing = sorted(k for k in existing if k not in keys)
    return ImportPlan(create, update, unchanged, missing)


def _failed(code: str, detail: str) -> ParseResult:
    return ParseResult(error=code, error_detail=detail)


def _decode(data: bytes) -> str | None:
    # icalendar 7 no longer decodes; GBK bytes would parse silently as mojibake (I1).
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _standardise(cal: Calendar) -> Calendar:
    """Apply X-WR-TIMEZONE (Google exports, I4); on a bad zone keep the original."""
    value = cal.get("X-WR-TIMEZONE")
    if value is not None and str(value) in WINDOWS_TO_OLSON:
        cal["X-WR-TIMEZONE"] = WINDOWS_TO_OLSON[str(value)]
    try:
        return x_wr_timezone.to_standard(cal)
    except (LookupError, ValueError):
        # Broken events are reported one by one later; unknown zone names fall back.
        return cal


def _label(comp: Component) -> tuple[str | None, str | None]:
    uid = _text(comp.get("UID"), 255)
    summary = _text(comp.get("SUMMARY"), 200)
    return uid, summary


def _convert(
    comp: Component, zone: ZoneInfo, limits: ImportLimits, deadline: Deadline
) -> ImportedEvent:
    for name in _SINGLE:
        if isinstance(comp.get(name), list):
            raise _Skip(_CRITICAL[name], f"more than one {name}")
    uid = _clean(str(comp.get("UID", ""))).strip()
    if not uid:
        raise _Skip("missing_uid", "VEVENT without UID")
    if len(uid) > limits.max_uid_chars:
        raise _Skip("bad_uid", f"UID longer than {limits.max_uid_chars} characters")
    for name, message in comp.errors:
        if name in _CRITICAL:
            raise _Skip(_CRITICAL[name], f"{name}: {message}"[:300])
        if name in _READ:
            raise _Skip("broken_property", f"{name}: {message}"[:300])
    if "DTSTART" not in comp:
        raise _Skip("missing_dtstart", "VEVENT without DTSTART")
    try:
        return _build(comp, uid, zone, limits, deadline)
    except BrokenCalendarProperty as exc:
        raise _Skip("broken_property", str(exc)[:300]) from exc
    except (AttributeError, TypeError, ValueError, KeyError, IndexError) as exc:
        # Last resort for shapes icalendar accepts but we did not foresee: one odd
        # event must not fail the whole import.
        raise _Skip("broken_property", f"{type(exc).__name__}: {exc}"[:300]) from exc


def _build(
    comp: Component,
    uid: str,
    zone: ZoneInfo,
    limits: ImportLimits,
    deadline: Deadline,
) -> ImportedEvent:
    dtstart = comp["DTSTART"]
    start_raw = dtstart.dt
    all_day = not isinstance(start_raw, datetime)
    if not isinstance(start_raw, date):
        raise _Skip("bad_dtstart", f"DTSTART is a {type(start_raw).__name__}")
    start = _instant(start_raw, zone)
    _check_year(start, "bad_dtstart")
    end = _end(comp, start_raw, start, zone)
    tzid = zone.key if all_day else _zone_name(dtstart, start_raw, zone)
    recurrence_id = None
    if "RECURRENCE-ID" in comp:
        rid = comp["RECURRENCE-ID"].dt
        if isinstance(rid, datetime) != isinstance(start_raw, datetime):
            raise _Skip("bad_recurrence_id", "RECURRENCE-ID type differs from DTSTART")
        recurrence_id = _instant(rid, zone)
    rrule = _rrule(comp, start_raw, zone, limits, deadline)
    rdates = _date_list(comp, "RDATE", all_day, zone, limits, deadline)
    exdates = _date_list(comp, "EXDATE", all_day, zone, limits, deadline)
    if len(rdates) > limits.max_rrule_instances:
        raise _Skip("too_many_instances", f"{len(rdates)} RDATE values")
    status = str(comp.get("STATUS", "CONFIRMED")).strip().upper()
    event = ImportedEvent(
        uid=uid,
        recurrence_id=recurrence_id,
        summary=_text(comp.get("SUMMARY"), limits.max_text_chars) or "",
        description=_text(comp.get("DESCRIPTION"), limits.max_description_chars),
        location=_text(comp.get("LOCATION"), limits.max_text_chars),
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
        raise _Skip(code, f"year {value.year} outside {_MIN_YEAR}–{_MAX_YEAR}")


def _end(
    comp: Component, start_raw: datetime | date, start: datetime | date, zone: ZoneInfo
) -> datetime | date:
    all_day = not isinstance(start_raw, datetime)
    if "DTEND" in comp and "DURATION" in comp:
        raise _Skip("bad_dtend", "both DTEND and DURATION")
    if "DTEND" in comp:
        end_raw = comp["DTEND"].dt
        if isinstance(end_raw, datetime) == all_day or not isinstance(end_raw, date):
            raise _Skip("bad_dtend", "DTEND type differs from DTSTART")
        end = _instant(end_raw, zone)
    elif "DURATION" in comp:
        duration = comp["DURATION"].dt
        if not isinstance(duration, timedelta):
            raise _Skip("bad_dtend", "DURATION is not a duration")
        if all_day and duration % timedelta(days=1):
            raise _Skip("bad_dtend", "all-day DURATION is not whole days")
        end = start + duration
    else:
        # RFC 5545 3.6.1: a date lasts one day, a date-time has no duration.
        end = start + timedelta(days=1) if all_day else start
    if end < start:
        raise _Skip("end_before_start", f"ends {end.isoformat()}")
    if all_day and end == start:
        # Some producers write DTEND = DTSTART for one-day events; clients show one day.
        end = start + timedelta(days=1)
    _check_year(end, "bad_dtend")
    return end


def _zone_name(prop, start_raw: datetime, zone: ZoneInfo) -> str:
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
        raise _Skip("bad_rrule", "more than one RRULE")
    freq = [str(f).upper() for f in value.get("FREQ", [])]
    if len(freq) != 1:
        raise _Skip("bad_rrule", "RRULE without FREQ")
    if freq[0] in _UNSUPPORTED_FREQ:
        raise _Skip("bad_rrule", f"FREQ={freq[0]} is not supported")
    if "COUNT" in value and "UNTIL" in value:
        raise _Skip("bad_rrule", "both COUNT and UNTIL")
    rule = value.to_ical().decode("ascii", "replace")
    count = _count_occurrences(value, start_raw, zone, limits, deadline)
    if count is None:
        # No occurrence besides DTSTART: equivalent to a single event (RFC 5545 3.8.5.3).
        return None
    if count > limits.max_rrule_instances:
        raise _Skip(
            "too_many_instances",
            f"more than {limits.max_rrule_instances} occurrences in "
            f"{limits.rrule_window_years} years",
        )
    return rule


def _count_occurrences(
    value, start_raw: datetime | date, zone: ZoneInfo, limits, deadline: Deadline
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
        text = vRecur(parts).to_ical().decode("ascii")
        rule = rrulestr(text, dtstart=local.replace(year=local.year + shift))
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
        raise _Skip("bad_rrule", str(exc)[:300]) from exc
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
                raise _Skip("bad_rrule", f"{name} type differs from DTSTART")
            out.append(_instant(dt, zone))
            if len(out) > 10 * limits.max_rrule_instances:
                raise _Skip("too_many_instances", f"too many {name} values")
    return tuple(sorted(set(out)))


def _clean(value: str) -> str:
    return _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


def _text(value, limit: int) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        value = value[0] if value else ""
    text = _clean(str(value)).strip()
    return text[:limit] or None


def _url(value, limit: int) -> str | None:
    text = _text(value, limit + 1)
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
            text = _text(cat, 100)
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
