"""Event workflows: create, edit and publish events and series, cancel, delete.

Services flush and never commit; the view or command commits once. Registration
with a waitlist lives in :mod:`.registrations`, attendance in :mod:`.attendance`,
recurrence rules in :mod:`.recurrence`.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Select, case, or_, select

from pdtracker.audit import record
from pdtracker.auth.models import User
from pdtracker.calendar.ics import feed_uid
from pdtracker.calendar.ics_import import Deadline
from pdtracker.events import notices
from pdtracker.events.errors import EventError
from pdtracker.events.models import (
    DEFAULT_TZID,
    Event,
    EventStatus,
    Registration,
    RegistrationStatus,
)
from pdtracker.events.occurrences import MAX_SESSIONS, Occurrence, expand
from pdtracker.events.places import promote_waitlisted
from pdtracker.events.recurrence import count_occurrences
from pdtracker.extensions import db
from pdtracker.locking import lock_or_404

logger = logging.getLogger(__name__)

# Changes that calendar clients must see as a new version
# (SEQUENCE, docs/calendar-feeds.md F3).
MATERIAL_FIELDS = frozenset(
    {
        "title",
        "starts_at",
        "ends_at",
        "tzid",
        "is_all_day",
        "start_on",
        "end_on",
        "rrule",
        "exdates",
        "location",
        "online_url",
    }
)


# Changes the registered teachers are told about (time or place).
NOTICE_FIELDS = frozenset(
    {"starts_at", "ends_at", "start_on", "end_on", "rrule", "exdates", "location"}
)


@dataclass
class EventData:
    """The editable fields of an event; all-day events give dates, timed ones instants."""

    kind_code: str
    title: str
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    tzid: str = DEFAULT_TZID
    is_all_day: bool = False
    start_on: date | None = None
    end_on: date | None = None  # exclusive
    description: str | None = None
    speakers: str | None = None
    location: str | None = None
    online_url: str | None = None
    source_url: str | None = None
    capacity: int | None = None
    registration_deadline: datetime | None = None
    credited_hours: Decimal = Decimal(0)
    rrule: str | None = None
    exdates: list[str] = field(default_factory=list)
    # None leaves the event's setting alone (imports do not know it).
    allow_walk_ins: bool | None = None

    def __post_init__(self) -> None:
        if self.is_all_day:
            if self.start_on is None or self.end_on is None:
                raise ValueError("an all-day event needs start_on and end_on")
            self.starts_at, self.ends_at = all_day_instants(
                self.start_on, self.end_on, self.tzid
            )
        elif self.starts_at is None or self.ends_at is None:
            raise ValueError("a timed event needs starts_at and ends_at")
        else:
            self.start_on = self.end_on = None

    @property
    def span(self) -> tuple[datetime, datetime]:
        """When the (first occurrence of the) event starts and ends, in UTC."""
        # __post_init__ set both (an all-day event from its dates).
        assert self.starts_at is not None
        assert self.ends_at is not None
        return self.starts_at, self.ends_at

    def occurrences(self, limit: int = MAX_SESSIONS) -> tuple[Occurrence, ...]:
        """The sessions this schedule makes, in order (at most ``limit``)."""
        starts_at, ends_at = self.span
        return expand(
            starts_at=starts_at,
            ends_at=ends_at,
            tzid=self.tzid,
            all_day=self.is_all_day,
            rrule=self.rrule,
            exdates=tuple(self.exdates),
            limit=limit,
        )


_DATA_FIELDS = tuple(f.name for f in fields(EventData))


def all_day_instants(
    start_on: date, end_on: date, tzid: str
) -> tuple[datetime, datetime]:
    """The UTC instants of the local midnights that bound an all-day span."""
    zone = ZoneInfo(tzid)
    return (
        datetime.combine(start_on, time(), zone).astimezone(UTC),
        datetime.combine(end_on, time(), zone).astimezone(UTC),
    )


def series_end(data: EventData, deadline: Deadline | None = None) -> datetime | None:
    """When the last occurrence ends; None for an endless recurrence."""
    starts_at, ends_at = data.span
    if not data.rrule:
        return ends_at
    start = data.start_on if data.is_all_day and data.start_on else starts_at
    _, last = count_occurrences(
        data.rrule, start, data.tzid, all_day=data.is_all_day, deadline=deadline
    )
    if last is None:
        return None
    if data.is_all_day:
        last = last.replace(tzinfo=ZoneInfo(data.tzid))
    return last.astimezone(UTC) + (ends_at - starts_at)


def actor_id(actor: User | None) -> int | None:
    """The acting user's id for the audit log; None for the system."""
    return actor.id if actor is not None else None


def apply_event_data(
    event: Event, data: EventData, deadline: Deadline | None = None
) -> set[str]:
    """Copy changed fields onto the event; return the names of those that changed.

    ``deadline`` bounds the recurrence count behind ``series_ends_at`` (imports).
    """
    changed = set()
    for name in _DATA_FIELDS:
        value = getattr(data, name)
        if name == "allow_walk_ins" and value is None:
            continue
        if getattr(event, name) != value:
            setattr(event, name, value)
            changed.add(name)
    if changed & MATERIAL_FIELDS:
        event.series_ends_at = series_end(data, deadline)
    return changed


def create_event(data: EventData, actor: User | None, now: datetime) -> Event:
    """Create a draft event; its UID derives from its id (docs/calendar-feeds.md F1)."""
    event = Event(
        uid=f"pending-{uuid.uuid4().hex}",
        recurrence_key="",
        status=EventStatus.DRAFT.value,
        sequence=0,
        exdates=[],
        created_by_id=actor_id(actor),
        created_at=now,
        updated_at=now,
    )
    apply_event_data(event, data)
    db.session.add(event)
    db.session.flush()
    event.uid = feed_uid("event", event.id, current_app.config["FEED_DOMAIN"])
    record(actor_id(actor), "event.create", "event", event.id, now=now)
    return event


