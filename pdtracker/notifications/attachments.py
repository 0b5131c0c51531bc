"""The event as an .ics attachment (METHOD:PUBLISH) on reminder e-mails.

Any mail client offers to add a text/calendar attachment to its calendar. The
attachment is built from what the reminder stored (no database read while the
dispatcher talks to SMTP) with the calendar feed's own builder
(:func:`pdtracker.calendar.ics.build_calendar`), so it reads exactly like an
entry of the feeds: same UID for a single event (adding it twice, or from the
feed too, updates rather than duplicates), same time zone block, same escaping.
A session of a series gets a UID of its own, so adding next week's session does
not replace this week's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from email.utils import parseaddr
from typing import Any, Protocol

from icalendar import vCalAddress
from icalendar.parser import Contentline, Parameters

from pdtracker.calendar.ics import CalendarEntry, build_calendar, feed_uid
from pdtracker.calendar.ics import is_generated_uid as in_our_namespace
from pdtracker.events.models import Event
from pdtracker.notifications.models import NotificationKind

K = NotificationKind

# Reminders of a session the teacher holds a seat in: the e-mail carries it.
ICS_KINDS = frozenset({K.EVENT_TOMORROW, K.WAITLIST_PROMOTED, K.EVENT_CHANGED})
ICS_FILENAME = "event.ics"
METHOD = "PUBLISH"
_CALSCALE = b"CALSCALE:GREGORIAN\r\n"
_UID = b"\r\nUID:"


def calendar_uid(event: Event, start: datetime, domain: str) -> str:
    """The UID of one event (as in the feeds) or of one session of a series."""
    if event.rrule and not event.recurrence_key:
        stamp = start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        return f"event-{event.id}-{stamp}@pdtracker.{domain.strip().lower()}"
    if event.is_imported and (
        event.recurrence_key or in_our_namespace(event.uid, domain)
    ):
        return feed_uid("event", event.id, domain)
    return event.uid


class Session(Protocol):
    """A session as listed (SessionInfo) or stored (EventSession)."""

    @property
    def original_starts_at(self) -> datetime: ...
    @property
    def sequence(self) -> int: ...
    @property
    def updated_at(self) -> datetime | None: ...


def calendar_fields(
    event: Event, start: datetime, domain: str, session: Session | None = None
) -> dict[str, Any]:
    """What a reminder's payload needs besides the wording to rebuild the entry.

    A session keeps the UID of its original start when moved, and counts its own
    changes on top of the event's (as its override in the feeds does).
    """
    if session is None:
        return {
            "uid": calendar_uid(event, start, domain),
            "tzid": event.tzid,
            "sequence": event.sequence,
            "updated_at": event.updated_at.isoformat(),
        }
    updated = max(event.updated_at, session.updated_at or event.updated_at)
    return {
        "uid": calendar_uid(event, session.original_starts_at, domain),
        "tzid": event.tzid,
        "sequence": event.sequence + session.sequence,
        "updated_at": updated.isoformat(),
    }


def event_entry(p: Mapping[str, Any], *, url: str | None) -> CalendarEntry | None:
    """The payload's session as a calendar entry; None without enough to place it."""
    if not p.get("uid") or not p.get("starts_at") or not p.get("updated_at"):
        return None
    updated_at = datetime.fromisoformat(p["updated_at"])
    common: dict[str, Any] = {
        "uid": p["uid"],
        "summary": str(p.get("title") or ""),
        "updated_at": updated_at,
        "location": p.get("location") or p.get("online_url") or None,
        "description": p.get("online_url") or None,
        "url": url,
        "sequence": int(p.get("sequence") or 0),
        "tzid": p.get("tzid") or "Asia/Shanghai",
    }
    if p.get("all_day") and p.get("first_day"):
        first = date.fromisoformat(p["first_day"])
        last = date.fromisoformat(p.get("last_day") or p["first_day"])
        return CalendarEntry(start=first, end=last + timedelta(days=1), all_day=True,
                             transparent=True, **common)  # fmt: skip
    start = datetime.fromisoformat(p["starts_at"])
    end = datetime.fromisoformat(p.get("ends_at") or p["starts_at"])
    return CalendarEntry(start=start, end=end, **common)


def organizer_line(sender: str) -> bytes | None:
    """ORGANIZER for the sender ("Name <address>"), folded; None without an address."""
    name, address = parseaddr(sender)
    if not address:
        return None
    params = Parameters({"CN": name}) if name else Parameters()
    return Contentline.from_parts(
        "ORGANIZER", params, vCalAddress(f"mailto:{address}")
    ).to_ical()


def with_method(
    body: bytes, method: str = METHOD, organizer: bytes | None = None
) -> bytes:
    """The builder's one-event calendar as an iTIP object: METHOD, and the ORGANIZER
    RFC 5546 requires of a PUBLISH (feeds have neither, F15)."""
    if _CALSCALE not in body or body.count(_UID) != 1:  # be loud if the builder changes
        raise ValueError("not a one-event calendar from build_calendar")
    body = body.replace(_CALSCALE, _CALSCALE + f"METHOD:{method}\r\n".encode(), 1)
    if organizer is not None:
        body = body.replace(_UID, b"\r\n" + organizer + _UID, 1)
    return body


def event_ics(
    kind: str, payload: Mapping[str, Any], *, url: str | None, name: str, sender: str
) -> bytes | None:
    """The .ics of a reminder's session (METHOD:PUBLISH, organised by the sender),
    or None for other kinds."""
    if kind not in ICS_KINDS:
        return None
    entry = event_entry(payload, url=url)
    if entry is None:
        return None
    return with_method(
        build_calendar([entry], name=name), organizer=organizer_line(sender)
    )
