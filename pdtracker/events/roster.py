"""Reading registrations: seat and waitlist counts, the lists staff see, a
teacher's own places and waitlist position. Each in a bounded number of queries.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import joinedload

from pdtracker.auth.models import User
from pdtracker.events.models import (
    Event,
    EventSession,
    Registration,
    RegistrationStatus,
    SessionRegistration,
)
from pdtracker.events.places import SEAT_HOLDERS, places_with_sessions
from pdtracker.extensions import db

S = RegistrationStatus


def seats_taken(event: Event) -> int:
    """How many teachers hold a seat (registered or attended), event-wide."""
    taken = db.session.scalar(
        select(func.count())
        .select_from(Registration)
        .where(Registration.event_id == event.id, Registration.status.in_(SEAT_HOLDERS))
    )
    return taken or 0


def seat_counts(event_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """Per event: (seats taken, waitlist length) event-wide, in one query.

    For a single event these are its one session's; lists show a series' next
    session with :func:`session_counts`.
    """
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


def session_counts(session_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """Per stored session: (seats taken, waitlist length), in one query."""
    ids = list(session_ids)
    if not ids:
        return {}
    taken = func.sum(case((SessionRegistration.status.in_(SEAT_HOLDERS), 1), else_=0))
    waiting = func.sum(case((SessionRegistration.status == "waitlisted", 1), else_=0))
    rows = db.session.execute(
        select(SessionRegistration.session_id, taken, waiting)
        .where(SessionRegistration.session_id.in_(ids))
        .group_by(SessionRegistration.session_id)
    )
    counts = {sid: (int(t or 0), int(w or 0)) for sid, t, w in rows}
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


def my_sessions(registration: Registration | None) -> dict[str, SessionRegistration]:
    """The teacher's places in the event's sessions, by session key."""
    if registration is None:
        return {}
    return {s.key: p for p, s in places_with_sessions(registration)}


def list_registrations(event: Event) -> list[Registration]:
    """The event's registrations, seats first, then the waitlist, then cancelled.

    Each in the order they were taken, with the teacher's profile and department
    loaded (the staff list and its exports show them).
    """
    order = case(
        (Registration.status.in_(SEAT_HOLDERS), 0),
        (Registration.status == S.WAITLISTED, 1),
        else_=2,
    )
    return list(
        db.session.scalars(
            select(Registration)
            .where(Registration.event_id == event.id)
            .options(
                joinedload(Registration.teacher).joinedload(User.teacher_profile),
                joinedload(Registration.teacher).joinedload(User.department),
                joinedload(Registration.teacher).joinedload(User.institution),
            )
            .order_by(order, Registration.queued_at, Registration.id)
        ).unique()
    )


def list_session_registrations(
    event: Event, key: str
) -> list[tuple[SessionRegistration, Registration]]:
    """One session's places (seats, waitlist, cancelled) with the teachers loaded."""
    order = case(
        (SessionRegistration.status.in_(SEAT_HOLDERS), 0),
        (SessionRegistration.status == S.WAITLISTED, 1),
        else_=2,
    )
    rows = db.session.execute(
        select(SessionRegistration, Registration)
        .join(Registration, Registration.id == SessionRegistration.registration_id)
        .join(EventSession, EventSession.id == SessionRegistration.session_id)
        .where(EventSession.event_id == event.id, EventSession.key == key)
        .options(
            joinedload(Registration.teacher).joinedload(User.teacher_profile),
            joinedload(Registration.teacher).joinedload(User.department),
            joinedload(Registration.teacher).joinedload(User.institution),
        )
        .order_by(order, SessionRegistration.queued_at, SessionRegistration.id)
    ).all()
    return [(p, r) for p, r in rows]


def waitlist_position(registration: Registration) -> int | None:
    """1-based place on the waitlist, or None when not waitlisted."""
    if registration.status != S.WAITLISTED:
        return None
    ahead = db.session.scalar(
        select(func.count())
        .select_from(Registration)
        .where(
            Registration.event_id == registration.event_id,
            Registration.status == S.WAITLISTED,
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
