"""A recurrence as the staff form shows it, and its RRULE text (pure: stdlib only).

Staff choose: repeat daily, weekly on chosen weekdays, or monthly on the start's
date or on its weekday (the 2nd Tuesday, the last Friday); every N days/weeks/
months; ending after N sessions or on a date. :func:`build_rrule` writes the rule
(UNTIL as a date: :func:`pdtracker.events.recurrence.normalise_rrule` turns it into
the UTC instant at the end of that local day). :func:`parse_rrule` reads a rule
back into the form, or answers None when the form cannot show it (an imported
rule with BYSETPOS, several month days, a yearly or endless rule …): such a rule is kept as
it is and shown read-only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
FREQS = ("daily", "weekly", "monthly")
MONTHLY_MODES = ("date", "weekday")
ENDS = ("count", "until")


@dataclass(frozen=True)
class RuleSpec:
    """What the recurrence form holds; weekdays are 0 (Monday) … 6 (Sunday)."""

    freq: str  # "daily" | "weekly" | "monthly"
    interval: int = 1
    weekdays: tuple[int, ...] = ()  # weekly
    monthly: str = "date"  # "date": the start's day; "weekday": its nth weekday
    end: str = "count"  # "count" | "until"
    count: int | None = None
    until: date | None = None  # inclusive, local
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        """Refuse what the form could not have produced."""
        if self.freq not in FREQS:
            raise ValueError(f"freq must be one of {FREQS}")
        if self.interval < 1:
            raise ValueError("interval must be positive")
        if self.monthly not in MONTHLY_MODES:
            raise ValueError(f"monthly must be one of {MONTHLY_MODES}")
        if self.end not in ENDS:
            raise ValueError(f"end must be one of {ENDS}")
        if self.end == "count" and (self.count is None or self.count < 1):
            raise ValueError("count must be positive")
        if self.end == "until" and self.until is None:
            raise ValueError("until needs a date")
        if any(not 0 <= d <= 6 for d in self.weekdays):
            raise ValueError("weekdays are 0..6")


def nth_weekday(day: date) -> int:
    """Which occurrence of its weekday in the month ``day`` is: 1..4, or -1 (last)."""
    nth = (day.day - 1) // 7 + 1
    if nth >= 5 or (nth == 4 and (day + timedelta(days=7)).month != day.month):
        return -1
    return nth


def build_rrule(spec: RuleSpec, first: date) -> str:
    """The RRULE value for ``spec``, for a series whose first session is on ``first``."""
    parts = [f"FREQ={spec.freq.upper()}"]
    if spec.interval != 1:
        parts.append(f"INTERVAL={spec.interval}")
    if spec.freq == "weekly":
        days = sorted(set(spec.weekdays) or {first.weekday()})
        parts.append("BYDAY=" + ",".join(WEEKDAYS[d] for d in days))
    elif spec.freq == "monthly":
        if spec.monthly == "weekday":
            parts.append(f"BYDAY={nth_weekday(first)}{WEEKDAYS[first.weekday()]}")
        else:
            parts.append(f"BYMONTHDAY={first.day}")
    if spec.end == "count":
        parts.append(f"COUNT={spec.count}")
    elif spec.end == "until" and spec.until is not None:
        parts.append(f"UNTIL={spec.until:%Y%m%d}")
    return ";".join(parts)


def parse_rrule(text: str, first: date, zone: tzinfo | None = None) -> RuleSpec | None:
    """The form's view of an RRULE, or None when the form cannot show it.

    ``first`` is the series' first day (a monthly rule must agree with it);
    ``zone`` reads a UTC UNTIL as a local date (the event's zone).
    """
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[6:]
    parts: dict[str, str] = {}
    for item in filter(None, body.split(";")):
        name, sep, value = item.partition("=")
        if not sep or name.upper() in parts:
            return None
        parts[name.strip().upper()] = value.strip().upper()
    if parts.pop("WKST", "MO") != "MO":
        return None
    freq = parts.pop("FREQ", "").lower()
    if freq not in FREQS:
        return None
    try:
        interval = int(parts.pop("INTERVAL", "1"))
        end, count, until = _end(parts, zone)
        weekdays, monthly = _days(freq, parts, first)
    except ValueError:
        return None
    if parts or weekdays is None or interval < 1:
        return None
    try:
        return RuleSpec(freq, interval, weekdays, monthly, end, count, until)
    except ValueError:
        return None


def _end(
    parts: dict[str, str], zone: tzinfo | None
) -> tuple[str, int | None, date | None]:
    if "COUNT" in parts and "UNTIL" in parts:
        raise ValueError("both")
    if "COUNT" in parts:
        return "count", int(parts.pop("COUNT")), None
    if "UNTIL" in parts:
        value = parts.pop("UNTIL")
        if len(value) == 8:
            return "until", None, datetime.strptime(value, "%Y%m%d").date()
        moment = datetime.strptime(value.rstrip("Z"), "%Y%m%dT%H%M%S")
        if value.endswith("Z"):
            moment = moment.replace(tzinfo=UTC)
            if zone is not None:
                moment = moment.astimezone(zone)
        return "until", None, moment.date()
    raise ValueError("endless: the form always has an end")


def _days(
    freq: str, parts: dict[str, str], first: date
) -> tuple[tuple[int, ...] | None, str]:
    """Weekdays (None: not showable) and the monthly mode."""
    byday = parts.pop("BYDAY", "")
    if freq == "daily":
        return (None if byday else ()), "date"
    if freq == "weekly":
        if not byday:
            return (first.weekday(),), "date"
        days = byday.split(",")
        if any(d not in WEEKDAYS for d in days):
            return None, "date"
        return tuple(sorted({WEEKDAYS.index(d) for d in days})), "date"
    monthday = parts.pop("BYMONTHDAY", "")
    if byday and not monthday:
        expected = f"{nth_weekday(first)}{WEEKDAYS[first.weekday()]}"
        return ((), "weekday") if byday in (expected, "+" + expected) else (None, "")
    if monthday and not byday:
        return ((), "date") if monthday == str(first.day) else (None, "")
    if not byday and not monthday:
        return (), "date"
    return None, ""
