"""Parse untrusted iCalendar data into plain, validated event records (pure module).

This module reads a whole file (decoding, size and component caps, the parse under
the import's deadline); each VEVENT is checked and converted by :mod:`.ics_events`
and the records it fills are defined in :mod:`.ics_records`, whose public names are
re-exported here: callers import the importer from this one module.

Upsert contract for the database layer (to be implemented by the events services):

* Identity is ``(source, uid, recurrence_key)`` where ``source`` is the import source row
  (uploaded file or subscribed URL) and ``recurrence_key`` is ``""`` for a master/single
  event and the ISO form of RECURRENCE-ID for an overridden instance.  Store the key as a
  NOT NULL string: PostgreSQL unique indexes treat NULLs as distinct, which would let
  masters duplicate.
* ``plan_import(existing, events)`` decides per key: *create* when the key is new,
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

import re
from contextvars import ContextVar
from typing import Any
from zoneinfo import ZoneInfo

import x_wr_timezone
from icalendar import Calendar
from icalendar.parser.ical.calendar import CalendarIcalParser
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from .ics_events import EventSkipped, clean_text, convert, label
from .ics_records import (
    DEFAULT_TZ,
    FILE_ERROR_CODES,
    FINGERPRINT_VERSION,
    REASON_CODES,
    Deadline,
    ImportedEvent,
    ImportLimits,
    ImportPlan,
    ParseResult,
    Skipped,
    TooSlow,
    plan_import,
)

__all__ = [
    "DEFAULT_TZ",
    "FILE_ERROR_CODES",
    "FINGERPRINT_VERSION",
    "REASON_CODES",
    "Deadline",
    "ImportLimits",
    "ImportPlan",
    "ImportedEvent",
    "ParseResult",
    "Skipped",
    "TooSlow",
    "parse_calendar",
    "plan_import",
]

_BEGIN = re.compile(r"^BEGIN:", re.IGNORECASE | re.MULTILINE)


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

    def handle_property(self, *args: Any, **kwargs: Any) -> None:  # noqa: D102
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
        uid, summary = label(comp)
        if comp.name != "VEVENT":
            skipped.append(
                Skipped(uid, summary, "unsupported_component", comp.name or "")
            )
            continue
        try:
            event = convert(comp, zone, limits, deadline)
        except EventSkipped as skip:
            skipped.append(Skipped(uid, summary, skip.code, skip.detail))
            continue
        if event.key in seen:
            detail = f"UID {event.uid} {event.recurrence_key}".strip()
            skipped.append(Skipped(uid, summary, "duplicate_uid", detail))
            continue
        seen.add(event.key)
        events.append(event)
    name = clean_text(calendars[0].get("X-WR-CALNAME") or calendars[0].get("NAME"), 200)
    return ParseResult(events=events, skipped=skipped, calendar_name=name)


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
        standard: Calendar = x_wr_timezone.to_standard(cal)  # untyped library
        return standard
    except (LookupError, ValueError):
        # Broken events are reported one by one later; unknown zone names fall back.
        return cal
