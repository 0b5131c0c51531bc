"""Pure iCalendar (RFC 5545/7986) feed builder: CalendarEntry objects in, bytes out.

No Flask, no database, no clock: the same entries always give the same bytes, so a
hash of the body is a stable ETag. Rule ids (F1, F7, ...) refer to
docs/calendar-feeds.md.

The content lines are written here rather than through icalendar's
``Component.to_ical()`` because that path costs ~0.8 ms per event (1,000 events
took ~0.8 s), far over the feed budget. The output follows icalendar 7's own
serialisation (property order, TEXT escaping, 75-octet UTF-8-safe folding), and
the tests prove that ``Calendar.from_ical(feed).to_ical() == feed`` for the
reference feeds. One difference, on purpose: a fold never splits an escaped
backslash, which icalendar 7.3's can (see :func:`_escape_tail`); for any text the
tests prove the same content lines.
icalendar itself still supplies the VTIMEZONE blocks, RRULE parsing and the
DURATION format.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Timezone, vDuration, vRecur

__all__ = ["CalendarEntry", "build_calendar", "feed_uid", "is_generated_uid"]

logger = logging.getLogger(__name__)

DEFAULT_TZID = "Asia/Shanghai"
STATUSES = frozenset({"CONFIRMED", "TENTATIVE", "CANCELLED"})
# Zones written as UTC "...Z" values, which need no VTIMEZONE.
_UTC_TZIDS = frozenset({"UTC", "Etc/UTC"})
# RFC 5545 TEXT forbids control characters other than HTAB; CR/LF become "\n".
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_UID_KIND = re.compile(r"[a-z][a-z0-9-]*\Z")
_DOMAIN = re.compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?\Z")
_FOLD_OCTETS = 74  # plus the CRLF, and the leading space on continuation lines


@dataclass(frozen=True, kw_only=True, slots=True)
class CalendarEntry:
    """One VEVENT of a feed, already decided (no lookups, no clock)."""

    uid: str
    summary: str
    start: date | datetime
    end: date | datetime
    updated_at: datetime
    all_day: bool = False
    tzid: str = DEFAULT_TZID
    location: str | None = None
    description: str | None = None
    url: str | None = None
    status: str = "CONFIRMED"
    sequence: int = 0
    categories: tuple[str, ...] = ()
    transparent: bool = False
    rrule: str | None = None
    exdates: tuple[date | datetime, ...] = ()
    # An override of one occurrence of the series with the same UID: the
    # occurrence's original start, in the value type of DTSTART (F19).
    recurrence_id: date | datetime | None = None

    def __post_init__(self) -> None:
        """Reject data that would make an invalid or floating event."""
        # Lists would make the entry unhashable (the VEVENT cache keys on it).
        object.__setattr__(self, "categories", tuple(self.categories))
        object.__setattr__(self, "exdates", tuple(self.exdates))
        if not self.uid or any(c in self.uid for c in "\r\n"):
            raise ValueError("uid must be a non-empty single line")
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {sorted(STATUSES)}")
        if type(self.sequence) is not int or self.sequence < 0:
            raise ValueError("sequence must be a non-negative int")
        if not _is_aware(self.updated_at):
            raise ValueError("updated_at must be an aware datetime")
        if self.url is not None and any(c in self.url for c in "\r\n"):
            raise ValueError("url must be a single line")
        _zone(self.tzid)  # raises ZoneInfoNotFoundError for an unknown name
        if self.all_day:
            if not (_is_date(self.start) and _is_date(self.end)):
                raise ValueError("all-day start/end must be dates")
            if self.end <= self.start:
                raise ValueError("all-day end is exclusive and must follow start")
            if not all(_is_date(d) for d in self.exdates):
                raise ValueError("all-day exdates must be dates")
        else:
            if not (_is_aware(self.start) and _is_aware(self.end)):
                raise ValueError("timed start/end must be aware datetimes (F9)")
            if self.end < self.start:
                raise ValueError("end must not precede start")
            if not all(_is_aware(d) for d in self.exdates):
                raise ValueError("timed exdates must be aware datetimes")
        if self.exdates and not self.rrule:
            raise ValueError("exdates need an rrule")
        if self.recurrence_id is not None:
            if self.rrule is not None:
                raise ValueError("an override carries no rrule")
            if self.all_day != _is_date(self.recurrence_id):
                raise ValueError("recurrence_id must have DTSTART's value type")
            if not self.all_day and not _is_aware(self.recurrence_id):
                raise ValueError("timed recurrence_id must be an aware datetime")
        if self.rrule is not None:
            _recur(self.rrule, self.all_day, self.tzid)


def feed_uid(kind: str, pk: int, domain: str) -> str:
    """Stable UID ``<kind>-<pk>@pdtracker.<domain>`` for a database row (rule F1).

    ``kind`` names the table ("event", "placement", "activity"), ``pk`` is its
    primary key and ``domain`` the deployment's configured domain (never the
    request's Host, which varies). Every feed (teacher, department, public) must
    use this same UID for the same row.
    """
    domain = domain.strip().lower().rstrip(".")
    if not _UID_KIND.match(kind):
        raise ValueError("kind must be lowercase ascii letters, digits or '-'")
    if type(pk) is not int or pk < 0:
        raise ValueError("pk must be a non-negative int")
    if not _DOMAIN.match(domain):
        raise ValueError("domain must be a bare host name")
    return f"{kind}-{pk}@pdtracker.{domain}"


def is_generated_uid(uid: str, domain: str) -> bool:
    """True if ``uid`` lies in the namespace :func:`feed_uid` writes for ``domain``.

    The whole ``…@pdtracker.<domain>`` namespace belongs to this deployment, compared
    without regard to case (some clients fold UIDs): an imported calendar must never
    bring a UID from it, or it could collide with a row's generated UID.
    """
    domain = domain.strip().lower().rstrip(".")
    return uid.strip().lower().endswith(f"@pdtracker.{domain}")


def build_calendar(
    entries: Iterable[CalendarEntry],
    *,
    name: str,
    description: str | None = None,
    prodid: str = "-//pdtracker//pdtracker//ZH",
    refresh: timedelta = timedelta(hours=6),
) -> bytes:
    """Serialise entries as one subscription feed (no METHOD, F15), CRLF, UTF-8.

    A UID may appear once per feed (clients drop or merge the rest), apart from the
    overrides of a series' occurrences (one per RECURRENCE-ID, F19). The callers
    make them unique by construction; should data still repeat one, the first entry
    is kept and the others are logged and left out: a feed never fails on data.
    """
    if refresh <= timedelta(0):
        raise ValueError("refresh must be positive")
    entries = _unique(entries)
    ttl = _ical(vDuration(refresh))
    head = ["BEGIN:VCALENDAR", "VERSION:2.0", _line("PRODID", _text(prodid))]
    head.append("CALSCALE:GREGORIAN")
    if description:
        head.append(_line("DESCRIPTION", _text(description)))
        head.append(_line("X-WR-CALDESC", _text(description)))
    head.append(_line("NAME", _text(name)))
    head.append(_line("X-WR-CALNAME", _text(name)))
    head.append(f"REFRESH-INTERVAL;VALUE=DURATION:{ttl}")  # F14: VALUE is required
    head.append(f"X-PUBLISHED-TTL:{ttl}")
    parts = ["\r\n".join(head), "\r\n"]
    # F7: a VTIMEZONE for every TZID, before the events; an empty feed still
    # gets the default one so the object has the one component RFC 5545 needs.
    tzids = sorted({e.tzid for e in entries if not e.all_day} - _UTC_TZIDS)
    if not entries:
        tzids = [DEFAULT_TZID]
    parts.extend(_vtimezone(tzid) for tzid in tzids)
    parts.extend(_vevent(entry) for entry in entries)
    parts.append("END:VCALENDAR\r\n")
    return "".join(parts).encode("utf-8")


def _unique(entries: Iterable[CalendarEntry]) -> list[CalendarEntry]:
    """Each (UID, RECURRENCE-ID) once: the first kept, the others logged and dropped."""
    kept: list[CalendarEntry] = []
    seen: set[tuple[str, date | datetime | None]] = set()
    for entry in entries:
        identity = (entry.uid, entry.recurrence_id)
        if identity in seen:
            logger.warning("feed: duplicate UID in feed left out: %s", entry.uid)
            continue
        seen.add(identity)
        kept.append(entry)
    return kept


@lru_cache(maxsize=4096)
def _vevent(e: CalendarEntry) -> str:
    """Content lines of one VEVENT, in icalendar 7's canonical property order."""
    stamp = _utc_stamp(e.updated_at)
    lines = ["BEGIN:VEVENT", _line("SUMMARY", _text(e.summary))]
    lines.append(_line("DTSTART", _when(e.start, e), _params(e)))
    if e.all_day or e.end != e.start:  # a zero-length timed event has no DTEND
        lines.append(_line("DTEND", _when(e.end, e), _params(e)))
    lines.append(f"DTSTAMP:{stamp}")  # F2: last change, not "now"
    lines.append(_line("UID", e.uid))
    if e.recurrence_id is not None:  # F19: in DTSTART's value type and zone
        lines.append(_line("RECURRENCE-ID", _when(e.recurrence_id, e), _params(e)))
    lines.append(f"SEQUENCE:{e.sequence}")
    if e.rrule is not None:
        lines.append(_line("RRULE", _recur(e.rrule, e.all_day, e.tzid)))
    if e.exdates:
        values = ",".join(_when(d, e) for d in sorted(set(e.exdates)))
        lines.append(_line("EXDATE", values, _params(e)))  # F10: DTSTART's TZID
    if e.categories:
        lines.append(_line("CATEGORIES", ",".join(_text(c) for c in e.categories)))
    if e.description:
        lines.append(_line("DESCRIPTION", _text(e.description)))
    lines.append(f"LAST-MODIFIED:{stamp}")
    if e.location:
        lines.append(_line("LOCATION", _text(e.location)))
    lines.append(f"STATUS:{e.status}")
    lines.append("TRANSP:TRANSPARENT" if e.transparent else "TRANSP:OPAQUE")
    if e.url:
        lines.append(_line("URL", e.url))
    lines.append("END:VEVENT\r\n")
    return "\r\n".join(lines)


