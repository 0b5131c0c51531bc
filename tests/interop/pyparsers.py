"""Independent iCalendar parsers, each reduced to one comparable event list.

Every ``parse_*`` function takes the feed bytes and a ``(from, to)`` date window and
returns a :class:`ParseResult` whose ``events`` are dicts
``{uid, recurrence_id, start_utc, end_utc, all_day, status, summary}``, recurring
events expanded inside the window, timed values as ``YYYY-MM-DDTHH:MM:SSZ`` and
all-day values as ``YYYY-MM-DD``; the same shape as check_icaljs.mjs, check_nodeical.mjs
and libical.py print. ``recurrence_id`` is None for a single event and the occurrence's
original start for members of a series.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

INTEROP_DIR = Path(__file__).resolve().parent
Window = tuple[date, date]


@dataclass
class ParseResult:
    """What one parser made of a feed."""

    events: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def fmt(value: date | datetime) -> str:
    """Normalised string: DATE as ISO date, DATE-TIME as UTC ISO with Z."""
    if not isinstance(value, datetime):
        return value.isoformat()
    if value.tzinfo is None:  # floating: report as if UTC, like the JS scripts
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def record(
    uid: str | None,
    series: bool,
    start: date | datetime,
    end: date | datetime,
    status: str | None,
    summary: str | None,
) -> dict:
    """One normalised event dict."""
    return {
        "uid": uid,
        "recurrence_id": fmt(start) if series else None,
        "start_utc": fmt(start),
        "end_utc": fmt(end),
        "all_day": not isinstance(start, datetime),
        "status": status,
        "summary": summary,
    }


def _sorted(events: list[dict]) -> list[dict]:
    return sorted(events, key=lambda e: (e["uid"] or "", e["start_utc"]))


def _utc_window(window: Window) -> tuple[datetime, datetime]:
    return tuple(datetime.combine(d, time(), UTC) for d in window)


def parse_icalendar(data: bytes, window: Window) -> ParseResult:
    """icalendar 7 round trip + recurring-ical-events expansion."""
    import recurring_ical_events
    from icalendar import Calendar

    cal = Calendar.from_ical(data)
    problems = [
        f"{comp.name}: {name}: {msg}"
        for comp in cal.walk()
        for name, msg in comp.errors
    ]
    if problems:  # touching a broken value raises BrokenCalendarProperty
        return ParseResult(problems=problems)
    # recurring-ical-events adds RECURRENCE-ID to every occurrence and drops RRULE,
    # so tell series members by their UID.
    series_uids = {
        str(ev["UID"])
        for ev in cal.walk("VEVENT")
        if "UID" in ev and ("RRULE" in ev or "RDATE" in ev or "RECURRENCE-ID" in ev)
    }
    events = []
    for occ in recurring_ical_events.of(cal).between(*window):
        uid = str(occ["UID"]) if "UID" in occ else None
        status = str(occ["STATUS"]) if "STATUS" in occ else None
        summary = str(occ["SUMMARY"]) if "SUMMARY" in occ else None
        events.append(
            record(uid, uid in series_uids, occ.start, occ.end, status, summary)
        )
    return ParseResult(_sorted(events), problems)


def parse_ical_strict(data: bytes, window: Window) -> ParseResult:
    """allenporter ``ical`` (Home Assistant's strict parser) and its timeline."""
    from ical.calendar_stream import IcsCalendarStream
    from ical.exceptions import CalendarParseError

    try:
        cal = IcsCalendarStream.calendar_from_ics(data.decode("utf-8"))
    except CalendarParseError as exc:
        return ParseResult(problems=[f"CalendarParseError: {exc} {exc.detailed_error}"])
    series_uids = {e.uid for e in cal.events if e.rrule or e.rdate}
    start, end = _utc_window(window)
    events = []
    for ev in cal.timeline_tz(UTC).overlapping(start, end):
        status = ev.status.value if ev.status else None
        events.append(
            record(ev.uid, ev.uid in series_uids, ev.start, ev.end, status, ev.summary)
        )
    return ParseResult(_sorted(events))


def parse_vobject(data: bytes, window: Window) -> ParseResult:
    """vobject with ``validate=True`` (what Radicale uses) and its dateutil rruleset."""
    import vobject
    from vobject.base import ValidateError

    try:
        cals = list(vobject.readComponents(data.decode("utf-8"), validate=True))
    except (ValidateError, vobject.base.ParseError) as exc:
        return ParseResult(problems=[f"{type(exc).__name__}: {exc}"])
    lo, hi = _utc_window(window)
    events = []
    for cal in cals:
        for ev in cal.contents.get("vevent", []):
            events.extend(_vobject_occurrences(ev, lo, hi))
    return ParseResult(_sorted(events))


def _vobject_occurrences(ev, lo: datetime, hi: datetime) -> list[dict]:
    start = ev.dtstart.value
    all_day = not isinstance(start, datetime)
    if "dtend" in ev.contents:
        length = ev.dtend.value - start
    elif "duration" in ev.contents:
        length = ev.duration.value
    else:
        length = timedelta(days=1) if all_day else timedelta(0)  # RFC 5545 3.6.1
    uid = ev.uid.value if "uid" in ev.contents else None
    status = ev.status.value if "status" in ev.contents else None
    summary = ev.summary.value if "summary" in ev.contents else None
    series = "rrule" in ev.contents or "rdate" in ev.contents
    rules = ev.getrruleset(addRDate=True) if series else None
    starts = list(rules) if rules is not None else [start]
    out = []
    for begin in starts:
        if all_day and isinstance(
            begin, datetime
        ):  # dateutil turns DATEs into datetimes
            begin = begin.date()
        finish = begin + length
        lo_cmp = lo.date() if all_day else lo
        hi_cmp = hi.date() if all_day else hi
        if begin < hi_cmp and (finish > lo_cmp or finish == begin >= lo_cmp):
            out.append(record(uid, series, begin, finish, status, summary))
    return out


def node_available() -> str | None:
    """None if the Node parsers can run, else the reason they cannot."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not (INTEROP_DIR / "node_modules" / "ical.js").is_dir():
        return "tests/interop/node_modules missing: run `npm ci --prefix tests/interop`"
    return None


def _run_node(script: str, data: bytes, window: Window) -> ParseResult:
    args = ["node", script, "-", "--from", str(window[0]), "--to", str(window[1])]
    proc = subprocess.run(
        args, input=data, cwd=INTEROP_DIR, capture_output=True, check=True, timeout=120
    )
    out = json.loads(proc.stdout)
    return ParseResult(_sorted(out["events"]), out["problems"])


def parse_icaljs(data: bytes, window: Window) -> ParseResult:
    """ical.js 2.2.1 (Thunderbird, Nextcloud) via check_icaljs.mjs."""
    return _run_node("check_icaljs.mjs", data, window)


def parse_nodeical(data: bytes, window: Window) -> ParseResult:
    """node-ical 0.27.2 via check_nodeical.mjs."""
    return _run_node("check_nodeical.mjs", data, window)


def parse_libical(data: bytes, window: Window) -> ParseResult:
    """libical 3 via ctypes; problems are its X-LIC-ERROR messages."""
    from tests.interop import libical

    result = libical.check(data, window)
    return ParseResult(_sorted(result.events), result.errors)
