"""Event workflows: editing, publishing, registration with a waitlist, attendance.

Services flush and never commit; the view or command commits once.

Attendance cannot be unmarked: the credited activity is a verified entry on the
teacher's record, and the registration keeps the link (unique in the database) so it
is credited exactly once. A wrong mark is corrected on the activity itself (a head
rejects it), which leaves the audit trail intact.

A recurring event (a regular seminar) takes one registration for the whole series,
and attendance credits its hours once.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule as RRule
from dateutil.rrule import rrulestr
from flask import current_app
from sqlalchemy import Select, and_, case, func, or_, select, update

from pdtracker.activities.models import (
    Activity,
    ActivityRole,
    ActivitySource,
    ActivityStatus,
)
from pdtracker.audit import record
from pdtracker.auth.models import User
from pdtracker.calendar.ics import feed_uid
from pdtracker.calendar.ics_import import Deadline
from pdtracker.events.models import (
    DEFAULT_TZID,
    Event,
    EventStatus,
    Registration,
    RegistrationStatus,
)
from pdtracker.extensions import db

logger = logging.getLogger(__name__)

MAX_OCCURRENCES = 1000
RECURRENCE_WINDOW = timedelta(days=366 * 3)
_FREQS = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
# Changes that calendar clients must see as a new version (SEQUENCE, CALENDAR.md A4).
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
SEAT_HOLDERS = (RegistrationStatus.REGISTERED.value, RegistrationStatus.ATTENDED.value)


class EventError(Exception):
    """A refused event operation; ``code`` says why (the view words it)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class RegistrationError(EventError):
    """A refused registration, cancellation or attendance mark."""