def _params(e: CalendarEntry) -> str:
    """Parameters for DTSTART/DTEND/EXDATE of this entry."""
    if e.all_day:
        return ";VALUE=DATE"
    if e.tzid in _UTC_TZIDS:
        return ""
    return f";TZID={e.tzid}"


def _when(value: date | datetime, e: CalendarEntry) -> str:
    """A DATE, or a DATE-TIME local to the entry's zone (UTC zones get "Z")."""
    if e.all_day or not isinstance(value, datetime):  # entries hold dates only then
        return f"{value.year:04}{value.month:02}{value.day:02}"
    if e.tzid in _UTC_TZIDS:
        return _utc_stamp(value)
    return _local_stamp(value.astimezone(_zone(e.tzid)))


def _utc_stamp(value: datetime) -> str:
    """An aware datetime as a UTC DATE-TIME."""
    return _local_stamp(value.astimezone(UTC)) + "Z"


def _local_stamp(v: datetime) -> str:
    """Wall-clock DATE-TIME digits (f-string: strftime is the hot spot here)."""
    return f"{v.year:04}{v.month:02}{v.day:02}T{v.hour:02}{v.minute:02}{v.second:02}"


def _text(value: str) -> str:
    """RFC 5545 TEXT escaping, the same replacements as icalendar's (F13)."""
    value = _CONTROL_CHARS.sub("", value)
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def _line(name: str, value: str, params: str = "") -> str:
    """A content line folded at 75 octets without splitting UTF-8 or escapes (F12)."""
    line = f"{name}{params}:{value}"
    if len(line) <= _FOLD_OCTETS // 4 or len(line.encode("utf-8")) <= _FOLD_OCTETS:
        return line
    data = line.encode("utf-8")
    chunks = []
    start = 0
    while len(data) - start > _FOLD_OCTETS:
        cut = start + _FOLD_OCTETS
        while data[cut] & 0xC0 == 0x80:  # never cut inside a multi-byte character
            cut -= 1
        # Like icalendar (#1501): keep "\," "\n" and "^'" escapes on one line, and
        # end no folded line with an escape character at all.
        cut -= _escape_tail(data, cut)
        chunks.append(data[start:cut])
        start = cut
    chunks.append(data[start:])
    return b"\r\n ".join(chunks).decode("utf-8")


