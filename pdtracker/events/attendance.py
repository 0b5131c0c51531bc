"""Attendance: a seated teacher who came is credited with a verified activity, once.

Attendance cannot be unmarked: the credited activity is a verified entry on the
teacher's record, and the registration keeps the link (unique in the database) so it
is credited exactly once. A wrong mark is corrected on the activity itself (a head
rejects it), which leaves the audit trail intact. A recurring event's attendance
credits its hours once.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import select

from pdtracker.activities.models import (
    Activity,
    ActivityRole,
    ActivitySource,
    ActivityStatus,
)
from pdtracker.audit import record
from pdtracker.auth.models import User
from pdtracker.events.errors import RegistrationError
from pdtracker.events.models import Event, Registration, RegistrationStatus
from pdtracker.events.services import actor_id
from pdtracker.extensions import db
from pdtracker.locking import lock_or_404
from pdtracker.timeutil import app_zone


def mark_attended(
    registration: Registration, actor: User | None, now: datetime
) -> Activity | None:
    """Credit the teacher with a verified activity, exactly once; None if already done."""
    lock_or_404(registration)
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
    registration.marked_by_id = actor_id(actor)
    registration.updated_at = now
    db.session.flush()
    record(
        actor_id(actor), "registration.attend", "registration", registration.id,
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
    """The verified activity that credits one teacher's attendance of the event."""
    place = event.location or event.online_url
    starts_on, ends_on, start_time, end_time = _local_span(event)
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
    event: Event,
) -> tuple[date | None, date | None, time | None, time | None]:
    """The event's first and last local day, and its local times if within one day."""
    if event.is_all_day:
        return event.start_on, event.last_day, None, None
    zone = app_zone()
    start = event.starts_at.astimezone(zone)
    # An event ending at midnight ends on the previous day.
    end = max((event.ends_at - timedelta(microseconds=1)).astimezone(zone), start)
    if start.date() != end.date():
        return start.date(), end.date(), None, None
    return start.date(), end.date(), start.time(), event.ends_at.astimezone(zone).time()
