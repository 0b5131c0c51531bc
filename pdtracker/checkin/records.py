"""Who came to which session: counts for the screens, rows for the exports.

Each read is one query, whatever the number of sessions or teachers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload

from pdtracker.auth.models import User
from pdtracker.events.models import (
    Event,
    EventSession,
    Registration,
    RegistrationStatus,
    SessionRegistration,
)
from pdtracker.extensions import db

SEATED = (RegistrationStatus.REGISTERED.value, RegistrationStatus.ATTENDED.value)


@dataclass(frozen=True)
class Place:
    """One teacher's place in one session, as the exports list it."""

    key: str
    teacher: User
    status: str
    queued_at: datetime
    attended_at: datetime | None
    source: str | None


def attendance_counts(
    event: Event, keys: Iterable[str] | None = None
) -> dict[str, tuple[int, int]]:
    """Per session key: (teachers attended, seats held), for stored sessions."""
    attended = func.sum(
        case((SessionRegistration.status == RegistrationStatus.ATTENDED, 1), else_=0)
    )
    seated = func.sum(case((SessionRegistration.status.in_(SEATED), 1), else_=0))
    query = (
        select(EventSession.key, attended, seated)
        .join(SessionRegistration, SessionRegistration.session_id == EventSession.id)
        .where(EventSession.event_id == event.id)
        .group_by(EventSession.key)
    )
    if keys is not None:
        query = query.where(EventSession.key.in_(list(keys)))
    return {key: (int(a or 0), int(s or 0)) for key, a, s in db.session.execute(query)}


def places(event: Event, key: str | None = None) -> list[Place]:
    """Every teacher's place in the event's sessions (or in one), in session order.

    Within a session: seats and attendance first, then the waitlist, then the
    cancelled, each in the order they were taken.
    """
    order = case(
        (SessionRegistration.status.in_(SEATED), 0),
        (SessionRegistration.status == RegistrationStatus.WAITLISTED, 1),
        else_=2,
    )
    query = (
        select(SessionRegistration, EventSession.key, Registration)
        .join(EventSession, EventSession.id == SessionRegistration.session_id)
        .join(Registration, Registration.id == SessionRegistration.registration_id)
        .where(EventSession.event_id == event.id)
        .options(
            joinedload(Registration.teacher).joinedload(User.teacher_profile),
            joinedload(Registration.teacher).joinedload(User.department),
            joinedload(Registration.teacher).joinedload(User.institution),
        )
        .order_by(
            EventSession.original_starts_at,
            order,
            SessionRegistration.queued_at,
            SessionRegistration.id,
        )
    )
    if key is not None:
        query = query.where(EventSession.key == key)
    return [
        Place(
            key=session_key,
            teacher=registration.teacher,
            status=place.status,
            queued_at=place.queued_at,
            attended_at=place.attended_at,
            source=place.source,
        )
        for place, session_key, registration in db.session.execute(query).unique()
    ]
