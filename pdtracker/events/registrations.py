"""Registration with a waitlist: take a seat or a waitlist place, give it up, move up.

Seats are counted under the event's row lock, so two teachers registering at the
same moment cannot both take the last seat. A recurring event (a regular seminar)
takes one registration for the whole series.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import joinedload

from pdtracker.auth.models import User
from pdtracker.events.errors import RegistrationError
from pdtracker.events.models import Event, Registration, RegistrationStatus
from pdtracker.extensions import db
from pdtracker.locking import lock_or_404

SEAT_HOLDERS = (RegistrationStatus.REGISTERED.value, RegistrationStatus.ATTENDED.value)


def seats_taken(event: Event) -> int:
    """How many teachers hold a seat (registered or attended)."""
    taken = db.session.scalar(
        select(func.count())
        .select_from(Registration)
        .where(Registration.event_id == event.id, Registration.status.in_(SEAT_HOLDERS))
    )
    return taken or 0


def _registration_of(teacher: User, event: Event) -> Registration | None:
    return db.session.scalar(
        select(Registration)
        .where(Registration.event_id == event.id, Registration.teacher_id == teacher.id)
        .execution_options(populate_existing=True)
    )


def register(teacher: User, event: Event, now: datetime) -> Registration:
    """Take a seat, or a waitlist place when the event is full."""
    lock_or_404(event)
    if not event.is_published:
        raise RegistrationError("not_open")
    if now > event.registration_closes_at:
        raise RegistrationError("closed")
    registration = _registration_of(teacher, event)
    if registration is not None and not registration.is_cancelled:
        raise RegistrationError("already_registered")
    full = event.capacity is not None and seats_taken(event) >= event.capacity
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
    lock_or_404(event)
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
        promote_waitlisted(event, now)
    return registration


def promote_waitlisted(event: Event, now: datetime) -> list[Registration]:
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
        free = event.capacity - seats_taken(event)
        if free <= 0:
            return []
        query = query.limit(free)
    promoted = list(db.session.scalars(query))
    for registration in promoted:
        registration.status = RegistrationStatus.REGISTERED.value
        registration.updated_at = now
    db.session.flush()
    return promoted


# --- reading ----------------------------------------------------------------------


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


def list_registrations(event: Event) -> list[Registration]:
    """The event's registrations, seats first, then the waitlist, then cancelled.

    Each in the order they were taken, with the teacher's profile and department
    loaded (the staff list and its exports show them).
    """
    order = case(
        (Registration.status.in_(SEAT_HOLDERS), 0),
        (Registration.status == RegistrationStatus.WAITLISTED, 1),
        else_=2,
    )
    return list(
        db.session.scalars(
            select(Registration)
            .where(Registration.event_id == event.id)
            .options(
                joinedload(Registration.teacher).joinedload(User.teacher_profile),
                joinedload(Registration.teacher).joinedload(User.department),
            )
            .order_by(order, Registration.queued_at, Registration.id)
        ).unique()
    )


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
    return (ahead or 0) + 1
