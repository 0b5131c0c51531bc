"""A registration's places in sessions: laid out, summed up, moved up the waitlist.

Each session has its own seats and waitlist (``session_registrations``). The
event-wide :class:`Registration` sums the places up (registered if any seat is
held, else waitlisted, else attended, else cancelled). A registration made before
sessions existed gets its places on first use (:func:`adopt_unsplit`). Callers
hold the event's row lock.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from pdtracker.events import notices
from pdtracker.events.models import (
    Event,
    EventSession,
    Registration,
    RegistrationStatus,
    SessionRegistration,
)
from pdtracker.events.sessions import list_sessions, session_rows
from pdtracker.extensions import db

S = RegistrationStatus
SEAT_HOLDERS = (S.REGISTERED.value, S.ATTENDED.value)


def adopt_unsplit(event: Event, now: datetime) -> None:
    """Give registrations made before sessions existed their session places.

    Such a registration held the whole event: it gets a place in every session
    with its own status (an attended one's credit stays on its first session).
    The caller holds the event's lock; one query when there is nothing to do.
    """
    has_places = (
        select(SessionRegistration.id)
        .where(SessionRegistration.registration_id == Registration.id)
        .exists()
    )
    unsplit = db.session.scalars(
        select(Registration).where(
            Registration.event_id == event.id,
            Registration.status != S.CANCELLED,
            ~has_places,
        )
    ).all()
    if not unsplit:
        return
    rows = session_rows(event, [s.key for s in list_sessions(event)], now)
    for registration in unsplit:
        for number, row in enumerate(rows.values()):
            attended = registration.status == S.ATTENDED
            db.session.add(
                SessionRegistration(
                    session_id=row.id,
                    registration_id=registration.id,
                    status=registration.status,
                    queued_at=registration.queued_at,
                    attended_at=(registration.attended_at or now) if attended else None,
                    marked_by_id=registration.marked_by_id if attended else None,
                    activity_id=registration.activity_id if number == 0 else None,
                    created_at=now,
                    updated_at=now,
                )
            )
    db.session.flush()


def seats_by_session(session_ids: list[int]) -> dict[int, int]:
    """Seats held per stored session, in one query."""
    if not session_ids:
        return {}
    rows = db.session.execute(
        select(SessionRegistration.session_id, func.count())
        .where(
            SessionRegistration.session_id.in_(session_ids),
            SessionRegistration.status.in_(SEAT_HOLDERS),
        )
        .group_by(SessionRegistration.session_id)
    )
    return {sid: int(n) for sid, n in rows}


def sync_registration(registration: Registration, now: datetime) -> None:
    """Sum the sessions up on the event-wide row (its status, attendance, credit)."""
    db.session.flush()
    places = db.session.scalars(
        select(SessionRegistration)
        .where(SessionRegistration.registration_id == registration.id)
        .order_by(SessionRegistration.session_id)
    ).all()
    statuses = {p.status for p in places if p.status != S.CANCELLED}
    if S.REGISTERED in statuses:
        status = S.REGISTERED
    elif S.WAITLISTED in statuses:
        status = S.WAITLISTED
    elif S.ATTENDED in statuses:
        status = S.ATTENDED
    else:
        status = S.CANCELLED
    registration.status = status.value
    # Always: the teacher's feed lists the sessions held, so any change is news
    # (the change listener watches registrations, not session places).
    registration.updated_at = max(now, registration.updated_at or now)
    registration.cancelled_at = (
        (registration.cancelled_at or now) if status == S.CANCELLED else None
    )
    attended = [p for p in places if p.status == S.ATTENDED]
    if attended and registration.activity_id is None:
        registration.activity_id = attended[0].activity_id
        registration.attended_at = attended[0].attended_at
        registration.marked_by_id = attended[0].marked_by_id
    db.session.flush()


def places_with_sessions(
    registration: Registration,
) -> list[tuple[SessionRegistration, EventSession]]:
    rows = db.session.execute(
        select(SessionRegistration, EventSession)
        .join(EventSession, EventSession.id == SessionRegistration.session_id)
        .where(SessionRegistration.registration_id == registration.id)
        .order_by(EventSession.original_starts_at)
        .execution_options(populate_existing=True)
    ).all()
    return [(p, s) for p, s in rows]


def promote_waitlisted(event: Event, now: datetime) -> list[SessionRegistration]:
    """Move the oldest waiting teachers into free seats, session by session.

    The caller holds the event's lock. Each promoted teacher is told once.
    """
    adopt_unsplit(event, now)
    sessions = db.session.scalars(
        select(EventSession)
        .where(
            EventSession.event_id == event.id,
            EventSession.is_cancelled.is_(False),
            EventSession.id.in_(
                select(SessionRegistration.session_id).where(
                    SessionRegistration.status == S.WAITLISTED
                )
            ),
        )
        .order_by(EventSession.original_starts_at)
    ).all()
    promoted: list[SessionRegistration] = []
    for session in sessions:
        promoted += promote_session(event, session, now)
    return promoted


def promote_session(
    event: Event, session: EventSession, now: datetime
) -> list[SessionRegistration]:
    """Fill one session's free seats from its waitlist (caller holds the lock)."""
    if now >= session.ends_at:
        return []
    query = (
        select(SessionRegistration)
        .where(
            SessionRegistration.session_id == session.id,
            SessionRegistration.status == S.WAITLISTED,
        )
        .order_by(SessionRegistration.queued_at, SessionRegistration.id)
    )
    if event.capacity is not None:
        free = event.capacity - seats_by_session([session.id]).get(session.id, 0)
        if free <= 0:
            return []
        query = query.limit(free)
    promoted = list(db.session.scalars(query))
    for place in promoted:
        place.status = S.REGISTERED.value
        place.updated_at = now
        registration = db.session.get_one(Registration, place.registration_id)
        sync_registration(registration, now)
        notices.waitlist_promoted(event, session, place, registration.teacher_id, now)
    db.session.flush()
    return promoted