def _escape_tail(data: bytes, cut: int) -> int:
    """How far to move a fold at ``cut`` back so that no escape is split and the
    line does not end in an escape character: a run of them pairs up from its left
    ("\\\\" is two escaped backslashes), so an odd run ends with an escape's first
    half (move 1) and an even one with a whole escape (move both, 2)."""
    mark = data[cut - 1]
    if mark not in b"\\^":
        return 0
    run = 1
    while cut - 1 - run >= 0 and data[cut - 1 - run] == mark:
        run += 1
    return 1 if run % 2 else 2


@lru_cache(maxsize=64)
def _zone(tzid: str) -> ZoneInfo:
    """ZoneInfo lookup, cached (ZoneInfo has its own cache; this skips its lock)."""
    return ZoneInfo(tzid)


@lru_cache(maxsize=64)
def _vtimezone(tzid: str) -> str:
    """Minimal VTIMEZONE from 2000 on, without the COMMENT libical rejects (F8)."""
    tz = Timezone.from_tzinfo(_zone(tzid), first_date=date(2000, 1, 1))
    tz.pop("COMMENT", None)
    return _ical(tz)


@lru_cache(maxsize=256)
def _recur(rrule: str, all_day: bool, tzid: str) -> str:
    """Validate an RRULE and write its UNTIL as UTC (timed) or DATE (all-day), F10."""
    try:
        recur = vRecur.from_ical(rrule)
    except ValueError as exc:
        raise ValueError(f"invalid rrule: {rrule!r}") from exc
    if "FREQ" not in recur:
        raise ValueError("rrule needs FREQ")
    until = recur.get("UNTIL")
    if until:
        if "COUNT" in recur:
            raise ValueError("rrule must not have both COUNT and UNTIL")
        value = until[0]
        if all_day:
            if not _is_date(value):
                raise ValueError("all-day rrule UNTIL must be a date")
        elif _is_date(value):
            raise ValueError("timed rrule UNTIL must be a date-time")
        else:
            if value.tzinfo is None:  # local to the event's zone, as RFC 5545 reads it
                value = value.replace(tzinfo=_zone(tzid))
            recur["UNTIL"] = [value.astimezone(UTC)]
    return _ical(recur, "ascii")


def _ical(value: Any, encoding: str = "utf-8") -> str:
    """``to_ical()`` as text (icalendar leaves it unannotated)."""
    data: bytes = value.to_ical()
    return data.decode(encoding)


def _is_date(value: object) -> bool:
    """True for a plain date (a datetime is a date subclass, so exclude it)."""
    return isinstance(value, date) and not isinstance(value, datetime)


def _is_aware(value: object) -> bool:
    """True for a datetime with a working tzinfo."""
    return isinstance(value, datetime) and value.utcoffset() is not None
