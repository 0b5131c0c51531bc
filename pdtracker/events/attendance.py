"""Attendance per session: a seated teacher who came is credited, once per session.

Attendance cannot be unmarked: the credited activity is a verified entry on the
teacher's record, and the session place keeps the link (unique in the database) so
each session is credited exactly once. A wrong mark is corrected on the activity
itself (a head rejects it), which leaves the audit trail intact. Each session of a
series credits the event's hours on its own.

For the check-in screens: :func:`mark_session_attended` (source "checkin") and
:func:`register_walk_in`; sessions and their keys come from
:func:`pdtracker.events.sessions.list_sessions`.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select

from pdtracker.activities.models import (
    Activity,
    ActivityRole,
    ActivitySource,
    ActivityStatus,
)
from pdtracker.audit import record
from pdtracker.auth.models import User
from pdtracker.events import notices
from pdtracker.events.doors import DOORS_OPEN_BEFORE
from pdtracker.events.errors import RegistrationError
from pdtracker.events.models import (
    AttendanceSource,
    Event,
    EventSession,
    Registration,
    RegistrationStatus,
    SessionRegistration,
)
from pdtracker.events.places import (
    SEAT_HOLDERS,
    adopt_unsplit,
    sync_registration,
)
from pdtracker.events.services import actor_id
from pdtracker.events.sessions import (
    SessionInfo,
    find_session,
    list_sessions,
    session_row,
)
from pdtracker.extensions import db
from pdtracker.locking import lock_or_404
from pdtracker.timeutil import app_zone

# How long before a session starts its attendance may be recorded, by source: at
# the door, from when the doors open (the check-in code is accepted from then too).
OPENS_EARLY = {
    AttendanceSource.CHECKIN.value: DOORS_OPEN_BEFORE,
    AttendanceSource.WALK_IN.value: DOORS_OPEN_BEFORE,
}


def mark_attended(
    registration: Registration,
    actor: User | None,
    now: datetime,
    *,
    session_key: str | None = None,
    source: str = AttendanceSource.MANUAL.value,
) -> Activity | None:
    """Credit one session's attendance; None if that session was already credited.

    Without ``session_key`` the session is the event's only one (a single event) or,
    for a series, the latest session that has started.
    """
    event = registration.event
    lock_or_404(event)
    adopt_unsplit(event, now)
    key = session_key or _current_key(event, now)
    teacher = db.session.get_one(User, registration.teacher_id)
    return _mark(actor, event, key, teacher, source, now)


def mark_session_attended(
    actor: User | None,
    event: Event,
    session_key: str,
    teacher: User,
    source: str,
    now: datetime,
) -> Activity | None:
    """Credit a teacher's attendance of one session with a verified activity, once.

    ``source`` is how it was recorded ("manual", "bulk", "checkin", "walk_in").
    Returns the new activity, or None when this session was already credited to
    the teacher. Raises RegistrationError: cancelled (event or session),
    not_started, no_session, not_registered, registration_cancelled, waitlisted.
    The database keeps it once: one place per (session, registration), one
    activity per place (unique keys).
    """
    lock_or_404(event)
    adopt_unsplit(event, now)
    return _mark(actor, event, session_key, teacher, source, now)


def register_walk_in(
    actor: User | None,
    event: Event,
    session_key: str,
    teacher: User,
    now: datetime,
) -> SessionRegistration:
    """Give a teacher who came without registering a seat in the session.

    Only when staff allow walk-ins on the event (``allow_walk_ins``), for a session
    that is not cancelled and not over; the capacity still holds (RegistrationError
    "full"). A teacher who already holds the seat gets it back unchanged.
    Raises RegistrationError: walk_ins_not_allowed, not_open, cancelled, no_session,
    over, full.
    """
    lock_or_404(event)
    if not event.allow_walk_ins:
        raise RegistrationError("walk_ins_not_allowed")
    if not event.is_published:
        raise RegistrationError("cancelled" if event.is_cancelled else "not_open")
    session = _session(event, session_key)
    if session.is_over(now):
        raise RegistrationError("over")
    adopt_unsplit(event, now)
    row = session_row(event, session_key, now)
    place = _place_of(row, teacher)
    if place is not None and place.status in SEAT_HOLDERS:
        return place
    taken = db.session.scalar(
        select(func.count())
        .select_from(SessionRegistration)
        .where(
            SessionRegistration.session_id == row.id,
            SessionRegistration.status.in_(SEAT_HOLDERS),
        )
    )
    if event.capacity is not None and (taken or 0) >= event.capacity:
        raise RegistrationError("full")
    registration = db.session.scalar(
        select(Registration).where(
            Registration.event_id == event.id, Registration.teacher_id == teacher.id
        )
    )
    if registration is None:
        registration = Registration(
            event_id=event.id, teacher_id=teacher.id, status="registered",
            queued_at=now, created_at=now, updated_at=now,
        )  # fmt: skip
        db.session.add(registration)
        db.session.flush()
    if place is None:
        place = SessionRegistration(
            session_id=row.id, registration_id=registration.id, created_at=now
        )
        db.session.add(place)
    place.status = RegistrationStatus.REGISTERED.value
    place.queued_at = now
    place.cancelled_at = None
    place.updated_at = now
    sync_registration(registration, now)
    record(
        actor_id(actor), "registration.walk_in", "registration", registration.id,
        now=now, event_id=event.id, session=session_key,
    )  # fmt: skip
    return place


def _session(event: Event, key: str) -> SessionInfo:
    if event.is_cancelled:
        raise RegistrationError("cancelled")
    session = find_session(event, key)
    if session is None:
        raise RegistrationError("no_session")
    if session.is_cancelled:
        raise RegistrationError("cancelled")
    return session


def _current_key(event: Event, now: datetime) -> str:
    """The latest session that has started (the first if none has)."""
    sessions = [s for s in list_sessions(event) if not s.is_cancelled]
    if not sessions:
        raise RegistrationError("cancelled")
    started = [s for s in sessions if s.has_started(now)]
    return (started[-1] if started else sessions[0]).key


def _place_of(row: EventSession, teacher: User) -> SessionRegistration | None:
    return db.session.scalar(
        select(SessionRegistration)
        .join(Registration, Registration.id == SessionRegistration.registration_id)
        .where(
            SessionRegistration.session_id == row.id,
            Registration.teacher_id == teacher.id,
        )
        .execution_options(populate_existing=True)
    )


def _mark(
    actor: User | None,
    event: Event,
    key: str,
    teacher: User,
    source: str,
    now: datetime,
) -> Activity | None:
    if source not in set(AttendanceSource):
        raise ValueError(f"unknown attendance source {source!r}")
    session = _session(event, key)
    # At the door the check-in opens before the session does; it is recorded at
    # the moment it happened. Marks by hand wait for the session to begin.
    if not session.has_started(now + OPENS_EARLY.get(source, timedelta(0))):
        raise RegistrationError("not_started")
    row = session_row(event, key, now)
    place = _place_of(row, teacher)
    if place is None:
        raise RegistrationError("not_registered")
    if place.activity_id is not None or place.status == RegistrationStatus.ATTENDED:
        return None
    if place.status == RegistrationStatus.CANCELLED:
        raise RegistrationError("registration_cancelled")
    if place.status == RegistrationStatus.WAITLISTED:
        # No seat: marking would give the session more seat-holders than its
        # capacity and credit hours for a place the teacher never had.
        raise RegistrationError("waitlisted")
    activity = _attendance_activity(teacher.id, event, session, actor, now)
    db.session.add(activity)
    db.session.flush()
    place.activity_id = activity.id
    place.status = RegistrationStatus.ATTENDED.value
    place.attended_at = now
    place.source = source
    place.marked_by_id = actor_id(actor)
    place.updated_at = now
    registration = db.session.get_one(Registration, place.registration_id)
    sync_registration(registration, now)
    record(
        actor_id(actor), "registration.attend", "registration", registration.id,
        now=now, activity_id=activity.id, event_id=event.id, session=key,
        source=source,
    )  # fmt: skip
    notices.attendance_credited(event, row, place, teacher.id, activity.id, now)
    return activity


def mark_all_attended(
    event: Event, actor: User | None, now: datetime, session_key: str | None = None
) -> int:
    """Mark every seated teacher of a session as attended; return how many were new.

    Without ``session_key``: the event's only session, or a series' latest started
    one. Waitlisted teachers hold no seat and are left alone; a cancelled or not
    yet started session is refused as a whole.
    """
    lock_or_404(event)
    adopt_unsplit(event, now)
    key = session_key or _current_key(event, now)
    session = _session(event, key)
    if not session.has_started(now):
        raise RegistrationError("not_started")
    row = session_row(event, key, now)
    teachers = db.session.scalars(
        select(User)
        .join(Registration, Registration.teacher_id == User.id)
        .join(
            SessionRegistration, SessionRegistration.registration_id == Registration.id
        )
        .where(
            SessionRegistration.session_id == row.id,
            SessionRegistration.status == RegistrationStatus.REGISTERED,
        )
        .order_by(SessionRegistration.queued_at, SessionRegistration.id)
    ).all()
    bulk = AttendanceSource.BULK.value
    return sum(_mark(actor, event, key, t, bulk, now) is not None for t in teachers)


def _attendance_activity(
    teacher_id: int,
    event: Event,
    session: SessionInfo,
    actor: User | None,
    now: datetime,
) -> Activity:
    """The verified activity that credits one teacher's attendance of a session."""
    place = session.location or event.online_url
    starts_on, ends_on, start_time, end_time = _local_span(event, session)
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
        verified_by_id=actor_id(actor),
        verified_at=now,
        created_at=now,
        updated_at=now,
    )


def _local_span(
    event: Event, session: SessionInfo
) -> tuple[date | None, date | None, time | None, time | None]:
    """The session's first and last local day, and its local times if within one day."""
    if event.is_all_day:
        zone = ZoneInfo(event.tzid)
        first = session.starts_at.astimezone(zone).date()
        last = (session.ends_at.astimezone(zone) - timedelta(days=1)).date()
        return first, max(first, last), None, None
    zone = app_zone()
    start = session.starts_at.astimezone(zone)
    # A session ending at midnight ends on the previous day.
    end = max((session.ends_at - timedelta(microseconds=1)).astimezone(zone), start)
    if start.date() != end.date():
        return start.date(), end.date(), None, None
    return (
        start.date(),
        end.date(),
        start.time(),
        session.ends_at.astimezone(zone).time(),
    )
