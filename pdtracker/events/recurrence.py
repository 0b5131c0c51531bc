"""Recurrence rules (RRULE): checked, normalised and counted within bounds.

An event's rule is a wall-clock rule in the event's zone (RFC 5545 3.3.10). A rule
is refused when it is malformed or unsupported, or when it expands too far: more
than MAX_OCCURRENCES occurrences, or an import's time budget spent while counting.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule as RRule
from dateutil.rrule import rrulestr

from pdtracker.calendar.ics_import import Deadline
from pdtracker.failures import CodedError

MAX_OCCURRENCES = 1000
RECURRENCE_WINDOW = timedelta(days=366 * 3)
_FREQS = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")


class RecurrenceError(CodedError, ValueError):
    """An RRULE that is malformed, unsupported or expands too far."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code, detail=detail)
        self.detail = detail


def normalise_rrule(
    text: str,
    start: datetime | date,
    tzid: str,
    *,
    all_day: bool,
    deadline: Deadline | None = None,
) -> str:
    """Check an RRULE and return it with UNTIL in UTC (or a DATE for all-day events).

    ``start`` is the first occurrence (an aware datetime, or a date when all-day).
    Raises RecurrenceError when the rule is malformed, unsupported or too long, and
    TooSlow when an import's ``deadline`` passes while counting.
    """
    zone = ZoneInfo(tzid)
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[6:]
    parts: dict[str, str] = {}
    for item in filter(None, body.strip().strip(";").split(";")):
        name, sep, value = item.partition("=")
        name = name.strip().upper()
        if not sep or not value.strip() or name in parts:
            raise RecurrenceError("malformed", item)
        parts[name] = value.strip().upper()
    if parts.get("FREQ") not in _FREQS:
        raise RecurrenceError("bad_freq", parts.get("FREQ", ""))
    if "COUNT" in parts and "UNTIL" in parts:
        raise RecurrenceError("count_and_until")
    if "UNTIL" in parts:
        parts["UNTIL"] = _until_value(parts["UNTIL"], zone, all_day=all_day)
    rule = ";".join(f"{k}={v}" for k, v in parts.items())
    count_occurrences(rule, start, tzid, all_day=all_day, deadline=deadline)
    return rule


def _until_value(value: str, zone: ZoneInfo, *, all_day: bool) -> str:
    try:
        if len(value) == 8:
            day = datetime.strptime(value, "%Y%m%d")
            if all_day:
                return value
            # A date UNTIL on a timed event: through the end of that local day.
            moment = datetime.combine(day.date(), time(23, 59, 59), zone)
        elif value.endswith("Z"):
            moment = datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        else:
            moment = datetime.strptime(value, "%Y%m%dT%H%M%S").replace(tzinfo=zone)
    except ValueError as exc:
        raise RecurrenceError("bad_until", value) from exc
    if all_day:
        return moment.astimezone(zone).strftime("%Y%m%d")
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def count_occurrences(
    rule: str,
    start: datetime | date,
    tzid: str,
    *,
    all_day: bool,
    deadline: Deadline | None = None,
) -> tuple[int, datetime | None]:
    """Count occurrences (bounded) and return the last one's start, None if endless.

    dateutil scans to year 9999 when a rule stops matching (BYMONTH=2;BYMONTHDAY=30
    takes seconds). The Gregorian calendar repeats every 400 years, so the rule runs
    shifted into the 97th century, where such a scan ends after at most ~400 years.
    Still, a rule that matches once in decades costs ~0.4 s to count to 1000; an
    import passes its ``deadline``, checked at every occurrence (TooSlow past it).
    """
    zone = ZoneInfo(tzid)
    first = _rule_start(start, zone, all_day=all_day)
    try:
        parsed = rrulestr(rule, dtstart=first)
    except (ValueError, TypeError, OverflowError) as exc:
        raise RecurrenceError("malformed", str(exc)[:200]) from exc
    if not isinstance(parsed, RRule):
        raise RecurrenceError("malformed", rule)
    endless = "COUNT" not in rule.upper() and "UNTIL" not in rule.upper()
    shift = 400 * -(-(9596 - first.year) // 400)
    # dateutil has no public accessor for a parsed rule's UNTIL (nor a stub for it).
    until: datetime | None = parsed._until  # type: ignore[attr-defined]
    if until is not None and until.year + shift > 9999:
        until, endless = None, True
    try:
        shifted = parsed.replace(
            dtstart=first.replace(year=first.year + shift),
            until=None if until is None else until.replace(year=until.year + shift),
        )
        window_end = first + RECURRENCE_WINDOW
        count, last = 0, None
        for occurrence in shifted:
            if deadline is not None:
                deadline.check()
            occurrence = occurrence.replace(year=occurrence.year - shift)
            if endless and occurrence > window_end:
                break
            count, last = count + 1, occurrence
            if count > MAX_OCCURRENCES:
                raise RecurrenceError("too_many", str(MAX_OCCURRENCES))
    except RecurrenceError:
        raise
    except (ValueError, TypeError, OverflowError) as exc:
        raise RecurrenceError("malformed", str(exc)[:200]) from exc
    if count == 0:
        raise RecurrenceError("no_occurrences")
    return count, None if endless else last


def _rule_start(start: datetime | date, zone: ZoneInfo, *, all_day: bool) -> datetime:
    if all_day or not isinstance(start, datetime):
        return datetime(start.year, start.month, start.day)
    # Rules are wall-clock rules in the event's zone (RFC 5545 3.3.10).
    return start.astimezone(zone)