class RecurrenceError(ValueError):
    """An RRULE that is malformed, unsupported or expands too far."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code, detail)
        self.code = code
        self.detail = detail


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


# --- recurrence -------------------------------------------------------------------


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
    until = parsed._until  # noqa: SLF001 - dateutil has no public accessor
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


def series_end(data: EventData, deadline: Deadline | None = None) -> datetime | None:
    """When the last occurrence ends; None for an endless recurrence."""
    if not data.rrule:
        return data.ends_at
    start = data.start_on if data.is_all_day else data.starts_at
    _, last = count_occurrences(
        data.rrule, start, data.tzid, all_day=data.is_all_day, deadline=deadline
    )
    if last is None:
        return None
    if data.is_all_day:
        last = last.replace(tzinfo=ZoneInfo(data.tzid))
    return last.astimezone(UTC) + (data.ends_at - data.starts_at)


# --- events -----------------------------------------------------------------------


def _actor_id(actor: User | None) -> int | None:
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
        if getattr(event, name) != value:
            setattr(event, name, value)
            changed.add(name)
    if changed & MATERIAL_FIELDS:
        event.series_ends_at = series_end(data, deadline)
    return changed


def create_event(data: EventData, actor: User | None, now: datetime) -> Event:
    """Create a draft event; its UID derives from its id (CALENDAR.md A1)."""
    event = Event(
        uid=f"pending-{uuid.uuid4().hex}",
        recurrence_key="",
        status=EventStatus.DRAFT.value,
        sequence=0,
        exdates=[],
        created_by_id=_actor_id(actor),
        created_at=now,
        updated_at=now,
    )
    apply_event_data(event, data)
    db.session.add(event)
    db.session.flush()
    event.uid = feed_uid("event", event.id, current_app.config["FEED_DOMAIN"])
    record(_actor_id(actor), "event.create", "event", event.id, now=now)
    return event


def update_event(
    event: Event, data: EventData, actor: User | None, now: datetime
) -> bool:
    """Apply an edit; a material change of a published event bumps its SEQUENCE."""
    _lock_event(event)
    if event.is_cancelled:
        raise EventError("cancelled")
    changed = apply_event_data(event, data)
    if not changed:
        return False
    _touch(event, now, material=bool(changed & MATERIAL_FIELDS))
    if "capacity" in changed:
        _promote_waitlisted(event, now)
    record(
        _actor_id(actor), "event.update", "event", event.id, now=now,
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
    record(_actor_id(actor), "event.publish", "event", event.id, now=now)


def cancel_event(event: Event, actor: User | None, now: datetime) -> None:
    """Cancel an event; feeds keep it as STATUS:CANCELLED for a while (A5)."""
    _lock_event(event)
    if event.is_cancelled:
        raise EventError("cancelled")
    was_draft = event.status == EventStatus.DRAFT
    event.status = EventStatus.CANCELLED.value
    event.cancelled_at = now
    _touch(event, now, material=not was_draft)
    record(_actor_id(actor), "event.cancel", "event", event.id, now=now)


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
    _lock_event(event)
    blocker = deletion_blocker(event)
    if blocker is not None:
        raise EventError(blocker)
    teachers = sorted(
        db.session.scalars(
            select(Registration.teacher_id).where(Registration.event_id == event.id)
        )
    )
    record(
        _actor_id(actor), "event.delete", "event", event.id, now=now,
        uid=event.uid, recurrence_key=event.recurrence_key, title=event.title,
        import_source_id=event.import_source_id, status=event.status,
        registrations=teachers,
    )  # fmt: skip
    db.session.delete(event)
    db.session.flush()


# --- registrations ----------------------------------------------------------------


def _lock_event(event: Event) -> None:
    """Take the event's write lock before counting seats, then reload it.

    PostgreSQL locks the row (SELECT … FOR UPDATE). SQLite has no row locks; a no-op
    UPDATE makes this transaction take the database write lock now, so a concurrent
    registration waits here instead of counting the same free seat.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            select(Event)
            .where(Event.id == event.id)
            .with_for_update(of=Event)
            .execution_options(populate_existing=True)
        ).scalar_one()
        return
    db.session.execute(
        update(Event)
        .where(Event.id == event.id)
        .values(sequence=Event.sequence)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(event)


def _lock_registration(registration: Registration) -> None:
    """Lock one registration row (see _lock_event) and reload it."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            select(Registration)
            .where(Registration.id == registration.id)
            .with_for_update(of=Registration)
            .execution_options(populate_existing=True)
        ).scalar_one()
        return
    db.session.execute(
        update(Registration)
        .where(Registration.id == registration.id)
        .values(status=Registration.status)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(registration)


def _seats_taken(event: Event) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Registration)
        .where(Registration.event_id == event.id, Registration.status.in_(SEAT_HOLDERS))
    )


def _registration_of(teacher: User, event: Event) -> Registration | None:
    return db.session.scalar(
        select(Registration)
        .where(Registration.event_id == event.id, Registration.teacher_id == teacher.id)
        .execution_options(populate_existing=True)
    )


def register(teacher: User, event: Event, now: datetime) -> Registration:
    """Take a seat, or a waitlist place when the event is full."""
    _lock_event(event)
    if not event.is_published:
        raise RegistrationError("not_open")
    if now > event.registration_closes_at:
        raise RegistrationError("closed")
    registration = _registration_of(teacher, event)
    if registration is not None and not registration.is_cancelled:
        raise RegistrationError("already_registered")
    full = event.capacity is not None and _seats_taken(event) >= event.capacity
    status = RegistrationStatus.WAITLISTED if full else RegistrationStatus.REGISTERED
    if registration is None:
        registration = Registration(
            event_id=event.id, teacher_id=teacher.id, created_at=now
        )
        db.session.add(registration)
    registration.status = status.value
    registration.queued_at = now
    registration.cancelled_at = None
    registration.updated_at = now
    db.session.flush()
    return registration


def cancel_registration(teacher: User, event: Event, now: datetime) -> Registration:
    """Give up a seat or waitlist place; the first on the waitlist moves up."""
    _lock_event(event)
    registration = _registration_of(teacher, event)
    if registration is None or not registration.is_active:
        raise RegistrationError("not_registered")
    if now >= event.starts_at and not event.is_cancelled:
        raise RegistrationError("started")
    had_seat = registration.status == RegistrationStatus.REGISTERED
    registration.status = RegistrationStatus.CANCELLED.value
    registration.cancelled_at = now
    registration.updated_at = now
    db.session.flush()
    if had_seat and event.is_published:
        _promote_waitlisted(event, now)
    return registration


def _promote_waitlisted(event: Event, now: datetime) -> list[Registration]:
    """Move the oldest waitlisted teachers into free seats (caller holds the lock)."""
    query = (
        select(Registration)
        .where(
            Registration.event_id == event.id,
            Registration.status == RegistrationStatus.WAITLISTED,
        )
        .order_by(Registration.queued_at, Registration.id)
    )
    if event.capacity is not None:
        free = event.capacity - _seats_taken(event)
        if free <= 0:
            return []
        query = query.limit(free)
    promoted = list(db.session.scalars(query))
    for registration in promoted:
        registration.status = RegistrationStatus.REGISTERED.value
        registration.updated_at = now
    db.session.flush()
    return promoted


def mark_attended(
    registration: Registration, actor: User | None, now: datetime
) -> Activity | None:
    """Credit the teacher with a verified activity, exactly once; None if already done."""
    _lock_registration(registration)
    if registration.activity_id is not None or registration.status == "attended":
        return None
    event = registration.event
    _check_takes_attendance(event, now)
    if registration.is_cancelled:
        raise RegistrationError("registration_cancelled")
    if registration.status == RegistrationStatus.WAITLISTED:
        # No seat: marking would give the event more seat-holders than its capacity
        # and credit hours for a place the teacher never had.
        raise RegistrationError("waitlisted")
    activity = _attendance_activity(registration.teacher_id, event, actor, now)
    db.session.add(activity)
    db.session.flush()
    registration.activity_id = activity.id
    registration.status = RegistrationStatus.ATTENDED.value
    registration.attended_at = now
    registration.marked_by_id = _actor_id(actor)
    registration.updated_at = now
    db.session.flush()
    record(
        _actor_id(actor), "registration.attend", "registration", registration.id,
        now=now, activity_id=activity.id, event_id=event.id,
    )  # fmt: skip
    return activity


def _check_takes_attendance(event: Event, now: datetime) -> None:
    """Attendance is for events that take place, once they have started."""
    if event.is_cancelled:
        raise RegistrationError("cancelled")
    if now < event.starts_at:
        raise RegistrationError("not_started")


def mark_all_attended(event: Event, actor: User | None, now: datetime) -> int:
    """Mark every registered (seated) teacher as attended; return how many were new.

    Waitlisted teachers hold no seat and are left alone; a cancelled or not yet
    started event is refused as a whole.
    """
    _check_takes_attendance(event, now)
    registrations = db.session.scalars(
        select(Registration).where(
            Registration.event_id == event.id,
            Registration.status == RegistrationStatus.REGISTERED,
        )
    ).all()
    return sum(mark_attended(r, actor, now) is not None for r in registrations)


def _attendance_activity(
    teacher_id: int, event: Event, actor: User | None, now: datetime
) -> Activity:
    shanghai = ZoneInfo("Asia/Shanghai")
    place = event.location or event.online_url
    start_time = end_time = None
    if event.is_all_day:
        starts_on, ends_on = event.start_on, event.last_day
    else:
        start = event.starts_at.astimezone(shanghai)
        # An event ending at midnight ends on the previous day.
        end = (event.ends_at - timedelta(microseconds=1)).astimezone(shanghai)
        end = max(end, start)
        starts_on, ends_on = start.date(), end.date()
        if starts_on == ends_on:
            start_time = start.time()
            end_time = event.ends_at.astimezone(shanghai).time()
    return Activity(
        teacher_id=teacher_id,
        kind_code=event.kind_code,
        title=event.title[:200],
        organizer=current_app.config.get("ASSOCIATION_NAME") or None,
        location=place[:200] if place else None,
        starts_on=starts_on,
        ends_on=ends_on,
        start_time=start_time,
        end_time=end_time,
        hours=event.credited_hours,
        role=ActivityRole.ATTENDEE.value,
        status=ActivityStatus.VERIFIED.value,
        source=ActivitySource.EVENT.value,
        verified_by_id=_actor_id(actor),
        verified_at=now,
        created_at=now,
        updated_at=now,
    )


# --- reading ----------------------------------------------------------------------


def month_bounds(year: int, month: int, tzid: str) -> tuple[datetime, datetime]:
    """The UTC instants at which a local calendar month starts and ends."""
    zone = ZoneInfo(tzid)
    start = datetime(year, month, 1, tzinfo=zone)
    nxt = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
    return start.astimezone(UTC), nxt.astimezone(UTC)


def published_events_query(
    now: datetime,
    *,
    kind: str | None = None,
    month: tuple[datetime, datetime] | None = None,
) -> Select:
    """Published events, upcoming first (soonest first), then past ones (latest first)."""
    upcoming = or_(Event.series_ends_at.is_(None), Event.series_ends_at >= now)
    query = select(Event).where(Event.status == EventStatus.PUBLISHED)
    if kind:
        query = query.where(Event.kind_code == kind)
    if month is not None:
        ends_after = or_(
            Event.series_ends_at.is_(None), Event.series_ends_at > month[0]
        )
        query = query.where(Event.starts_at < month[1], ends_after)
    return query.order_by(
        case((upcoming, 0), else_=1),
        case((upcoming, Event.starts_at)),
        Event.starts_at.desc(),
        Event.id,
    )


def seat_counts(event_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """Per event: (seats taken, waitlist length), in one query."""
    ids = list(event_ids)
    if not ids:
        return {}
    taken = func.sum(case((Registration.status.in_(SEAT_HOLDERS), 1), else_=0))
    waiting = func.sum(case((Registration.status == "waitlisted", 1), else_=0))
    rows = db.session.execute(
        select(Registration.event_id, taken, waiting)
        .where(Registration.event_id.in_(ids))
        .group_by(Registration.event_id)
    )
    counts = {event_id: (int(t or 0), int(w or 0)) for event_id, t, w in rows}
    return {i: counts.get(i, (0, 0)) for i in ids}


def registrations_of(
    teacher: User, event_ids: Iterable[int]
) -> dict[int, Registration]:
    """The teacher's registrations for the given events, by event id."""
    ids = list(event_ids)
    if not ids:
        return {}
    rows = db.session.scalars(
        select(Registration).where(
            Registration.teacher_id == teacher.id, Registration.event_id.in_(ids)
        )
    )
    return {r.event_id: r for r in rows}


def waitlist_position(registration: Registration) -> int | None:
    """1-based place on the waitlist, or None when not waitlisted."""
    if registration.status != RegistrationStatus.WAITLISTED:
        return None
    ahead = db.session.scalar(
        select(func.count())
        .select_from(Registration)
        .where(
            Registration.event_id == registration.event_id,
            Registration.status == RegistrationStatus.WAITLISTED,
            or_(
                Registration.queued_at < registration.queued_at,
                and_(
                    Registration.queued_at == registration.queued_at,
                    Registration.id < registration.id,
                ),
            ),
        )
    )
    return ahead + 1
