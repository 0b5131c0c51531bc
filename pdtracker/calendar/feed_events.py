"""Events as feed entries: which events a feed's window holds, and each event's
entry (a series with its sessions' overrides; an imported override of one occurrence
as an event of its own, its series given an EXDATE). Rule ids are those of
docs/calendar-feeds.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import and_, or_

from pdtracker.calendar.handles import FeedHandle, FeedWindow
from pdtracker.calendar.ics import CalendarEntry, feed_uid, is_generated_uid
from pdtracker.calendar.session_entries import overrides_of, series_entries
from pdtracker.events.models import Event, EventSession, EventStatus

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FeedContext:
    """What building one feed needs: its handle, its window and the site's base URL."""

    handle: FeedHandle
    window: FeedWindow
    base: str

    @property
    def domain(self) -> str:
        return current_app.config["FEED_DOMAIN"]

    def link(self, endpoint: str, **values: Any) -> str:
        return self.base + url_for(endpoint, **values)


def add_safely(
    entries: list[CalendarEntry],
    kind: str,
    pk: int,
    make: Callable[..., list[CalendarEntry]],
) -> None:
    """Add a row's entries; a row the builder refuses is logged and left out, not fatal."""
    try:
        entries.extend(make())
    except (ValueError, ZoneInfoNotFoundError) as exc:
        logger.warning("feed: %s %s left out: %s", kind, pk, exc)


def event_window(window: FeedWindow):
    """Published events, and recently cancelled ones, overlapping the window."""
    return and_(
        or_(
            Event.status == EventStatus.PUBLISHED,
            and_(
                Event.status == EventStatus.CANCELLED,
                Event.cancelled_at >= window.cancelled_since,
            ),
        ),
        Event.starts_at < window.end_utc,
        or_(Event.series_ends_at.is_(None), Event.series_ends_at >= window.start_utc),
    )


def event_entries(
    ctx: FeedContext,
    rows: Iterable[tuple[Event, dict]],
) -> list[CalendarEntry]:
    """Entries for events; ``rows`` pairs each event with overrides of its fields.

    An imported override of one occurrence (RECURRENCE-ID) cannot share its series'
    UID in this builder, so it becomes a single event with its own row UID and the
    series gets an EXDATE for the occurrence it replaces. Only an imported series
    takes EXDATEs that way: an import never edits an event made here.
    """
    rows = list(rows)
    exdates: dict[str, list[date | datetime]] = {}
    masters = {
        e.uid: e for e, _x in rows if not e.recurrence_key and e.rrule and e.is_imported
    }
    for event, _x in rows:
        master = masters.get(event.uid) if event.recurrence_key else None
        if master is not None:
            moved = _recurrence_value(event.recurrence_key, master)
            if moved is not None:
                exdates.setdefault(master.uid, []).append(moved)
    overrides = overrides_of([e.id for e, _x in rows if e.is_series])
    entries: list[CalendarEntry] = []
    for event, extra in rows:
        uid = _event_uid(event, ctx.domain)
        add_safely(
            entries,
            "event",
            event.id,
            lambda e=event, x=extra, u=uid: _event_and_sessions(
                ctx, e, u, exdates, overrides.get(e.id, []), x
            ),
        )
    return entries


def _event_and_sessions(
    ctx: FeedContext,
    event: Event,
    uid: str,
    exdates: dict[str, list[date | datetime]],
    overrides: list[EventSession],
    extra: dict,
) -> list[CalendarEntry]:
    """An event's entry; a series' master with its sessions' overrides (F19, F20)."""
    extra = dict(extra)
    places = extra.pop("places", None)
    master = _event_entry(ctx, event, uid, exdates, **extra)
    if not event.is_series:
        return [master]
    # Sessions held with a seat read like the master, unless the master is the
    # waitlisted one (then they read as the event's own title).
    title = extra.get("summary") or event.title
    if extra.get("status") == "TENTATIVE":
        title = event.title
    return series_entries(
        event,
        master,
        overrides,
        places,
        title=title,
        cancelled_title=_("[Cancelled] %(title)s", title=title),
        waiting_title=_("[Waiting list] %(title)s", title=event.title),
    )


def _event_uid(event: Event, domain: str) -> str:
    """The UID an event has in every feed; unique by construction.

    An event made here keeps the UID it was published with (clients rely on it). An
    imported override gets its row's generated UID (ids are unique). An imported
    series or single event keeps its source's UID, which is unique in the table, unless
    that UID lies in this deployment's generated namespace: a file forged it (or it was
    stored before imports refused such UIDs), so the row's own generated UID replaces
    it and it can never collide with another row's.
    """
    if not event.is_imported:
        return event.uid
    if event.recurrence_key or is_generated_uid(event.uid, domain):
        return feed_uid("event", event.id, domain)
    return event.uid


def _event_entry(
    ctx: FeedContext,
    event: Event,
    uid: str,
    exdates: dict[str, list[date | datetime]],
    *,
    summary: str | None = None,
    status: str | None = None,
    updated_at: datetime | None = None,
    description: str | None = None,
) -> CalendarEntry:
    cancelled = event.status == EventStatus.CANCELLED
    title = summary or event.title
    if cancelled:
        title = _("[Cancelled] %(title)s", title=title)
    if description is None:
        description = _event_description(event)
    rrule = event.rrule if not event.recurrence_key else None
    start, end = _event_span(event)
    return CalendarEntry(
        uid=uid,
        summary=title,
        start=start,
        end=end,
        all_day=event.is_all_day,
        tzid=event.tzid,
        updated_at=max(event.updated_at, updated_at or event.updated_at),
        location=event.location or event.online_url,
        description=description,
        url=ctx.link("events.detail", event_id=event.id),
        status="CANCELLED" if cancelled else (status or "CONFIRMED"),
        sequence=event.sequence,
        categories=(event.kind.label(ctx.handle.locale),),
        transparent=event.is_all_day,
        rrule=rrule,
        exdates=tuple(
            [*event.exdate_values(), *exdates.get(event.uid, [])] if rrule else ()
        ),
    )


def _event_span(event: Event) -> tuple[date | datetime, date | datetime]:
    """Start and end: dates for an all-day event (its end exclusive), else instants."""
    if not event.is_all_day:
        return event.starts_at, event.ends_at
    if event.start_on is None or event.end_on is None:
        raise ValueError("all-day start/end must be dates")
    return event.start_on, event.end_on


def _event_description(event: Event) -> str | None:
    parts = []
    if event.speakers:
        parts.append(_("Speakers: %(names)s", names=event.speakers))
    if event.description:
        parts.append(event.description)
    if event.online_url:
        parts.append(_("Online: %(url)s", url=event.online_url))
    return "\n\n".join(parts) or None


def _recurrence_value(key: str, master: Event) -> date | datetime | None:
    """An override's RECURRENCE-ID in the value type of its series' DTSTART."""
    try:
        if len(key) == 10:
            moved: date | datetime = date.fromisoformat(key)
        else:
            moved = datetime.fromisoformat(key)
    except ValueError:
        return None
    if master.is_all_day:
        return moved.date() if isinstance(moved, datetime) else moved
    if not isinstance(moved, datetime):
        return None
    if moved.tzinfo is None:
        moved = moved.replace(tzinfo=ZoneInfo(master.tzid))
    return moved.astimezone(UTC)