def lock_uncancelled(event: Event) -> None:
    """Lock the event for a change (404 if gone); EventError("cancelled") if it is."""
    lock_or_404(event)
    if event.is_cancelled:
        raise EventError("cancelled")


def update_event(
    event: Event, data: EventData, actor: User | None, now: datetime
) -> bool:
    """Apply an edit; a material change of a published event bumps its SEQUENCE."""
    lock_uncancelled(event)
    previous = (event.starts_at, event.ends_at, event.location)
    changed = apply_event_data(event, data)
    if not changed:
        return False
    _touch(event, now, material=bool(changed & MATERIAL_FIELDS))
    if "capacity" in changed:
        promote_waitlisted(event, now)
    if event.is_published and changed & NOTICE_FIELDS:
        notices.event_changed(event, registered_teachers(event), now, previous)
    record(
        actor_id(actor), "event.update", "event", event.id, now=now,
        fields=sorted(changed),
    )  # fmt: skip
    return True


def _touch(event: Event, now: datetime, *, material: bool) -> None:
    event.updated_at = max(now, event.updated_at)
    if material and event.status != EventStatus.DRAFT:
        event.sequence += 1


def publish_event(event: Event, actor: User | None, now: datetime) -> None:
    """Make a draft visible to teachers."""
    if event.status != EventStatus.DRAFT:
        raise EventError("not_draft")
    event.status = EventStatus.PUBLISHED.value
    _touch(event, now, material=False)
    record(actor_id(actor), "event.publish", "event", event.id, now=now)


def cancel_event(event: Event, actor: User | None, now: datetime) -> None:
    """Cancel an event; feeds keep it as STATUS:CANCELLED for a while.

    See docs/calendar-feeds.md F4.
    """
    lock_uncancelled(event)
    was_draft = event.status == EventStatus.DRAFT
    event.status = EventStatus.CANCELLED.value
    event.cancelled_at = now
    _touch(event, now, material=not was_draft)
    record(actor_id(actor), "event.cancel", "event", event.id, now=now)
    if not was_draft:
        notices.event_cancelled(event, registered_teachers(event), now)


def registered_teachers(event: Event) -> list[int]:
    """Teachers holding a seat or a waitlist place in the event."""
    active = (RegistrationStatus.REGISTERED.value, RegistrationStatus.WAITLISTED.value)
    return list(
        db.session.scalars(
            select(Registration.teacher_id)
            .where(Registration.event_id == event.id, Registration.status.in_(active))
            .order_by(Registration.teacher_id)
        )
    )


def deletion_blocker(event: Event) -> str | None:
    """Why this event may not be deleted (an EventError code), None if it may.

    Only imported events are deleted: an event made here has a published UID, and
    cancelling keeps it in calendars as cancelled. Recorded attendance keeps the
    event (the credited activity came from it). Active registrations need the event
    cancelled first, so the teachers see the cancellation before it disappears.
    """
    if not event.is_imported:
        return "not_imported"
    statuses = set(
        db.session.scalars(
            select(Registration.status).where(Registration.event_id == event.id)
        )
    )
    if RegistrationStatus.ATTENDED.value in statuses:
        return "has_attendance"
    active = {RegistrationStatus.REGISTERED.value, RegistrationStatus.WAITLISTED.value}
    if statuses & active and not event.is_cancelled:
        return "has_registrations"
    return None


def delete_imported_event(event: Event, actor: User | None, now: datetime) -> None:
    """Delete an imported event and its registrations (audited); see deletion_blocker.

    If its calendar still lists it, the next import of that calendar brings it back.
    """
    lock_or_404(event)
    blocker = deletion_blocker(event)
    if blocker is not None:
        raise EventError(blocker)
    teachers = sorted(
        db.session.scalars(
            select(Registration.teacher_id).where(Registration.event_id == event.id)
        )
    )
    record(
        actor_id(actor), "event.delete", "event", event.id, now=now,
        uid=event.uid, recurrence_key=event.recurrence_key, title=event.title,
        import_source_id=event.import_source_id, status=event.status,
        registrations=teachers,
    )  # fmt: skip
    db.session.delete(event)
    db.session.flush()


# --- reading ----------------------------------------------------------------------


def month_bounds(year: int, month: int, tzid: str) -> tuple[datetime, datetime]:
    """The UTC instants at which a local calendar month starts and ends."""
    zone = ZoneInfo(tzid)
    start = datetime(year, month, 1, tzinfo=zone)
    nxt = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
    return start.astimezone(UTC), nxt.astimezone(UTC)


def filtered(
    query: Select, kind: str | None, month: tuple[datetime, datetime] | None
) -> Select:
    """Events of a kind, and those with a session in a month (start, end); either
    may be None (no filter)."""
    if kind:
        query = query.where(Event.kind_code == kind)
    if month is not None:
        ends_after = or_(
            Event.series_ends_at.is_(None), Event.series_ends_at > month[0]
        )
        query = query.where(Event.starts_at < month[1], ends_after)
    return query


def published_events_query(
    now: datetime,
    *,
    kind: str | None = None,
    month: tuple[datetime, datetime] | None = None,
) -> Select:
    """Published events, upcoming first (soonest first), then past ones (latest first)."""
    upcoming = or_(Event.series_ends_at.is_(None), Event.series_ends_at >= now)
    query = filtered(
        select(Event).where(Event.status == EventStatus.PUBLISHED), kind, month
    )
    return query.order_by(
        case((upcoming, 0), else_=1),
        case((upcoming, Event.starts_at)),
        Event.starts_at.desc(),
        Event.id,
    )
